"""Output-shape rules, one per OpKind, used by the front ends and by `verify`."""

from __future__ import annotations

from .graph import Graph, Node
from .ops import OpKind


def conv_out_hw(h: int, w: int, kernel: tuple[int, int], stride: tuple[int, int],
                pads: tuple[int, int, int, int]) -> tuple[int, int]:
    top, left, bottom, right = pads
    return ((h + top + bottom - kernel[0]) // stride[0] + 1,
            (w + left + right - kernel[1]) // stride[1] + 1)


def output_shape(g: Graph, node: Node) -> tuple[int, ...]:
    """The shape `node` produces from its inputs' shapes."""
    x = g.tensors[node.inputs[0]].shape
    if node.op in (OpKind.CONV2D, OpKind.DEPTHWISE_CONV2D, OpKind.FUSED_EXPAND_DEPTHWISE):
        w = g.tensors[node.inputs[1 if node.op != OpKind.FUSED_EXPAND_DEPTHWISE else 3]].shape
        oh, ow = conv_out_hw(x[1], x[2], (w[1], w[2]), node.attrs["stride"], node.attrs["pads"])
        cout = w[0] if node.op == OpKind.CONV2D else w[3]  # depthwise weights are 1HWC
        return (x[0], oh, ow, cout)
    if node.op == OpKind.FULLY_CONNECTED:
        return (x[0], g.tensors[node.inputs[1]].shape[0])
    if node.op in (OpKind.ADD, OpKind.LUT, OpKind.MUL):
        return x
    if node.op == OpKind.GLOBAL_AVG_POOL:
        return (x[0], 1, 1, x[3])
    if node.op == OpKind.CONCAT:
        return (*x[:-1], sum(g.tensors[i].shape[-1] for i in node.inputs))
    if node.op == OpKind.CHANNEL_SELECT:
        return (*x[:-1], len(node.attrs["channels"]))
    if node.op in (OpKind.AVG_POOL2D, OpKind.MAX_POOL2D):
        oh, ow = conv_out_hw(x[1], x[2], node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"])
        return (x[0], oh, ow, x[3])
    return _backward_output_shape(g, node)


def _backward_output_shape(g: Graph, node: Node) -> tuple[int, ...]:
    """Shape rules of the backward ops (the first output's shape)."""
    shape = g.tensors[node.inputs[0]].shape
    if node.op in (OpKind.SOFTMAX_CROSS_ENTROPY, OpKind.CLAMP_GRAD, OpKind.GRAD_ACCUMULATE, OpKind.SGD_UPDATE,
                   OpKind.LUT_GRAD):
        return shape
    if node.op in (OpKind.CONV2D_GRAD_INPUT, OpKind.DEPTHWISE_CONV2D_GRAD_INPUT,
                   OpKind.FULLY_CONNECTED_GRAD_INPUT, OpKind.GLOBAL_AVG_POOL_GRAD, OpKind.AVG_POOL2D_GRAD,
                   OpKind.MAX_POOL2D_GRAD):
        return tuple(node.attrs["input_shape"])
    if node.op in (OpKind.GRAD_MOVE_CHANNELS, OpKind.MUL_GRAD):
        return tuple(node.attrs["output_shape"])
    if node.op == OpKind.BIAS_GRAD:
        return (shape[-1],)
    if node.op == OpKind.REAL_LOGITS:
        return (shape[0], g.tensors[node.inputs[1]].shape[0])
    if node.op in (OpKind.CONV2D_GRAD_WEIGHT, OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT, OpKind.FULLY_CONNECTED_GRAD_WEIGHT):
        channels = node.attrs.get("channels")
        n = len(channels) if channels is not None else (
            g.tensors[node.inputs[0]].size if node.op == OpKind.FULLY_CONNECTED_GRAD_WEIGHT else shape[-1])
        gz = g.tensors[node.inputs[1]].shape
        if node.op == OpKind.CONV2D_GRAD_WEIGHT:
            return (gz[-1], *node.attrs["kernel"], n)
        if node.op == OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT:
            return (1, *node.attrs["kernel"], n)
        return (gz[-1], n)
    raise KeyError(f"no shape rule for {node.op.value}")
