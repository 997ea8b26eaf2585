"""SGD_UPDATE: the parameter step, in the parameter's stored representation.

Inputs: the stored parameter (weights: float32 master W_bar, or int8; biases: int32), the real
gradient dL/dP (float32, only the `channels` columns for a partial update), the float32
`grad_scale` per output channel (s for the chain rule into the int8 domain, s^-1 after QAS) and
the learning rate.  In float32, with one rounding per operation:

    g_bar = grad * grad_scale[c];  step = lr * g_bar;  new = P - step      (float32 storage)
    new = saturate(P - (int64) clamp(round_half_away(step), +-2^32))      (int8 / int32 storage)

on the trained columns only; other entries are returned unchanged.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node

_RANGES = {"int8": (-128, 127), "int32": (-(1 << 31), (1 << 31) - 1)}


def round_half_away(v: np.ndarray) -> np.ndarray:
    """C's roundf: to nearest, ties away from zero, exact (no v + 0.5 rounding step)."""
    whole = np.trunc(v)
    return whole + np.where(np.abs(v - whole) >= 0.5, np.sign(v), 0).astype(v.dtype)


def sgd_update(g: Graph, node: Node, param: np.ndarray, grad: np.ndarray, grad_scale: np.ndarray,
               lr: float) -> np.ndarray:
    qp = g.tensors[node.inputs[0]].qparams
    cols = slice(None) if node.attrs.get("channels") is None else list(node.attrs["channels"])
    shape = [1] * grad.ndim
    if len(grad_scale) > 1:
        shape[qp.axis] = -1
        if qp.axis == grad.ndim - 1:  # depthwise 1HWC: the scales run along the trained columns
            grad_scale = grad_scale[cols]
    step = np.float32(lr) * (grad.astype(np.float32) * grad_scale.astype(np.float32).reshape(shape))
    out = np.array(param, copy=True)
    storage = node.attrs["storage"]
    if storage == "float32":
        out[..., cols] = out[..., cols].astype(np.float32) - step
        return out
    lo, hi = _RANGES[storage]
    delta = np.clip(round_half_away(step).astype(np.float64), -2.0 ** 32, 2.0 ** 32).astype(np.int64)
    out[..., cols] = np.clip(out[..., cols].astype(np.int64) - delta, lo, hi).astype(out.dtype)
    return out
