"""The backward reference kernels: OpKind -> function, one op a file.

Every function takes (graph, node, *input arrays in node.inputs order, dtype) and returns the
output array (SOFTMAX_CROSS_ENTROPY returns (gradient, loss)).  Inputs may be int8/int32
(quantized: saved activations, weights; dequantized here by `_common.real`) or floating point
(already real: backward tensors, or the float64 values of the gradient checker); REAL_LOGITS
reads the int8 ones as integers (the classifier's exact accumulator).  With
dtype=float32 the arithmetic is the one the C must reproduce bit for bit: every reduction runs
in a fixed, documented order with a float32 accumulator, never through np.sum / np.dot /
matmul, and no fused multiply-add (docs/numerics.md, "Training numerics").  dtype=float64 runs
the same code for the gradient checker.  SGD_UPDATE is not here: it changes the stored
parameters (`sgd_update.py`, called by the trainer).
"""

from __future__ import annotations

from ...ir import OpKind
from .avg_pool2d_grad import avg_pool2d_grad
from .bias_grad import bias_grad
from .channels import grad_move_channels
from .clamp_grad import clamp_grad
from .conv2d_grad_input import conv2d_grad_input
from .conv2d_grad_weight import conv2d_grad_weight
from .depthwise_conv2d_grad_input import depthwise_conv2d_grad_input
from .depthwise_conv2d_grad_weight import depthwise_conv2d_grad_weight
from .fully_connected_grad_input import fully_connected_grad_input
from .fully_connected_grad_weight import fully_connected_grad_weight
from .global_avg_pool_grad import global_avg_pool_grad
from .max_pool2d_grad import max_pool2d_grad
from .mul import mul_grad
from .grad_accumulate import grad_accumulate
from .lut import lut_grad
from .real_logits import real_logits
from .softmax_cross_entropy import softmax_cross_entropy

BACKWARD_OPS = {
    OpKind.REAL_LOGITS: real_logits,
    OpKind.SOFTMAX_CROSS_ENTROPY: softmax_cross_entropy,
    OpKind.CLAMP_GRAD: clamp_grad,
    OpKind.CONV2D_GRAD_INPUT: conv2d_grad_input,
    OpKind.CONV2D_GRAD_WEIGHT: conv2d_grad_weight,
    OpKind.DEPTHWISE_CONV2D_GRAD_INPUT: depthwise_conv2d_grad_input,
    OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT: depthwise_conv2d_grad_weight,
    OpKind.FULLY_CONNECTED_GRAD_INPUT: fully_connected_grad_input,
    OpKind.FULLY_CONNECTED_GRAD_WEIGHT: fully_connected_grad_weight,
    OpKind.BIAS_GRAD: bias_grad,
    OpKind.GLOBAL_AVG_POOL_GRAD: global_avg_pool_grad,
    OpKind.AVG_POOL2D_GRAD: avg_pool2d_grad,
    OpKind.MAX_POOL2D_GRAD: max_pool2d_grad,
    OpKind.GRAD_MOVE_CHANNELS: grad_move_channels,
    OpKind.LUT_GRAD: lut_grad,
    OpKind.MUL_GRAD: mul_grad,
    OpKind.GRAD_ACCUMULATE: grad_accumulate,
}
