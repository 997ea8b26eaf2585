"""SGD_UPDATE: the parameter step, in the parameter's stored representation.

Inputs: the stored parameter (weights: float32 master W_bar, or int8; biases: int32), the real
gradient dL/dP (float32, only the `channels` columns for a partial update), the float32
`grad_scale` per output channel (s for the chain rule into the int8 domain, s^-1 after QAS) and
the learning rate.  In float32, with one rounding per operation:

    g_bar = grad * grad_scale[c];  step = lr * g_bar;
    with momentum mu:  v = mu * v + g_bar;  step = lr * v                  (v: float32 velocity)
    new = P - step                                                         (float32 storage)
    new = saturate(P - (int64) clamp(round(step), +-2^32))               (int8 / int32 storage)

on the trained columns only; other entries are returned unchanged.  round is round_half_away,
or with the node's `rounding` "stochastic" floor(step) + 1 with probability step - floor(step):
element i of the gradient (C order, the kernel's order) compares draw `draws + i`
(uniform_draws) with step - floor(step), so a call takes grad.size draws (sgd_draws).  A float32 master or an
int32 bias moves outward not past +-MASTER_LIMIT / +-BIAS_LIMIT, or past where it already is
(so that training cannot overflow a kernel's int32 accumulator, nor make a master infinite),
and a NaN step leaves the parameter as it is (runtime_c/include/internal/tte_train_common.h, whose
limits these are).

With the node's `step_clip` c (weights only; absent: off), each row of the step (axis 0: an
output channel of a conv or FC weight, the whole kernel of a depthwise one) whose largest
|step| S exceeds the bound B = c * max(largest |P| over the same elements, 1) (NaN ignored in
both) is scaled to it: step = step * (B / S), in float32 (c * max(...), then B / S, then the
product: one rounding each); with momentum, the velocities the row stored this step become
v * (B / S) too, so that a clipped spike does not live on in them.  An infinite S scales its
row's finite steps to 0 and its infinite ones to NaN, which leave their elements.  P and the
step are in the stored domain (int8 steps), so the bound is in int8 steps too: a guard against
the oversized step that throws a run out of its basin (docs/numerics.md, docs/sparse_update.md).

lr is the step's rate times the node's `lr_scale` (a bias's bias_lr_scale; 1 when absent), one
float32 multiply as tte_train_step makes it.  With `momentum`, the velocity v (one float32 per
gradient element, 0 at the start) is advanced in place; a velocity that would not be finite is
not stored and its step is NaN, so neither it nor the parameter moves.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements

BIAS_LIMIT = 1 << 30        # TTE_BIAS_LIMIT
MASTER_LIMIT = 32768.0      # TTE_MASTER_LIMIT
ROUNDINGS = ("nearest", "stochastic")


def _bounded(old: np.ndarray, new: np.ndarray, limit) -> np.ndarray:
    """new, moved outward not past +-limit or past old, whichever is further out."""
    return np.clip(new, np.minimum(old, -limit), np.maximum(old, limit))


def round_half_away(v: np.ndarray) -> np.ndarray:
    """C's roundf: to nearest, ties away from zero, exact (no v + 0.5 rounding step); an
    infinite v stays itself."""
    whole = np.trunc(v)
    with np.errstate(invalid="ignore"):   # inf - inf: NaN, never >= 0.5
        return whole + np.where(np.abs(v - whole) >= 0.5, np.sign(v), 0).astype(v.dtype)


def uniform_draws(start: int, n: int) -> np.ndarray:
    """Draws start, start + 1, ... (mod 2^32) of stochastic rounding, float32 in [0, 1):
    tte_train_common.h's tte_uniform_draw, the same integer hash of the counter."""
    x = (np.uint32(start % (1 << 32)) + np.arange(n, dtype=np.uint64).astype(np.uint32)).astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x21F0AAAD)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x735A2D97)
    x ^= x >> np.uint32(15)
    return (x >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)


def rounds_stochastically(node: Node) -> bool:
    """Whether SGD_UPDATE `node` rounds its steps stochastically (its `rounding`)."""
    return node.attrs.get("rounding") == "stochastic"


def sgd_draws(node: Node, grad: np.ndarray) -> int:
    """The draws an update takes: one an element of its gradient when it rounds stochastically."""
    return int(np.asarray(grad).size) if rounds_stochastically(node) else 0


def _rounded(step: np.ndarray, stochastic: bool, draws: int | None) -> np.ndarray:
    if not stochastic:
        return round_half_away(step)
    if draws is None:
        raise ValueError("a stochastic-rounding update needs its draws counter")
    whole = np.floor(step)
    u = uniform_draws(draws, step.size).reshape(step.shape)
    with np.errstate(invalid="ignore"):   # inf - inf is NaN: no draw is below it, as in the C
        return np.where(u < step - whole, whole + np.float32(1), whole).astype(np.float32)


def step_lr(node: Node, lr: float) -> np.float32:
    """The rate `node` steps at: lr times its lr_scale, in float32."""
    return np.float32(np.float32(lr) * np.float32(node.attrs.get("lr_scale", 1.0)))


