"""Rules for the channel moves, whose requantization is the identity in the real domain.

CONCAT: y = [x1, ..., xk] along channels -> dx_i = gy[..., the channels of x_i].
CHANNEL_SELECT: y = x[..., channels] -> dx = +0 with dx[..., channels[j]] = gy[..., j] (the
channels are distinct).  Both are GRAD_MOVE_CHANNELS nodes.
"""

from __future__ import annotations

from ..ir import Node, OpKind
from ..registry import implements
from . import Builder


@implements(OpKind.CONCAT, "gradient")
def concat_grad(b: Builder, node: Node, gy: str) -> list:
    """y = concat(x1, ..., xk) -> [dx1, ..., dxk]."""
    out, start = [], 0
    for i, name in enumerate(node.inputs):
        shape = tuple(b.g.tensors[name].shape)
        out.append(b.emit(f"{node.name}.grad_input{i}", OpKind.GRAD_MOVE_CHANNELS, [gy],
                          {"in_channels": tuple(range(start, start + shape[-1])), "out_channels": None,
                           "output_shape": shape}, out=b.grad_name(node, i)))
        start += shape[-1]
    return out


@implements(OpKind.CHANNEL_SELECT, "gradient")
def channel_select_grad(b: Builder, node: Node, gy: str) -> list:
    """y = x[..., channels] -> [dx]."""
    return [b.emit(f"{node.name}.grad_input", OpKind.GRAD_MOVE_CHANNELS, [gy],
                   {"in_channels": None, "out_channels": tuple(node.attrs["channels"]),
                    "output_shape": tuple(b.g.tensors[node.inputs[0]].shape)}, out=b.grad_name(node, 0))]
