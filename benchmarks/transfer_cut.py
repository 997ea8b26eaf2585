"""Split a training problem at its frozen prefix, so a benchmark runs the prefix once per image.

`frozen_cut(g, scheme, num_classes, seed)` gives the forward graph with its new head, the scheme
spelled out by layer name (so it means the same on any part of the graph), and `cut`: the last
tensor before the first trained layer that separates the graph (every later node reads only
it, later tensors and constants), or None when the first layer trains.  `split_at(g, cut)`
returns (prefix graph: input -> cut, suffix graph: cut -> logits).

Training the suffix on the prefix's outputs is exactly training the whole graph: backward
never reaches the prefix, and the prefix's int8 outputs depend only on the image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tinyengine_compiler.ir import Graph
from tinyengine_compiler.ir.ops import BACKWARD_OPS
from tinyengine_compiler.pipeline import for_classes
from tinyengine_compiler.scheme import ALL, UpdateScheme, resolve


@dataclass(frozen=True)
class Head:
    graph: Graph           # the forward graph with the task's new classifier
    cut: str | None


def frozen_cut(g: Graph, scheme: UpdateScheme, num_classes: int, seed: int) -> tuple[Head, UpdateScheme]:
    g, scheme = for_classes(g, scheme, num_classes, seed)
    resolved = resolve(scheme, g)
    weights = []
    for layer, u in resolved.items():
        if u.channels is not None:
            full = len(u.channels) == g.tensors[g.node(layer).inputs[1]].shape[-1]
            weights.append((layer, 1.0 if full else u.channels))
    # every other field (storage, rounding, optimizer) carries over; layers by name, as numbers
    # would name other layers of the suffix graph
    explicit = replace(scheme, name=f"{scheme.name} (by layer)", n_bias_update=0, num_convs=None,
                       biases=tuple(l for l, u in resolved.items() if u.bias), weights=tuple(weights),
                       momentum_layers=ALL if scheme.momentum_layers == ALL else
                       tuple(l for l, u in resolved.items() if u.momentum))
    forward = [n for n in g.nodes if n.op not in BACKWARD_OPS]
    first = min(i for i, n in enumerate(forward) if n.name in resolved)
    constants = {name for name, t in g.tensors.items() if t.is_constant}
    for j in range(first - 1, -1, -1):
        cut = forward[j].outputs[0]
        later = {t for n in forward[j + 1:] for t in n.outputs}
        if all(set(n.inputs) <= later | constants | {cut} for n in forward[j + 1:]):
            return Head(g, cut), explicit
    return Head(g, None), explicit


def split_at(g: Graph, cut: str) -> tuple[Graph, Graph]:
    j = next(i for i, n in enumerate(g.nodes) if cut in n.outputs)

    def part(name, nodes, inputs, outputs):
        used = {t for n in nodes for t in n.inputs + n.outputs}
        return Graph(name, {k: t for k, t in g.tensors.items() if k in used},
                     [n for n in nodes], list(inputs), list(outputs)).copy()

    return (part(f"{g.name}.prefix", g.nodes[:j + 1], g.inputs, [cut]),
            part(f"{g.name}.suffix", g.nodes[j + 1:], [cut], g.outputs))