def has_momentum(node: Node) -> bool:
    """Whether SGD_UPDATE `node` keeps a velocity (its `momentum`)."""
    return bool(node.attrs.get("momentum"))


def _direction(node: Node, g_bar: np.ndarray, velocity: np.ndarray | None) -> np.ndarray:
    """g_bar, or with momentum the new velocity (stored into `velocity` where finite, NaN where not)."""
    if not has_momentum(node):
        return g_bar
    if velocity is None or velocity.shape != g_bar.shape or velocity.dtype != np.float32:
        raise ValueError(f"update '{node.name}' has momentum: it needs a float32 velocity shaped like its gradient")
    with np.errstate(over="ignore", invalid="ignore"):
        v = np.float32(node.attrs["momentum"]) * velocity + g_bar
    finite = np.isfinite(v)
    velocity[finite] = v[finite]
    return np.where(finite, v, np.float32(np.nan)).astype(np.float32)


def per_channel(values: np.ndarray, axis: int | None, ndim: int, cols) -> np.ndarray:
    """Per-channel float32 `values` (one, or one a channel along `axis`) shaped to broadcast over
    an update's `ndim`-dimensional gradient of the trained columns `cols`: along a last axis
    (depthwise 1HWC) the channels are the columns, so only the trained ones are kept."""
    values = np.asarray(values, np.float32)
    if len(values) == 1:
        return values.reshape([1] * ndim)
    shape = [1] * ndim
    shape[axis] = -1
    return (values[cols] if axis == ndim - 1 else values).reshape(shape)


def clipped_step(step: np.ndarray, old: np.ndarray, clip: float) -> tuple[np.ndarray, np.ndarray]:
    """(`step` with each row (axis 0) whose largest |step| exceeds clip * max(largest |old|, 1)
    scaled down to that bound, the factor each element was scaled by: B / S, or 1): the module
    docstring; both in the stored domain, shaped alike."""
    rows = step.shape[0]
    row_shape = (rows,) + (1,) * (step.ndim - 1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        largest = np.where(np.isnan(step), np.float32(0), np.abs(step)).reshape(rows, -1).max(axis=1)
        magnitude = np.abs(old.astype(np.float32))   # a NaN master is ignored, as the C's comparison does
        weight = np.where(np.isnan(magnitude), np.float32(0), magnitude).reshape(rows, -1).max(axis=1)
        bound = np.float32(clip) * np.maximum(weight, np.float32(1))
        over = largest > bound
        factor = np.where(over, bound / np.where(over, largest, np.float32(1)), np.float32(1)).astype(np.float32)
        factor = np.broadcast_to(factor.reshape(row_shape), step.shape)
        scaled = np.where(over.reshape(row_shape), step * factor, step).astype(np.float32)
    return scaled, factor


@implements(OpKind.SGD_UPDATE, "reference")
def sgd_update(g: Graph, node: Node, param: np.ndarray, grad: np.ndarray, grad_scale: np.ndarray,
               lr: float, draws: int | None = None, velocity: np.ndarray | None = None) -> np.ndarray:
    """The parameter after the step (see the module docstring); `draws` is the stochastic-rounding
    counter before this update (advance it by sgd_draws afterwards); `velocity`, for an update
    with momentum, is advanced in place."""
    qp = g.tensors[node.inputs[0]].qparams
    cols = slice(None) if node.attrs.get("channels") is None else list(node.attrs["channels"])
    g_bar = grad.astype(np.float32) * per_channel(grad_scale, qp.axis, grad.ndim, cols)
    with np.errstate(over="ignore", invalid="ignore"):
        step = step_lr(node, lr) * _direction(node, g_bar, velocity)
    out = np.array(param, copy=True)
    storage = node.attrs["storage"]
    old = out[..., cols]
    if node.attrs.get("step_clip"):
        stored = ~np.isnan(step)   # with momentum, where _direction stored a (finite) velocity
        step, factor = clipped_step(step, old, node.attrs["step_clip"])
        if has_momentum(node):
            scaled = stored & (factor != np.float32(1))
            velocity[scaled] = (velocity * factor)[scaled]
    nan = np.isnan(step)
    if storage == "float32":
        old = old.astype(np.float32)
        moved = old - step
        out[..., cols] = np.where(nan | np.isnan(moved), old, _bounded(old, moved, np.float32(MASTER_LIMIT)))
        return out
    rounded = _rounded(np.where(nan, np.float32(0), step).astype(np.float32), rounds_stochastically(node), draws)
    delta = np.clip(rounded.astype(np.float64), -2.0 ** 32, 2.0 ** 32)
    moved = old.astype(np.int64) - delta.astype(np.int64)
    if storage == "int8":
        out[..., cols] = np.clip(moved, -128, 127).astype(out.dtype)
    else:
        out[..., cols] = _bounded(old.astype(np.int64), moved, BIAS_LIMIT).astype(out.dtype)
    return out
