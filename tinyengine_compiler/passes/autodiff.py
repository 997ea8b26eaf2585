"""autodiff: append the backward graph (loss, every gradient, one SGD update per parameter).

Takes: a verified int8 forward Graph with one output, the logits [1, K] of a FULLY_CONNECTED
classifier (as the front ends and `replace_classifier` produce), and optionally `trained`, the
names of the parameters that will train.  With `trained`, only the forward nodes a trained parameter reaches (it is one of their
inputs, or flows into one through the forward graph) get backward nodes: the backward graph
starts at the loss and stops at the earliest trained layer, so an op with no rule in `grads/`
is an error (UnsupportedError naming the op, the node and a trained layer below it) only where
a kept gradient must pass through it.  Without `trained` every forward op must have a rule.

Guarantees: a verified Graph holding the forward nodes unchanged, then
  * the node `<classifier>.real_logits` (REAL_LOGITS: the classifier's logits before
    requantization and clamp, float32, output of the same name), the graph input `label`
    (int32 [1]) and the node `loss` (SOFTMAX_CROSS_ENTROPY) reading them, with outputs
    `<classifier>.real_logits.grad` and `loss` (grads/loss.py);
  * for every forward node in reverse order (with `trained`: every one a trained parameter
    reaches), the backward nodes its rule emits; the classifier's are those of
    grads/linear.py `linear_grad` from the real logits' gradient (no clamp); a tensor read by
    several nodes gets its contributions summed (GRAD_ACCUMULATE) into `<tensor>.grad` before its
    producer's rule reads it;
  * for every weight and bias (with `trained`: of the nodes that get backward nodes), an
    SGD_UPDATE `<param>.sgd_update` (attrs layer, param
    "weight"/"bias", channels None, storage "float32" for weights / "int32" for biases,
    qas False) reading the constant `<param>.grad_scale` = the parameter's float32 scale per
    output channel, the chain-rule factor into the int8 domain (dL/dW_bar = s_w dL/dW).
The graph's outputs become [logits, loss].  Backward tensors are float32; the saved int8
activations and weights are read as they are (kernels dequantize them).

Leaves to later passes: choosing what trains and removing every partial nobody needs
(`sparse_update`), the QAS factor (`qas`), ordering and memory.

Paper: section 2 (compile-time autodiff of the training graph, "moving auto-diff to compile
time"), with the int8 forward and float backward of section 3.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from ..errors import UnsupportedError
from ..grads import Builder, rule_for, trainable_ops
from ..grads.linear import linear_grad
from ..grads.loss import classifier, real_logits, softmax_cross_entropy
from ..ir import DType, Graph, OpKind, Tensor
from ..ir.verify import verify


def autodiff(g: Graph, *, label_smoothing: float = 0.0, trained: Collection[str] | None = None) -> Graph:
    if g.tensors[g.inputs[0]].dtype != DType.INT8:
        raise UnsupportedError(f"graph '{g.name}' is a float model; training needs an int8 model")
    if len(g.outputs) != 1 or len(g.tensors[g.outputs[0]].shape) != 2:
        raise UnsupportedError(f"graph '{g.name}' must have one output of logits [1, classes] to train")
    forward = list(g.nodes)
    below = _trained_below(g, trained)
    b = Builder(g.copy())
    head = classifier(g)
    gz = softmax_cross_entropy(b, real_logits(b, head), label_smoothing)
    contributions: dict[str, list[str]] = {}
    for node in reversed(forward):
        parts = contributions.pop(node.outputs[0], [])
        if (not parts and node is not head) or (below is not None and node.outputs[0] not in below):
            continue   # no gradient reaches it, or none is needed below it
        # the classifier's gradient is the loss's on its real logits, not through its clamp
        grads = linear_grad(b, node, gz) if node is head else _rule(node, below)(
            b, node, _summed(b, node.outputs[0], parts))
        for name, grad in zip(node.inputs, grads):
            if grad is None or name in g.inputs:
                continue
            if g.tensors[name].is_constant:
                _sgd_update(b, node.name, name, grad, "weight" if name == node.inputs[1] else "bias")
            else:
                contributions.setdefault(name, []).append(grad)
    b.g.outputs = [g.outputs[0], "loss"]
    return verify(b.g)


def _rule(node, below: dict[str, str] | None):
    """The gradient rule of `node`, or an UnsupportedError naming it and a trained layer below."""
    try:
        return rule_for(node.op)
    except UnsupportedError:
        needed = f" to train {below[node.outputs[0]]}" if below is not None else ""
        raise UnsupportedError(f"node '{node.name}' ({node.op.value}) has no gradient rule, and the gradient "
                               f"must pass through it{needed}; supported for training: "
                               f"{', '.join(sorted(op.value for op in trainable_ops()))}") from None


def _trained_below(g: Graph, trained: Collection[str] | None) -> dict[str, str] | None:
    """Output tensor -> the name of a layer with a trained parameter at or below the node that
    makes it (a trained parameter is one of its inputs, or reaches one through the forward
    graph); None when every node gets its gradient."""
    if trained is None:
        return None
    below: dict[str, str] = {}
    for node in g.nodes:
        layer = node.name if set(trained) & set(node.inputs) else next(
            (below[i] for i in node.inputs if i in below), None)
        if layer is not None:
            below.update(dict.fromkeys(node.outputs, layer))
    return below


def _summed(b: Builder, tensor: str, parts: list[str]) -> str:
    """One gradient tensor from the contributions (at least one) of every reader, summed in
    emission order."""
    total = parts[0]
    for k, part in enumerate(parts[1:], 1):
        last = k == len(parts) - 1
        total = b.emit(f"{tensor}.grad_accumulate{'' if last else k}", OpKind.GRAD_ACCUMULATE, [total, part],
                       out=f"{tensor}.grad" if last else None)
    return total


def _sgd_update(b: Builder, layer: str, param: str, grad: str, kind: str) -> None:
    t = b.g.tensors[param]
    scale = Tensor(f"{param}.grad_scale", (len(t.qparams.scale),), DType.FLOAT32,
                   data=np.asarray(t.qparams.scale, dtype=np.float32))
    b.g.tensors[scale.name] = scale
    out = b.emit(f"{param}.sgd_update", OpKind.SGD_UPDATE, [param, grad, scale.name],
                 {"layer": layer, "param": kind, "channels": None,
                  "storage": "float32" if kind == "weight" else "int32", "qas": False},
                 out=f"{param}.updated")
    b.g.tensors[out].dtype, b.g.tensors[out].qparams = t.dtype, t.qparams
