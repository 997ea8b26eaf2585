"""The training-graph pipeline: forward graph + scheme -> the graph the trainer (and later the
C generator) runs.  Steps, in order: replace_classifier (fine-tuning to N classes), autodiff,
sparse_update, qas."""

from __future__ import annotations

from ..ir import Graph
from ..passes.autodiff import autodiff
from ..passes.qas import qas
from ..passes.replace_classifier import replace_classifier
from ..passes.sparse_update import sparse_update
from .config import UpdateScheme, resolve


def for_classes(g: Graph, scheme: UpdateScheme, num_classes: int | None, seed: int = 0) -> tuple[Graph, UpdateScheme]:
    """With num_classes, a new seeded classifier that trains in full; otherwise unchanged."""
    if num_classes is None:
        return g, scheme
    return replace_classifier(g, num_classes, seed), scheme.training_in_full("classifier")


def training_graph(g: Graph, scheme: UpdateScheme, *, use_qas: bool = True,
                   label_smoothing: float = 0.0) -> tuple[Graph, Graph]:
    """(the backward graph before pruning, the pruned training graph).  Autodiff builds the
    backward of the nodes above the earliest trained layer only (passes/autodiff.py), so a
    frozen op without a gradient rule below it does not matter."""
    trained = resolve(scheme, g)
    params = [g.node(layer).inputs[i] for layer, u in trained.items()
              for i, kept in ((1, u.channels is not None), (2, u.bias)) if kept]
    full = autodiff(g, label_smoothing=label_smoothing, trained=params)
    pruned = sparse_update(full, trained, weight_storage=scheme.weight_storage, rounding=scheme.rounding)
    return full, (qas(pruned) if use_qas else pruned)
