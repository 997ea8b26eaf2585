"""GRAD_ACCUMULATE: a, b float of the same shape -> a + b."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import real


@implements(OpKind.GRAD_ACCUMULATE, "reference")
def grad_accumulate(g: Graph, node: Node, a: np.ndarray, b: np.ndarray, *, dtype) -> np.ndarray:
    return real(g, node.inputs[0], a, dtype) + real(g, node.inputs[1], b, dtype)
