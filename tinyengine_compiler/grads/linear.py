"""Rules for FULLY_CONNECTED: y = clamp(w @ flatten(x) + bias) -> dz = clamp_grad(dy),
dx = reshape(w^T dz), dw = dz x^T, dbias = dz.

The classifier skips the first step: the loss reads its real logits z, before requantization
and clamp (grads/loss.py), so autodiff hands the loss's gradient dz to `linear_grad` as it is,
with no clamp to stop it."""

from __future__ import annotations

from ..ir import Node, OpKind
from ..registry import implements
from . import Builder
from .elementwise import clamp_grad


@implements(OpKind.FULLY_CONNECTED, "gradient")
def fully_connected_grad(b: Builder, node: Node, gy: str) -> list:
    """y = clamp(fully_connected(x, w, bias)) -> [dx, dw, dbias]."""
    return linear_grad(b, node, clamp_grad(b, node, gy))


def linear_grad(b: Builder, node: Node, gz: str) -> list:
    """z = fully_connected(x, w, bias), its real value before requantization and clamp ->
    [dx, dw, dbias] from gz = dL/dz."""
    dx = b.emit(f"{node.name}.grad_input", OpKind.FULLY_CONNECTED_GRAD_INPUT, [gz, node.inputs[1]],
                {"input_shape": tuple(b.g.tensors[node.inputs[0]].shape)}, out=b.grad_name(node, 0))
    dw = b.emit(f"{node.name}.grad_weight", OpKind.FULLY_CONNECTED_GRAD_WEIGHT, [node.inputs[0], gz],
                {"channels": None}, out=b.grad_name(node, 1))
    db = b.emit(f"{node.name}.grad_bias", OpKind.BIAS_GRAD, [gz], out=b.grad_name(node, 2))
    return [dx, dw, db]
