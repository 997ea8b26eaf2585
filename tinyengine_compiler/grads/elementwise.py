"""Rules for the element-wise ops and for the parts fused into every int8 op.

* The fused clamp (ReLU / ReLU6 / int8 saturation, `act_min`..`act_max` in the output's int8
  domain): dz = dy where act_min < y < act_max, else 0, with y the saved int8 output.  Every op
  with a clamp calls `clamp_grad` first.
* Requantization (output scale and zero point) is the identity in the real domain, so its
  gradient is the identity: no node is emitted for it.
* ADD: y = clamp(a + b) in the real domain -> [dz, dz].
"""

from __future__ import annotations

from ..ir import Node, OpKind
from ..registry import implements
from . import Builder


def clamp_grad(b: Builder, node: Node, gy: str) -> str:
    """dL/dz, z = the op's value before its fused clamp, from dL/dy and the saved output y."""
    return b.emit(f"{node.name}.clamp_grad", OpKind.CLAMP_GRAD, [gy, node.outputs[0]],
                  {"act_min": node.attrs.get("act_min"), "act_max": node.attrs.get("act_max")},
                  out=f"{node.name}.preact.grad")


@implements(OpKind.ADD, "gradient")
def add_grad(b: Builder, node: Node, gy: str) -> list:
    """y = clamp(a + b) -> [da, db] = [dz, dz]."""
    gz = clamp_grad(b, node, gy)
    return [gz, gz]
