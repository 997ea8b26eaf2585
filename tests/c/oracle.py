"""The independent oracle for the C kernels: tinyengine_compiler/reference (helper ops).

Each function wraps one array-level call into the one-node Graph that the op's `reference`
(registry.py) takes, so the tests state quantization as scales and zero points and let the reference
derive its own multipliers.  Nothing here computes a kernel result itself.
"""

from __future__ import annotations

import numpy as np

from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor
import tinyengine_compiler.reference.ops  # noqa: F401  (registers the reference ops)
from tinyengine_compiler.registry import REGISTRY
from tinyengine_compiler.reference.requant import requantize

__all__ = ["weighted", "fused_expand_depthwise", "add", "pool", "requantize"]


def _run(op: OpKind, inputs: list[tuple[Tensor, np.ndarray]], out: Tensor, attrs: dict) -> np.ndarray:
    """Run `op` on (tensor, value) pairs through a one-node graph."""
    tensors = {t.name: t for t, _ in inputs} | {out.name: out}
    node = Node("n", op, [t.name for t, _ in inputs], [out.name], attrs)
    g = Graph("oracle", tensors, [node], [inputs[0][0].name], [out.name])
    return REGISTRY[op].reference(g, node, *(v for _, v in inputs))


def _act(x: np.ndarray, name: str, scale: float, zp: int) -> tuple[Tensor, np.ndarray]:
    return Tensor(name, tuple(x.shape), DType.INT8, QParams.make(scale, zp)), x


def _const(name: str, v: np.ndarray, dtype: DType, qp: QParams | None) -> tuple[Tensor, np.ndarray]:
    return Tensor(name, tuple(v.shape), dtype, qp, v), v


def weighted(op: OpKind, x, w, bias, *, s_in, zp_in, s_w, s_out, zp_out, out_shape, attrs) -> np.ndarray:
    """CONV2D / DEPTHWISE_CONV2D / FULLY_CONNECTED; bias None means zeros."""
    c_out = len(s_w)
    axis = 3 if op == OpKind.DEPTHWISE_CONV2D else 0
    bias = np.zeros(c_out, np.int32) if bias is None else np.asarray(bias, np.int32)
    ins = [_act(x, "x", s_in, zp_in), _const("w", w, DType.INT8, QParams.make(s_w, 0, axis=axis)),
           _const("b", bias, DType.INT32, None)]
    out = Tensor("y", tuple(out_shape), DType.INT8, QParams.make(s_out, zp_out))
    return _run(op, ins, out, attrs)


def fused_expand_depthwise(x, w1, b1, w2, b2, *, s_in, zp_in, s_w1, s_mid, zp_mid, s_w2, s_out, zp_out,
                           out_shape, attrs) -> np.ndarray:
    """FUSED_EXPAND_DEPTHWISE; attrs: stride, pads, act_min/max, expand_act_min/max (the mid
    tensor's quantization comes from s_mid, zp_mid)."""
    ins = [_act(x, "x", s_in, zp_in), _const("w1", w1, DType.INT8, QParams.make(s_w1, 0, axis=0)),
           _const("b1", np.asarray(b1, np.int32), DType.INT32, None),
           _const("w2", w2, DType.INT8, QParams.make(s_w2, 0, axis=3)),
           _const("b2", np.asarray(b2, np.int32), DType.INT32, None)]
    out = Tensor("y", tuple(out_shape), DType.INT8, QParams.make(s_out, zp_out))
    return _run(OpKind.FUSED_EXPAND_DEPTHWISE, ins, out,
                {**attrs, "mid_scale": s_mid, "mid_zero_point": zp_mid, "fused_from": ("e", "d")})


def add(a, b, *, qa, qb, qout, act) -> np.ndarray:
    """ADD; qa, qb, qout are (scale, zero point)."""
    out = Tensor("y", tuple(a.shape), DType.INT8, QParams.make(*qout))
    return _run(OpKind.ADD, [_act(a, "a", *qa), _act(b, "b", *qb)], out,
                {"act_min": act[0], "act_max": act[1]})


def pool(op: OpKind, x, *, q_in, q_out, out_shape, attrs) -> np.ndarray:
    """GLOBAL_AVG_POOL / AVG_POOL2D; q_in, q_out are (scale, zero point)."""
    out = Tensor("y", tuple(out_shape), DType.INT8, QParams.make(*q_out))
    return _run(op, [_act(x, "x", *q_in)], out, attrs)
