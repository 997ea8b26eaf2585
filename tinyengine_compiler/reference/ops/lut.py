"""LUT: x int8 -> table[x + 128], the activation's int8 values (ir/activations.py)."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements


@implements(OpKind.LUT, "reference")
def lut(g: Graph, node: Node, x: np.ndarray) -> np.ndarray:
    return np.asarray(node.attrs["table"], dtype=np.int64)[np.asarray(x).astype(np.int64) + 128]
