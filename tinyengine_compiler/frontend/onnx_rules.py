"""Pure helpers of the ONNX front end: attributes, padding, clamps, BatchNormalization folding.

Each function takes plain values (numpy arrays, tuples, one NodeProto) and returns new ones; none
touches a Graph being built.  `onnx_import` and `quantize` share them.
"""

from __future__ import annotations

import numpy as np
import onnx

from ..ir import Graph, OpKind, QParams

INT8_MIN, INT8_MAX = -128, 127


def padding(node: onnx.NodeProto, hw, kernel, stride) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of a Conv or pool.  ONNX `pads` is [x1_begin, x2_begin, x1_end,
    x2_end]; the SAME modes pad to ceil(n / stride) outputs, the odd pixel at the end (UPPER) or
    the start (LOWER)."""
    auto_pad, explicit = attr(node, "auto_pad", "NOTSET"), attr(node, "pads", [0, 0, 0, 0])
    if auto_pad == "NOTSET":
        return (int(explicit[0]), int(explicit[1]), int(explicit[2]), int(explicit[3]))
    if auto_pad == "VALID":
        return (0, 0, 0, 0)
    total = [max((-(-n // s) - 1) * s + k - n, 0) for n, k, s in zip(hw, kernel, stride)]
    small = [t // 2 for t in total]
    big = [t - sm for t, sm in zip(total, small)]
    begin, end = (small, big) if auto_pad == "SAME_UPPER" else (big, small)
    return (begin[0], begin[1], end[0], end[1])


def fold_bn(w, b, out_axis: int, gamma, beta, mean, var, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Weight and bias of conv-then-BatchNormalization as one conv (float64 math, float32 out)."""
    k = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
    w = np.asarray(w, np.float64) * np.expand_dims(k, tuple(d for d in range(np.ndim(w)) if d != out_axis))
    b = (np.asarray(b, np.float64) - mean) * k + beta
    return w.astype(np.float32), b.astype(np.float32)


def attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            v = onnx.helper.get_attribute_value(a)
            return v.decode() if isinstance(v, bytes) else v
    return default


def int8_clamp(lo: float, hi: float, qp: QParams) -> dict:
    s, z = qp.scale[0], qp.zero_point[0]
    act_min = INT8_MIN if lo == -np.inf else max(INT8_MIN, z + int(np.round(lo / s)))
    act_max = INT8_MAX if hi == np.inf else min(INT8_MAX, z + int(np.round(hi / s)))
    return {"act_min": act_min, "act_max": act_max}


def float_clamp(lo: float, hi: float) -> dict:
    return {"act_min": None if lo == -np.inf else float(lo), "act_max": None if hi == np.inf else float(hi)}


def is_channel_addend(shape, channels: int, conv: bool) -> bool:
    """Whether a constant of ONNX `shape` added to a Conv's [N, C, H, W] (`conv`) or a
    MatMul/Gemm's [N, C] output adds one value a channel (or one value to all), so that it is a
    bias; any other shape broadcasts along another axis."""
    shape = tuple(int(d) for d in shape)
    if all(d == 1 for d in shape):
        return True
    return shape in ((channels, 1, 1), (1, channels, 1, 1)) if conv else shape in ((channels,), (1, channels))


def to_nhwc(shape) -> tuple[int, ...]:
    return (shape[0], shape[2], shape[3], shape[1]) if len(shape) == 4 else tuple(shape)


def prune(g: Graph) -> Graph:
    """Drop nodes (and tensors) that do not feed the output, e.g. an unused branch."""
    needed, keep = set(g.outputs), []
    for node in reversed(g.nodes):
        if needed & set(node.outputs):
            keep.append(node)
            needed |= set(node.inputs)
    used = needed | set(g.inputs)
    tensors = {k: t for k, t in g.tensors.items() if k in used}
    return Graph(g.name, tensors, keep[::-1], g.inputs, g.outputs)


def classifier_as_fully_connected(g: Graph) -> Graph:
    """The classifier in its one IR form: when the logits come from a CONV2D with a 1x1 kernel
    on a 1x1 map (no padding; a Flatten or Reshape after it is already a no-op), it becomes the
    FULLY_CONNECTED it computes: weight [O, 1, 1, I] -> [O, I], output [N, 1, 1, O] -> [N, O].
    The same integer sums, so the same outputs.  Any other graph is returned as it is."""
    node = next((n for n in g.nodes if g.outputs[0] in n.outputs), None)
    if node is None or node.op != OpKind.CONV2D:
        return g
    x, w, y = (g.tensors[n] for n in (node.inputs[0], node.inputs[1], node.outputs[0]))
    if x.shape[1:3] != (1, 1) or w.shape[1:3] != (1, 1) or any(node.attrs["pads"]):
        return g
    g = g.copy()
    node = g.producer(g.outputs[0])
    w, y = g.tensors[node.inputs[1]], g.tensors[node.outputs[0]]
    w.data, w.shape = w.data.reshape(w.shape[0], w.shape[3]), (w.shape[0], w.shape[3])
    y.shape = (y.shape[0], y.shape[3])
    node.op = OpKind.FULLY_CONNECTED
    node.attrs = {k: v for k, v in node.attrs.items() if k in ("act_min", "act_max")}
    return g
