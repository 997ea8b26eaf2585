"""Gradient rules: one per differentiable forward OpKind, each registered as its op's `gradient`
(registry.py), which `passes/autodiff.py` reads.

A rule is `rule(b: Builder, node: Node, gy: str) -> list[str | None]`: given the forward node and
the name of the float32 tensor holding dL/d(node output), it emits backward nodes through the
Builder and returns, per forward input, the name of the tensor holding that input's gradient
(None where there is none).  A rule emits IR, it never computes numbers; it emits every partial,
and `passes/sparse_update.py` prunes what the update scheme does not need.

Gradients are taken in the real domain of the straight-through forward: real = scale * (q - zp),
requantization is the identity and the fused clamp is a clamp at the real values of act_min and
act_max.  This is why there is no rule for requantization: it has no op of its own in the IR
and its gradient is the identity (see grads/elementwise.py).
"""

from __future__ import annotations

from typing import Callable

from ..errors import UnsupportedError
from ..ir import DType, Graph, Node, OpKind, Tensor
from ..ir.ops import BACKWARD_OPS
from ..ir.shapes import output_shape
from ..registry import REGISTRY, ops_with

Rule = Callable[["Builder", Node, str], list]


def trainable_ops() -> frozenset[OpKind]:
    """The forward ops a gradient can pass through (the ops with a rule)."""
    return ops_with("gradient")


def rule_for(op: OpKind) -> Rule:
    rule = REGISTRY[op].gradient
    if rule is None:
        raise UnsupportedError(f"no gradient rule for {op.value}: this op cannot be trained through")
    return rule


class Builder:
    """Appends float32 backward nodes to a graph (mutated in place: autodiff owns a copy)."""

    def __init__(self, g: Graph):
        self.g = g

    def emit(self, name: str, op: OpKind, inputs: list[str], attrs: dict | None = None,
             out: str | None = None) -> str:
        """Add node `name` with one float32 output (named `out`, or `<name>.out`) whose shape comes
        from the op's shape rule.  Returns the output name."""
        new = Node(name, op, list(inputs), [out or f"{name}.out"], dict(attrs or {}))
        self.g.nodes.append(new)
        self.g.tensors[new.outputs[0]] = Tensor(new.outputs[0], (), DType.FLOAT32)
        self.g.tensors[new.outputs[0]].shape = tuple(output_shape(self.g, new))
        return new.outputs[0]

    def grad_name(self, node: Node, i: int) -> str:
        """Name of the gradient contribution `node` makes to its input i: `<input>.grad`, or for a
        tensor read by several nodes `<input>.grad.<node>` (autodiff sums them into `<input>.grad`)."""
        t = node.inputs[i]
        readers = [n for n in self.g.nodes if t in n.inputs and n.op not in BACKWARD_OPS]
        if self.g.tensors[t].is_constant or len(readers) == 1:
            return f"{t}.grad"
        return f"{t}.grad.{node.name}"


# the rule files register themselves on import
from . import activations, channels, conv, elementwise, linear, pool  # noqa: E402,F401
