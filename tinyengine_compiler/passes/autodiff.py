"""autodiff: append the backward graph (loss, every gradient, one SGD update per parameter).

Takes: a verified int8 forward Graph with one output, the logits [1, K] (as the front ends and
`replace_classifier` produce).  Every forward op must have a rule in `grads/`.

Guarantees: a verified Graph holding the forward nodes unchanged, then
  * the graph input `label` (int32 [1]) and the node `loss` (SOFTMAX_CROSS_ENTROPY) with outputs
    `<logits>.grad` and `loss`;
  * for every forward node in reverse order, the backward nodes its rule emits; a tensor read by
    several nodes gets its contributions summed (GRAD_ACCUMULATE) into `<tensor>.grad` before its
    producer's rule reads it;
  * for every weight and bias, an SGD_UPDATE `<param>.sgd_update` (attrs layer, param
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

import numpy as np

from ..errors import UnsupportedError
from ..grads import Builder, rule_for
from ..grads.loss import softmax_cross_entropy
from ..ir import DType, Graph, OpKind, Tensor
from ..ir.verify import verify


def autodiff(g: Graph, *, label_smoothing: float = 0.0) -> Graph:
    if g.tensors[g.inputs[0]].dtype != DType.INT8:
        raise UnsupportedError(f"graph '{g.name}' is a float model; training needs an int8 model")
    if len(g.outputs) != 1 or len(g.tensors[g.outputs[0]].shape) != 2:
        raise UnsupportedError(f"graph '{g.name}' must have one output of logits [1, classes] to train")
    forward = list(g.nodes)
    b = Builder(g.copy())
    logits = g.outputs[0]
    contributions: dict[str, list[str]] = {logits: [softmax_cross_entropy(b, logits, label_smoothing)]}
    for node in reversed(forward):
        gy = _summed(b, node.outputs[0], contributions.pop(node.outputs[0], []))
        if gy is None:
            continue
        for name, grad in zip(node.inputs, rule_for(node.op)(b, node, gy)):
            if grad is None or name in g.inputs:
                continue
            if g.tensors[name].is_constant:
                _sgd_update(b, node.name, name, grad, "weight" if name == node.inputs[1] else "bias")
            else:
                contributions.setdefault(name, []).append(grad)
    b.g.outputs = [logits, "loss"]
    return verify(b.g)


def _summed(b: Builder, tensor: str, parts: list[str]) -> str | None:
    """One gradient tensor from the contributions of every reader, summed in emission order."""
    if not parts:
        return None
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
