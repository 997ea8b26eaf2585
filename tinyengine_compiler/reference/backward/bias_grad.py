"""BIAS_GRAD: gz [..., C] float -> [C], the sum over every other axis.  Order: starts at +0;
the rows of gz flattened to [P, C] (row-major: for NHWC, pixel by pixel) are added in order."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import add_in_order, real


@implements(OpKind.BIAS_GRAD, "reference")
def bias_grad(g: Graph, node: Node, gz: np.ndarray, *, dtype) -> np.ndarray:
    rows = real(g, node.inputs[0], gz, dtype).reshape(-1, np.shape(gz)[-1])
    return add_in_order(np.zeros(rows.shape[1], dtype=dtype), lambda r: rows[r], rows.shape[0])
