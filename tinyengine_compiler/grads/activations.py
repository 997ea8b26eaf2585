"""Rules for LUT (an element-wise activation) and MUL (element-wise or squeeze-excite product).

LUT: y = f(x) -> dx = gy * f'(x) (LUT_GRAD reads the saved input; the int8 output's saturation
zeroes the slope, as a fused clamp would).  MUL: y = clamp(a * b) -> dz = clamp_grad(dy), then
da = dz * b and db = dz * a (MUL_GRAD, reading the other operand; summed over the pixels for
the broadcast [N, 1, 1, C] operand).
"""

from __future__ import annotations

from ..ir import Node, OpKind
from ..registry import implements
from . import Builder
from .elementwise import clamp_grad

LUT_ATTRS = ("function", "alpha", "beta", "lo", "hi", "slope")   # what LUT_GRAD reads


@implements(OpKind.LUT, "gradient")
def lut_grad(b: Builder, node: Node, gy: str) -> list:
    """y = f(x) -> [dx]."""
    attrs = {k: node.attrs[k] for k in LUT_ATTRS if k in node.attrs}
    attrs["forward_output"] = node.outputs[0]   # whose int8 range saturates the slope
    return [b.emit(f"{node.name}.grad_input", OpKind.LUT_GRAD, [gy, node.inputs[0]], attrs, out=b.grad_name(node, 0))]


@implements(OpKind.MUL, "gradient")
def mul_grad(b: Builder, node: Node, gy: str) -> list:
    """y = clamp(a * b) -> [da, db]."""
    gz = clamp_grad(b, node, gy)
    return [b.emit(f"{node.name}.grad_input{i}", OpKind.MUL_GRAD, [gz, node.inputs[1 - i]],
                   {"output_shape": tuple(b.g.tensors[node.inputs[i]].shape)}, out=b.grad_name(node, i))
            for i in (0, 1)]
