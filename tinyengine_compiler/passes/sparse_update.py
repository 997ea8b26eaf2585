"""sparse_update: keep only the backward nodes that the trained parameters need.

Takes: a graph from `autodiff` (one SGD_UPDATE per parameter, weight gradients over every input
channel) and the resolved scheme `{layer: LayerUpdate(bias, channels)}` of
`scheme.resolve` (layer names checked against the graph).

Guarantees: a verified graph where
  * an SGD_UPDATE remains only for a trained parameter: a bias whose layer has bias=True, a
    weight whose layer has channels; its `storage` is `weight_storage` for weights; every
    update stored as int8 or int32 carries `rounding` (nearest or stochastic, the step's); an
    update whose layer has momentum carries `momentum` (its SGD keeps a float32 velocity per
    trained element); a bias update carries `lr_scale` = bias_lr_scale when that is not 1
    (it steps at lr * lr_scale); a weight update carries `step_clip` when that is not 0 (each
    row's step is scaled down to at most step_clip times max(the row's largest |weight|, 1),
    reference/backward/sgd_update.py);
  * a partial weight update (fewer channels than the weight has input channels) carries
    `channels` on both its SGD_UPDATE and the weight-gradient node, whose output keeps only
    those input channels (so backward reads only those channels of the saved activation);
  * every other backward node is kept only if a kept update (or the loss value) reads its
    output, directly or not: backward stops at the earliest trained layer, frozen weights get
    no gradient, nothing below the earliest trained layer gets an input gradient;
  * tensors that no node reads or writes any more are removed.
The forward nodes are untouched.

Leaves to later passes: QAS (`qas`), ordering, in-place updates and memory planning.

Paper: section 2.3 (sparse update: bias of the last layers, a subset of weights, partial
channels) and section 2 (pruning the training graph at compile time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..grads.loss import LOSS
from ..ir import Graph, OpKind
from ..ir.ops import BACKWARD_OPS
from ..ir.verify import verify
from ..scheme import LayerUpdate, check_step_clip

STORAGE_BYTES = {"float32": 4, "int8": 1, "int32": 4}


def sparse_update(g: Graph, trained: Mapping[str, LayerUpdate], *, weight_storage: str = "int8",
                  rounding: str = "nearest", bias_lr_scale: float = 1.0, step_clip: float = 0.0) -> Graph:
    check_step_clip(step_clip, "step_clip")   # a scheme made in code is checked as a JSON one is
    g = g.copy()
    kept_updates = []
    for node in g.nodes:
        if node.op != OpKind.SGD_UPDATE:
            continue
        u = trained.get(node.attrs["layer"])
        if node.attrs["param"] == "bias" and u is not None and u.bias:
            kept_updates.append(node)
        elif node.attrs["param"] == "weight" and u is not None and u.channels is not None:
            kept_updates.append(node)
            node.attrs["storage"] = weight_storage
            if len(u.channels) < g.tensors[node.inputs[0]].shape[-1]:
                _narrow(g, node, u.channels)
    for node in kept_updates:
        if node.attrs["storage"] != "float32":   # a float32 master takes its step unrounded
            node.attrs["rounding"] = rounding
        if trained[node.attrs["layer"]].momentum:
            node.attrs["momentum"] = trained[node.attrs["layer"]].momentum
        if node.attrs["param"] == "bias" and bias_lr_scale != 1.0:
            node.attrs["lr_scale"] = bias_lr_scale
        if node.attrs["param"] == "weight" and step_clip:
            node.attrs["step_clip"] = step_clip
    g.nodes = _live(g, kept_updates)
    used = set(g.inputs) | set(g.outputs) | {t for n in g.nodes for t in n.inputs + n.outputs}
    g.tensors = {name: t for name, t in g.tensors.items() if name in used}
    return verify(g)


def _narrow(g: Graph, update, channels: tuple[int, ...]) -> None:
    update.attrs["channels"] = tuple(channels)
    grad_node = g.producer(update.inputs[1])
    grad_node.attrs["channels"] = tuple(channels)
    grad = g.tensors[update.inputs[1]]
    grad.shape = (*grad.shape[:-1], len(channels))


def _live(g: Graph, kept_updates: list) -> list:
    """Forward nodes, plus the backward nodes whose outputs the kept updates or the loss need."""
    keep = {id(n) for n in kept_updates}
    needed = {t for n in kept_updates for t in n.inputs}
    for node in reversed(g.nodes):
        if node.op in BACKWARD_OPS and (id(node) in keep or node.name == LOSS or needed & set(node.outputs)):
            keep.add(id(node))
            needed |= set(node.inputs)
    return [n for n in g.nodes if n.op not in BACKWARD_OPS or id(n) in keep]


@dataclass(frozen=True)
class TrainedParam:
    name: str
    layer: str
    elements: int          # trained entries (partial updates: only the trained columns)
    bytes: int             # stored bytes of those entries (float32 master 4, int8 1, int32 bias 4)


def trained_params(g: Graph) -> list[TrainedParam]:
    """The trained parameters of a pruned training graph, with what storing them costs."""
    out = []
    for n in g.nodes:
        if n.op == OpKind.SGD_UPDATE:
            elements = g.tensors[n.inputs[1]].size
            out.append(TrainedParam(n.inputs[0], n.attrs["layer"], elements, elements * STORAGE_BYTES[n.attrs["storage"]]))
    return out
