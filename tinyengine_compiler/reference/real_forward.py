"""The straight-through real forward: the oracle the gradient checker differentiates numerically.

Takes a forward IR graph and real (floating) values for its input and constants; computes each
forward node in the real domain: weights dequantized, requantization the identity (no
rounding), the fused clamp at the real values scale * (act_min - zp) .. scale * (act_max - zp).
With the loss on the classifier's value before its clamp (grads/loss.py: the real logits,
which the tests take from the classifier's inputs here), this is the function whose exact
gradient the backward graph computes; its float64 version is differentiated by central finite
differences in the tests, and its float32 version is "the fp32
graph" the QAS test compares with.  Plain numpy (einsum), independent of the backward kernels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..ir import Graph, Node, OpKind
from ..ir import activations
from ..ir.ops import BACKWARD_OPS
from ..registry import implements, part_of
from .backward._common import real


def real_values(g: Graph, x: np.ndarray, dtype=np.float64) -> dict[str, np.ndarray]:
    """The real values of the graph input (int8 x, dequantized) and of every constant."""
    values = {name: real(g, name, t.data, dtype) for name, t in g.tensors.items() if t.is_constant}
    values[g.inputs[0]] = real(g, g.inputs[0], x, dtype)
    return values


def run_real(g: Graph, values: dict[str, np.ndarray], start: int = 0) -> dict[str, np.ndarray]:
    """Run the forward nodes from index `start` on (earlier outputs must be in `values`);
    returns `values` extended with every node output (real, in the values' dtype)."""
    values = dict(values)
    for node in g.nodes[start:]:
        if node.op in BACKWARD_OPS:
            break
        op = part_of(node.op, "real_forward", f"node '{node.name}': the real forward")
        values[node.outputs[0]] = _clamp(g, node, op(node, *(values[i] for i in node.inputs)))
    return values


# ops without a fused clamp: pools and channel moves (their requantization is the identity)
NO_CLAMP = frozenset({OpKind.GLOBAL_AVG_POOL, OpKind.AVG_POOL2D, OpKind.MAX_POOL2D, OpKind.CONCAT,
                      OpKind.CHANNEL_SELECT})


def _clamp(g: Graph, node: Node, y: np.ndarray) -> np.ndarray:
    if node.op in NO_CLAMP:
        return y
    lo, hi = node.attrs.get("act_min", -128), node.attrs.get("act_max", 127)
    bounds = real(g, node.outputs[0], np.array([lo, hi]), y.dtype)
    return np.clip(y, bounds[0], bounds[1])


def _windows(x, kernel, stride, pads):
    top, left, bottom, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    return sliding_window_view(xp, tuple(kernel), axis=(1, 2))[:, ::stride[0], ::stride[1]]


def _conv2d(node, x, w, b):
    win = _windows(x, w.shape[1:3], node.attrs["stride"], node.attrs["pads"])   # n oh ow c kh kw
    return np.einsum("nhwcij,oijc->nhwo", win, w) + b


def _avg_pool2d(node, x):
    """The mean of each window's valid (non-padding) taps."""
    kernel, stride, pads = node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"]
    total = _windows(x, kernel, stride, pads).sum(axis=(-2, -1))
    count = _windows(np.ones((1, *x.shape[1:3], 1), x.dtype), kernel, stride, pads).sum(axis=(-2, -1))
    return total / count


def _max_pool2d(node, x):
    """The largest valid tap of each window (padding never wins)."""
    kernel, stride, pads = node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"]
    top, left, bottom, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=-np.inf)
    return sliding_window_view(xp, tuple(kernel), axis=(1, 2))[:, ::stride[0], ::stride[1]].max(axis=(-2, -1))


def _depthwise(node, x, w, b):
    win = _windows(x, w.shape[1:3], node.attrs["stride"], node.attrs["pads"])
    return np.einsum("nhwcij,ijc->nhwc", win, w[0]) + b


def _fused_expand_depthwise(node, x, w1, b1, w2, b2):
    """The 1x1 expand conv, clamped as its own op was (in the expanded tensor's real domain:
    mid_scale * (expand_act_min - mid_zero_point) ..), then the depthwise conv."""
    f, zp = x.dtype.type, node.attrs["mid_zero_point"]
    lo, hi = (f(node.attrs[k] - zp) * f(node.attrs["mid_scale"]) for k in ("expand_act_min", "expand_act_max"))
    mid = np.clip(np.einsum("nhwc,oc->nhwo", x, w1[:, 0, 0, :]) + b1, lo, hi)
    return _depthwise(node, mid, w2, b2)


# each op's `real_forward` (registry.py)
for _op, _fn in {
    OpKind.CONV2D: _conv2d,
    OpKind.FUSED_EXPAND_DEPTHWISE: _fused_expand_depthwise,
    OpKind.DEPTHWISE_CONV2D: _depthwise,
    OpKind.FULLY_CONNECTED: lambda node, x, w, b: x.reshape(x.shape[0], -1) @ w.T + b,
    OpKind.ADD: lambda node, a, b: a + b,
    OpKind.GLOBAL_AVG_POOL: lambda node, x: x.mean(axis=(1, 2), keepdims=True),
    OpKind.AVG_POOL2D: _avg_pool2d,
    OpKind.MAX_POOL2D: _max_pool2d,
    OpKind.CONCAT: lambda node, *xs: np.concatenate(xs, axis=-1),
    OpKind.CHANNEL_SELECT: lambda node, x: x[..., list(node.attrs["channels"])],
    OpKind.LUT: lambda node, x: activations.real(node.attrs["function"], x, node.attrs),
    OpKind.MUL: lambda node, a, b: a * b,
}.items():
    implements(_op, "real_forward")(_fn)
