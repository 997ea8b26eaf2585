"""The closed set of IR operations and the attributes each one takes.

Layouts: activations NHWC; CONV2D weights OHWI; DEPTHWISE_CONV2D weights 1HWC (depth
multiplier 1); FULLY_CONNECTED weights [out, in].  Every int8 op carries its fused output clamp
(`act_min`, `act_max`, in the output's int8 domain): ReLU and ReLU6 are expressed that way, as
TFLite and CMSIS-NN do.  The output tensor's QParams hold the output quantization.

| op               | inputs                 | attributes                                  |
|------------------|------------------------|---------------------------------------------|
| CONV2D           | x, w, bias             | stride (h, w), pads (top, left, bottom, right), act_min, act_max |
| DEPTHWISE_CONV2D | x, w, bias             | same as CONV2D                               |
| FULLY_CONNECTED  | x, w, bias             | act_min, act_max (x is flattened in NHWC order) |
| ADD              | a, b                   | act_min, act_max (both inputs requantized)   |
| GLOBAL_AVG_POOL  | x                      | none (output is [1, 1, 1, C])               |
| AVG_POOL2D       | x                      | kernel (h, w), stride (h, w), pads; padding is not counted |
| MAX_POOL2D       | x                      | kernel (h, w), stride (h, w), pads; padding never wins; output requantized when its qparams differ |
| CONCAT           | x1, ..., xk            | none: the inputs' channels in order (NHWC last axis), each requantized to the output's qparams |
| CHANNEL_SELECT   | x                      | channels: y[..., j] = x[..., channels[j]] (a slice, a split part, a channel shuffle), requantized when the qparams differ |
| LUT              | x                      | function, alpha, beta, lo, hi (ir/activations.py); int8: table [256], slope [256] |
| MUL              | a, b                   | act_min, act_max; b of a's shape or [1, 1, 1, C] (broadcast: squeeze-excite) |
| FUSED_EXPAND_DEPTHWISE | x, w1, b1, w2, b2 | the depthwise conv's stride, pads, act_min, act_max; the 1x1 expand conv's expand_act_min, expand_act_max; mid_scale, mid_zero_point (the expanded tensor's quantization); fused_from (the two node names) |

FUSED_EXPAND_DEPTHWISE is a 1x1 CONV2D (stride 1, no padding) followed by a DEPTHWISE_CONV2D,
computed two expanded channels at a time so that the expanded tensor is never held whole
(passes/fuse_frozen_prefix.py); its output is bit-identical to the pair's.  A DEPTHWISE_CONV2D
may carry `in_place=True` (passes/inplace.py): its output overwrites its input, one channel at a
time through a scratch buffer.  Any node may carry `in_place=<input name>`: its output reuses
that input's bytes (checked by passes/lifetimes.py).

Backward ops (appended by passes/autodiff.py; float32 tensors, int8 saved activations and
weights are dequantized where read; semantics and summation order in docs/numerics.md):

| op                            | inputs              | attributes / output                       |
|-------------------------------|---------------------|-------------------------------------------|
| REAL_LOGITS                   | x (saved), w, bias  | scale -> the classifier's real logits [N, out], float32(acc[o]) * scale[o] |
| SOFTMAX_CROSS_ENTROPY         | logits, label       | label_smoothing -> [logits grad, loss (1,)] |
| CLAMP_GRAD                    | gy, y (saved)       | act_min, act_max: gy where act_min < y < act_max |
| CONV2D_GRAD_INPUT             | gz, w               | stride, pads, input_shape -> dx           |
| CONV2D_GRAD_WEIGHT            | x (saved), gz       | stride, pads, kernel, channels -> dw [O, KH, KW, n] |
| DEPTHWISE_CONV2D_GRAD_INPUT   | gz, w               | stride, pads, input_shape -> dx           |
| DEPTHWISE_CONV2D_GRAD_WEIGHT  | x (saved), gz       | stride, pads, kernel, channels -> dw [1, KH, KW, n] |
| FULLY_CONNECTED_GRAD_INPUT    | gz, w               | input_shape -> dx                         |
| FULLY_CONNECTED_GRAD_WEIGHT   | x (saved), gz       | channels -> dw [out, n]                   |
| BIAS_GRAD                     | gz                  | -> [C], the sum over all but the last axis |
| GLOBAL_AVG_POOL_GRAD          | gy                  | input_shape -> gy / (H * W) broadcast     |
| AVG_POOL2D_GRAD               | gy                  | kernel, stride, pads, input_shape -> each window's gy / its count, to its taps |
| MAX_POOL2D_GRAD               | gy, x (saved)       | kernel, stride, pads, input_shape -> each window's gy to its first largest tap |
| LUT_GRAD                      | gy, x (saved)       | slope (int8 x: slope[x + 128]), function, alpha, beta, lo, hi -> gy * dy/dx |
| MUL_GRAD                      | gz, other (saved)   | output_shape -> gz * other, summed over the pixels where output_shape is [1, 1, 1, C] |
| GRAD_MOVE_CHANNELS            | gy                  | in_channels, out_channels (None: 0, 1, ...), output_shape -> +0 but out[..., out_channels[j]] = gy[..., in_channels[j]] |
| GRAD_ACCUMULATE               | a, b                | -> a + b                                  |
| SGD_UPDATE                    | param, grad, grad_scale | layer, param, channels, storage, qas -> updated param |

REAL_LOGITS reads the inputs of the FULLY_CONNECTED classifier that makes the graph's logits:
acc is that node's exact int32 accumulator (bias + sum (x - zp_in) * w, saturated to int32),
before requantization and clamp, and scale[o] = float32(s_in * s_w[o]) (float64 product, rounded
once).  The loss reads these real logits, not the clamped int8 ones (grads/loss.py).

`channels` is None (every input channel) or the sorted tuple of trained input channels (the
last weight axis); `grad_scale` is float32 per output channel (dL/dW_bar = grad_scale * dL/dW).

Float32 graphs (an unquantized ONNX model) use the same ops with `act_min`/`act_max` as float
bounds (or None for no clamp).
"""

