"""SGD_UPDATE: the parameter step, in the parameter's stored representation.

Inputs: the stored parameter (weights: float32 master W_bar, or int8; biases: int32), the real
gradient dL/dP (float32, only the `channels` columns for a partial update), the float32
`grad_scale` per output channel (s for the chain rule into the int8 domain, s^-1 after QAS) and
the learning rate.  In float32, with one rounding per operation:

    g_bar = grad * grad_scale[c];  step = lr * g_bar;
    new = P - step                                                         (float32 storage)
    new = saturate(P - (int64) clamp(round_half_away(step), +-2^32))      (int8 / int32 storage)

on the trained columns only; other entries are returned unchanged.  A float32 master or an
int32 bias moves outward not past +-MASTER_LIMIT / +-BIAS_LIMIT, or past where it already is
(so that training cannot overflow a kernel's int32 accumulator, nor make a master infinite),
and a NaN step leaves the parameter as it is (runtime_c/include/tte_train_common.h, whose
limits these are).
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node

BIAS_LIMIT = 1 << 30        # TTE_BIAS_LIMIT
MASTER_LIMIT = 32768.0      # TTE_MASTER_LIMIT


def _bounded(old: np.ndarray, new: np.ndarray, limit) -> np.ndarray:
    """new, moved outward not past +-limit or past old, whichever is further out."""
    return np.clip(new, np.minimum(old, -limit), np.maximum(old, limit))


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
    nan = np.isnan(step)
    old = out[..., cols]
    if storage == "float32":
        old = old.astype(np.float32)
        moved = old - step
        out[..., cols] = np.where(nan | np.isnan(moved), old, _bounded(old, moved, np.float32(MASTER_LIMIT)))
        return out
    delta = np.clip(round_half_away(np.where(nan, 0, step)).astype(np.float64), -2.0 ** 32, 2.0 ** 32)
    moved = old.astype(np.int64) - delta.astype(np.int64)
    if storage == "int8":
        out[..., cols] = np.clip(moved, -128, 127).astype(out.dtype)
    else:
        out[..., cols] = _bounded(old.astype(np.int64), moved, BIAS_LIMIT).astype(out.dtype)
    return out
