"""Rules for CONV2D (also the 1x1 pointwise convs) and DEPTHWISE_CONV2D.

y = clamp(conv(x, w) + bias): dz = clamp_grad(dy), then dx = conv^T(dz, w), dw = corr(x, dz),
dbias = sum of dz over the pixels.  The weight gradient carries `channels` = None (all input
channels); `sparse_update` narrows it to the trained ones.
"""

from __future__ import annotations

from ..errors import UnsupportedError
from ..ir import Node, OpKind
from ..registry import implements
from . import Builder
from .elementwise import clamp_grad


def _conv_like(b: Builder, node: Node, gy: str, grad_input: OpKind, grad_weight: OpKind) -> list:
    if node.attrs.get("dilation", (1, 1)) != (1, 1):
        raise UnsupportedError(f"{node.name}: no gradient rule for {node.op.value} with dilation")
    w = b.g.tensors[node.inputs[1]]
    conv = {"stride": tuple(node.attrs["stride"]), "pads": tuple(node.attrs["pads"])}
    gz = clamp_grad(b, node, gy)
    dx = b.emit(f"{node.name}.grad_input", grad_input, [gz, node.inputs[1]],
                {**conv, "input_shape": tuple(b.g.tensors[node.inputs[0]].shape)}, out=b.grad_name(node, 0))
    dw = b.emit(f"{node.name}.grad_weight", grad_weight, [node.inputs[0], gz],
                {**conv, "kernel": tuple(w.shape[1:3]), "channels": None}, out=b.grad_name(node, 1))
    db = b.emit(f"{node.name}.grad_bias", OpKind.BIAS_GRAD, [gz], out=b.grad_name(node, 2))
    return [dx, dw, db]


@implements(OpKind.CONV2D, "gradient")
def conv2d_grad(b: Builder, node: Node, gy: str) -> list:
    """y = clamp(conv2d(x, w, bias)) -> [dx, dw, dbias]."""
    return _conv_like(b, node, gy, OpKind.CONV2D_GRAD_INPUT, OpKind.CONV2D_GRAD_WEIGHT)


@implements(OpKind.DEPTHWISE_CONV2D, "gradient")
def depthwise_conv2d_grad(b: Builder, node: Node, gy: str) -> list:
    """y = clamp(depthwise_conv2d(x, w, bias)) -> [dx, dw, dbias]."""
    return _conv_like(b, node, gy, OpKind.DEPTHWISE_CONV2D_GRAD_INPUT, OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT)