from __future__ import annotations

import enum


class OpKind(str, enum.Enum):
    CONV2D = "CONV2D"
    DEPTHWISE_CONV2D = "DEPTHWISE_CONV2D"
    FULLY_CONNECTED = "FULLY_CONNECTED"
    ADD = "ADD"
    GLOBAL_AVG_POOL = "GLOBAL_AVG_POOL"
    AVG_POOL2D = "AVG_POOL2D"
    MAX_POOL2D = "MAX_POOL2D"
    CONCAT = "CONCAT"
    CHANNEL_SELECT = "CHANNEL_SELECT"
    LUT = "LUT"
    MUL = "MUL"
    FUSED_EXPAND_DEPTHWISE = "FUSED_EXPAND_DEPTHWISE"
    # backward (training) ops
    REAL_LOGITS = "REAL_LOGITS"
    SOFTMAX_CROSS_ENTROPY = "SOFTMAX_CROSS_ENTROPY"
    CLAMP_GRAD = "CLAMP_GRAD"
    CONV2D_GRAD_INPUT = "CONV2D_GRAD_INPUT"
    CONV2D_GRAD_WEIGHT = "CONV2D_GRAD_WEIGHT"
    DEPTHWISE_CONV2D_GRAD_INPUT = "DEPTHWISE_CONV2D_GRAD_INPUT"
    DEPTHWISE_CONV2D_GRAD_WEIGHT = "DEPTHWISE_CONV2D_GRAD_WEIGHT"
    FULLY_CONNECTED_GRAD_INPUT = "FULLY_CONNECTED_GRAD_INPUT"
    FULLY_CONNECTED_GRAD_WEIGHT = "FULLY_CONNECTED_GRAD_WEIGHT"
    BIAS_GRAD = "BIAS_GRAD"
    GLOBAL_AVG_POOL_GRAD = "GLOBAL_AVG_POOL_GRAD"
    AVG_POOL2D_GRAD = "AVG_POOL2D_GRAD"
    MAX_POOL2D_GRAD = "MAX_POOL2D_GRAD"
    GRAD_MOVE_CHANNELS = "GRAD_MOVE_CHANNELS"
    LUT_GRAD = "LUT_GRAD"
    MUL_GRAD = "MUL_GRAD"
    GRAD_ACCUMULATE = "GRAD_ACCUMULATE"
    SGD_UPDATE = "SGD_UPDATE"


CONV_OPS = frozenset({OpKind.CONV2D, OpKind.DEPTHWISE_CONV2D})
WEIGHTED_OPS = frozenset({OpKind.CONV2D, OpKind.DEPTHWISE_CONV2D, OpKind.FULLY_CONNECTED})
BACKWARD_OPS = frozenset({
    OpKind.REAL_LOGITS, OpKind.SOFTMAX_CROSS_ENTROPY, OpKind.CLAMP_GRAD,
    OpKind.CONV2D_GRAD_INPUT, OpKind.CONV2D_GRAD_WEIGHT, OpKind.DEPTHWISE_CONV2D_GRAD_INPUT,
    OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT,
    OpKind.FULLY_CONNECTED_GRAD_INPUT, OpKind.FULLY_CONNECTED_GRAD_WEIGHT, OpKind.BIAS_GRAD,
    OpKind.GLOBAL_AVG_POOL_GRAD, OpKind.AVG_POOL2D_GRAD, OpKind.MAX_POOL2D_GRAD, OpKind.GRAD_MOVE_CHANNELS,
    OpKind.LUT_GRAD, OpKind.MUL_GRAD, OpKind.GRAD_ACCUMULATE, OpKind.SGD_UPDATE})


def is_pointwise(filter_shape, pads) -> bool:
    """A CONV2D with a 1x1 kernel and no padding: the pointwise kernels (channel pairs outer,
    pixels inner) run it; every other CONV2D runs through the generic kernel, which writes its
    output rows in order (the row-banded in-place conv of passes/inplace.py relies on that)."""
    return tuple(filter_shape[1:3]) == (1, 1) and not any(pads)
