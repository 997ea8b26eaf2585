"""Run an int8 IR graph on one input with numpy: the golden model the generated C must match.

Takes a Graph whose activations are int8 with per-tensor QParams (as the front ends produce and
`ir.verify` accepts) and one int8 NHWC input of the graph input's shape.  Guarantees every op's
output bit for bit as the C runtime computes it (docs/numerics.md), in the graph's node order.
Nodes run through their op's `reference` (registry.py); an op without one is an UnsupportedError.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, UnsupportedError
from ..ir import DType, Graph
from ..registry import part_of
from . import ops  # noqa: F401  (registers the reference ops)


def run_graph_all(g: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every tensor's value after one forward pass: constants, the input and each node output."""
    _check_input(g, x)
    values = {name: t.data for name, t in g.tensors.items() if t.is_constant}
    values[g.inputs[0]] = np.asarray(x)
    for node in g.nodes:
        fn = part_of(node.op, "reference", f"node '{node.name}': the reference executor")
        out_t = g.tensors[node.outputs[0]]
        if out_t.dtype != DType.INT8:
            raise UnsupportedError(f"node '{node.name}': the reference executor runs int8 graphs only, "
                                   f"output is {out_t.dtype.value}")
        try:
            out = fn(g, node, *(values[i] for i in node.inputs))
        except ValueError as e:  # quantize_multiplier refusing a scale ratio above 2^30
            raise UnsupportedError(f"node '{node.name}': {e}") from None
        values[node.outputs[0]] = out.reshape(out_t.shape)
    return values


def run_graph(g: Graph, x: np.ndarray) -> np.ndarray:
    """The graph's single output (int8 logits [1, classes] for a classifier)."""
    if len(g.outputs) != 1:
        raise UnsupportedError(f"graph '{g.name}' has {len(g.outputs)} outputs; run_graph needs exactly one")
    return run_graph_all(g, x)[g.outputs[0]]


def _check_input(g: Graph, x: np.ndarray) -> None:
    if len(g.inputs) != 1:
        raise UnsupportedError(f"graph '{g.name}' has {len(g.inputs)} inputs; the executor needs exactly one")
    t = g.tensors[g.inputs[0]]
    if t.dtype != DType.INT8:
        raise UnsupportedError(f"graph input '{t.name}' is {t.dtype.value}; the reference executor runs int8 graphs only")
    if np.asarray(x).dtype != np.int8 or tuple(np.shape(x)) != tuple(t.shape):
        raise ConfigError(f"input must be int8 of shape {list(t.shape)} (NHWC), got "
                          f"{np.asarray(x).dtype} {list(np.shape(x))}")
