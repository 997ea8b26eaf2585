"""Rules for the pools.

GLOBAL_AVG_POOL: y = mean over H, W of x (its requantization is the identity in the real domain
and it has no clamp beyond int8 saturation, which the average of int8 values never reaches)
-> dx = dy / (H * W) at every pixel.

AVG_POOL2D: y = the mean of each window's valid taps -> each window's dy / its count, added to
its taps (AVG_POOL2D_GRAD).  Like the global pool it has no fused clamp: with the output's own
quantization the average never saturates, and a requantized one is taken as the identity.

MAX_POOL2D: y = the largest valid tap of each window -> each window's dy to that tap, the first
largest in row-major order (MAX_POOL2D_GRAD, which reads the saved input: the C keeps only the
index of each window's tap, one byte, so a window has at most 256 taps).  Requantization is
taken as the identity, as everywhere.
"""

from __future__ import annotations

from ..errors import UnsupportedError
from ..ir import Node, OpKind
from ..registry import implements
from . import Builder

MAX_POOL_TAPS = 256   # the tap index of a window is one byte (tte_max_pool2d_argmax_s8)


@implements(OpKind.GLOBAL_AVG_POOL, "gradient")
def global_avg_pool_grad(b: Builder, node: Node, gy: str) -> list:
    """y = global_avg_pool(x) -> [dx]."""
    return [b.emit(f"{node.name}.grad_input", OpKind.GLOBAL_AVG_POOL_GRAD, [gy],
                   {"input_shape": tuple(b.g.tensors[node.inputs[0]].shape)}, out=b.grad_name(node, 0))]


@implements(OpKind.AVG_POOL2D, "gradient")
def avg_pool2d_grad(b: Builder, node: Node, gy: str) -> list:
    """y = avg_pool2d(x) -> [dx]."""
    attrs = {k: tuple(node.attrs[k]) for k in ("kernel", "stride", "pads")}
    return [b.emit(f"{node.name}.grad_input", OpKind.AVG_POOL2D_GRAD, [gy],
                   {**attrs, "input_shape": tuple(b.g.tensors[node.inputs[0]].shape)}, out=b.grad_name(node, 0))]


@implements(OpKind.MAX_POOL2D, "gradient")
def max_pool2d_grad(b: Builder, node: Node, gy: str) -> list:
    """y = max_pool2d(x) -> [dx]."""
    kh, kw = node.attrs["kernel"]
    if kh * kw > MAX_POOL_TAPS:
        raise UnsupportedError(f"node '{node.name}': a gradient through a MaxPool of {kh}x{kw} taps is not supported "
                               f"(at most {MAX_POOL_TAPS})")
    attrs = {k: tuple(node.attrs[k]) for k in ("kernel", "stride", "pads")}
    return [b.emit(f"{node.name}.grad_input", OpKind.MAX_POOL2D_GRAD, [gy, node.inputs[0]],
                   {**attrs, "input_shape": tuple(b.g.tensors[node.inputs[0]].shape), "forward": node.name},
                   out=b.grad_name(node, 0))]
