"""CONCAT and CHANNEL_SELECT: int8 channel moves (NHWC last axis).

CONCAT(x1, ..., xk): the inputs' channels in order; CHANNEL_SELECT(x): y[..., j] =
x[..., channels[j]].  A value whose input and output quantization differ is moved to the
output's: clamp(requantize(x - zp_in, s_in / s_out) + zp_out), one fixed-point rounding
(`rescale`); equal quantization copies it.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ..requant import clamp_s8, multipliers, requantize
from ._common import tensor_qparams


def rescale(g: Graph, src: str, dst: str, x: np.ndarray) -> np.ndarray:
    """int8 values of tensor `src` in the quantization of tensor `dst`."""
    s_in, zp_in = tensor_qparams(g, src)
    s_out, zp_out = tensor_qparams(g, dst)
    if (s_in, zp_in) == (s_out, zp_out):
        return np.asarray(x).astype(np.int64)
    mult, shift = multipliers(np.array([np.float64(s_in) / np.float64(s_out)]))
    return clamp_s8(requantize(np.asarray(x).astype(np.int64) - zp_in, mult, shift) + zp_out, -128, 127)


@implements(OpKind.CONCAT, "reference")
def concat(g: Graph, node: Node, *xs: np.ndarray) -> np.ndarray:
    return np.concatenate([rescale(g, name, node.outputs[0], x) for name, x in zip(node.inputs, xs)], axis=-1)


@implements(OpKind.CHANNEL_SELECT, "reference")
def channel_select(g: Graph, node: Node, x: np.ndarray) -> np.ndarray:
    return rescale(g, node.inputs[0], node.outputs[0], np.asarray(x)[..., list(node.attrs["channels"])])
