"""The frozen-prefix memory savers of runtime_c, bit for bit against the reference ops.

  * tte_fused_expand_depthwise_s8 against reference/ops/fused_expand_depthwise.py and against
    the unfused reference pair (CONV2D then DEPTHWISE_CONV2D);
  * tte_depthwise_conv2d_inplace_s8 against reference/ops/depthwise_conv2d.py, run both on one
    buffer (output over input) and into a separate output;
  * tte_depthwise_conv2d_grad_input_inplace_f32 against
    reference/backward/depthwise_conv2d_grad_input.py (float32 bit patterns), on one buffer.
Every kernel gets a scratch buffer of exactly its ..._scratch_bytes() (under ASan any overrun
hits a red zone), which is what the memory plan reserves for the node (registry.scratch_bytes).
Shapes: kernels 3/5/7 (and 1), strides 1 and 2, symmetric and TF-"SAME" asymmetric pads,
channel counts that are not multiples of 4, odd pixel counts, batch 2.
"""

from __future__ import annotations

import ctypes as C
import math

import numpy as np
import pytest

from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor
from tinyengine_compiler.ir.quant import quantize_multiplier
import tinyengine_compiler.reference.backward  # noqa: F401  (registers the reference ops)
from tinyengine_compiler.registry import REGISTRY
from tinyengine_compiler.registry import scratch_bytes as planned_scratch_bytes

from . import oracle
from .test_backward_kernels import _sparse_grad
from .tte_ctypes import (TTE_ERR_ARG, TTE_OK, ConvGradParams, ConvParams, Ctx, PerChannelQuant, _p8, _p32, _pf,
                         dims, f32c)

TTE_ERR_SCRATCH = -2


def _f32(v):
    """Scales as ONNX stores them (float32), held as float64."""
    return np.asarray(v, np.float32).astype(np.float64)


def _clamp(rng, zp: int, s: float) -> tuple[int, int]:
    """None, ReLU, ReLU6 or a random narrow clamp, in the int8 domain of (s, zp)."""
    kind = rng.integers(4)
    if kind == 0:
        return -128, 127
    if kind == 1:
        return zp, 127
    if kind == 2:
        return zp, int(min(127, zp + round(6.0 / s)))
    lo = int(rng.integers(-128, 0))
    return lo, int(rng.integers(lo, 128))


def _quant(reals) -> PerChannelQuant:
    """(multiplier, shift) per channel as a code generator emits them; arrays kept alive on the struct."""
    pairs = [quantize_multiplier(float(r)) for r in reals]
    m = np.array([p[0] for p in pairs], np.int32)
    s = np.array([p[1] for p in pairs], np.int32)
    q = PerChannelQuant(_p32(m), _p32(s))
    q._keep = (m, s)
    return q


def _out_hw(h, w, k, stride, pads):
    return (h + pads[0] + pads[2] - k) // stride + 1, (w + pads[1] + pads[3] - k) // stride + 1


def _scratch(runtime, symbol, in_shape, out_shape, dtype=np.int8):
    """A Ctx over a fresh buffer of exactly `symbol`'s scratch bytes (and the buffer)."""
    nbytes = runtime.scratch_bytes(symbol, in_shape, None, out_shape)
    buf = np.full(nbytes // np.dtype(dtype).itemsize, 0x55, dtype)
    return Ctx(buf.ctypes.data_as(C.c_void_p), nbytes), buf


def _graph(op, inputs: dict, out_shape, out_dtype, attrs) -> tuple[Graph, Node]:
    """A one-node graph over tensors of these shapes (for the planner's scratch formulas)."""
    tensors = {n: Tensor(n, tuple(s), d) for n, (s, d) in inputs.items()}
    tensors["y"] = Tensor("y", tuple(out_shape), out_dtype)
    node = Node("n", op, list(inputs), ["y"], attrs)
    return Graph("g", tensors, [node], [next(iter(inputs))], ["y"]), node


# --- FUSED_EXPAND_DEPTHWISE ------------------------------------------------------------------

# (n, h, w, c_in, c_exp, k, stride, pads top/left/bottom/right)
FUSED_CASES = [
    (1, 8, 8, 8, 24, 3, 1, (1, 1, 1, 1)),
    (1, 9, 9, 5, 13, 3, 2, (1, 1, 1, 1)),
    (1, 10, 10, 7, 9, 3, 2, (0, 0, 1, 1)),      # TF "SAME", stride 2, even input
    (1, 7, 9, 6, 15, 5, 1, (2, 2, 2, 2)),
    (1, 11, 11, 3, 10, 5, 2, (2, 2, 2, 2)),
    (1, 9, 7, 16, 18, 7, 1, (3, 3, 3, 3)),
    (1, 13, 12, 9, 7, 7, 2, (3, 3, 3, 3)),
    (2, 5, 5, 12, 6, 3, 1, (1, 1, 1, 1)),       # batch 2, odd pixel count
    (1, 3, 3, 4, 5, 5, 1, (2, 2, 2, 2)),        # kernel larger than the image
    (1, 1, 1, 33, 3, 3, 1, (1, 1, 1, 1)),       # a single pixel: only the centre tap
]
_fused_ids = lambda c: "x".join(map(str, c[:6])) + f"_s{c[6]}_p{''.join(map(str, c[7]))}"  # noqa: E731


def _fused_case(rng, n, h, w, c_in, c_exp, k):
    s_in = float(_f32(rng.uniform(0.005, 0.05)))
    s_w1 = _f32(rng.uniform(0.001, 0.02, c_exp))
    s_mid = float(_f32(s_in * s_w1.mean() * math.sqrt(c_in) * 74.0 ** 2 / 40.0 * rng.uniform(0.5, 2.0)))
    s_w2 = _f32(rng.uniform(0.001, 0.02, c_exp))
    s_out = float(_f32(s_mid * s_w2.mean() * k * 74.0 ** 2 / 40.0 * rng.uniform(0.5, 2.0)))
    zp_mid, zp_out = (int(v) for v in rng.integers(-128, 128, 2))
    return dict(
        x=rng.integers(-128, 128, (n, h, w, c_in), dtype=np.int8),
        w1=rng.integers(-127, 128, (c_exp, 1, 1, c_in), dtype=np.int8),
        b1=rng.integers(-3000, 3001, c_exp).astype(np.int32),
        w2=rng.integers(-127, 128, (1, k, k, c_exp), dtype=np.int8),
        b2=rng.integers(-3000, 3001, c_exp).astype(np.int32),
        s_in=s_in, zp_in=int(rng.integers(-128, 128)), s_w1=s_w1, s_mid=s_mid, zp_mid=zp_mid,
        s_w2=s_w2, s_out=s_out, zp_out=zp_out, expand_act=_clamp(rng, zp_mid, s_mid), act=_clamp(rng, zp_out, s_out))


def _run_fused(runtime, c, stride, pads, out_shape, ctx=None, dw_input_offset=None):
    expand_p = ConvParams(1, 1, 0, 0, 0, 0, -c["zp_in"], c["zp_mid"], *c["expand_act"])
    dw_off = -c["zp_mid"] if dw_input_offset is None else dw_input_offset
    dw_p = ConvParams(stride, stride, *pads, dw_off, c["zp_out"], *c["act"])
    q1 = _quant(np.float64(c["s_in"]) * c["s_w1"] / np.float64(c["s_mid"]))
    q2 = _quant(np.float64(c["s_mid"]) * c["s_w2"] / np.float64(c["s_out"]))
    x, w1, b1, w2, b2 = (np.ascontiguousarray(c[k]) for k in ("x", "w1", "b1", "w2", "b2"))
    keep = None
    if ctx is None:
        ctx, keep = _scratch(runtime, "tte_fused_expand_depthwise_s8", x.shape, out_shape)
    out = np.full(out_shape, 0x5A, np.int8)
    st = runtime.lib.tte_fused_expand_depthwise_s8(
        C.byref(ctx) if ctx is not False else None, C.byref(expand_p), C.byref(q1), C.byref(dw_p), C.byref(q2),
        C.byref(dims(x.shape)), _p8(x), C.byref(dims(w1.shape)), _p8(w1), _p32(b1),
        C.byref(dims(w2.shape)), _p8(w2), _p32(b2), C.byref(dims(out_shape)), _p8(out))
    del keep
    return st, out


@pytest.mark.parametrize("case", FUSED_CASES, ids=_fused_ids)
@pytest.mark.parametrize("full", [False, True], ids=["act", "full"])
def test_fused_expand_depthwise_matches_reference(runtime, case, full):
    """full: no expand clamp ([-128, 127]), the pointwise core's direct output stage."""
    n, h, w, c_in, c_exp, k, stride, pads = case
    rng = np.random.default_rng(sum(case[:7]) * 7877 + sum(pads))
    c = _fused_case(rng, n, h, w, c_in, c_exp, k)
    if full:
        c["expand_act"] = (-128, 127)
    oh, ow = _out_hw(h, w, k, stride, pads)
    out_shape = (n, oh, ow, c_exp)
    attrs = {"stride": (stride, stride), "pads": pads, "act_min": c["act"][0], "act_max": c["act"][1],
             "expand_act_min": c["expand_act"][0], "expand_act_max": c["expand_act"][1]}
    expected = oracle.fused_expand_depthwise(
        c["x"], c["w1"], c["b1"], c["w2"], c["b2"], s_in=c["s_in"], zp_in=c["zp_in"], s_w1=c["s_w1"],
        s_mid=c["s_mid"], zp_mid=c["zp_mid"], s_w2=c["s_w2"], s_out=c["s_out"], zp_out=c["zp_out"],
        out_shape=out_shape, attrs=attrs)
    st, got = _run_fused(runtime, c, stride, pads, out_shape)
    assert st == TTE_OK
    np.testing.assert_array_equal(got, expected)
    if n == 1:  # the unfused reference pair gives the same bytes
        mid = oracle.weighted(OpKind.CONV2D, c["x"], c["w1"], c["b1"], s_in=c["s_in"], zp_in=c["zp_in"],
                              s_w=c["s_w1"], s_out=c["s_mid"], zp_out=c["zp_mid"], out_shape=(n, h, w, c_exp),
                              attrs={"stride": (1, 1), "pads": (0, 0, 0, 0), "act_min": c["expand_act"][0],
                                     "act_max": c["expand_act"][1]})
        pair = oracle.weighted(OpKind.DEPTHWISE_CONV2D, mid, c["w2"], c["b2"], s_in=c["s_mid"],
                               zp_in=c["zp_mid"], s_w=c["s_w2"], s_out=c["s_out"], zp_out=c["zp_out"],
                               out_shape=out_shape, attrs={"stride": (stride, stride), "pads": pads,
                                                           "act_min": c["act"][0], "act_max": c["act"][1]})
        np.testing.assert_array_equal(got, pair)


def test_fused_scratch_is_the_planned_scratch(runtime):
    for (n, h, w, c_in, c_exp, k, stride, pads) in FUSED_CASES:
        oh, ow = _out_hw(h, w, k, stride, pads)
        g, node = _graph(OpKind.FUSED_EXPAND_DEPTHWISE, {"x": ((n, h, w, c_in), DType.INT8)},
                         (n, oh, ow, c_exp), DType.INT8, {"stride": (stride, stride), "pads": pads})
        need = runtime.scratch_bytes("tte_fused_expand_depthwise_s8", (n, h, w, c_in), None, (n, oh, ow, c_exp))
        assert need == 2 * h * w == planned_scratch_bytes(g, node)


def test_fused_rejects_small_scratch_and_bad_params(runtime):
    rng = np.random.default_rng(5)
    c = _fused_case(rng, 1, 6, 5, 5, 7, 3)
    out_shape = (1, 6, 5, 7)
    small = np.zeros(29, np.int8)
    for ctx in (False, Ctx(None, 0), Ctx(small.ctypes.data_as(C.c_void_p), small.size)):
        st, out = _run_fused(runtime, c, 1, (1, 1, 1, 1), out_shape, ctx=ctx)
        assert st == TTE_ERR_SCRATCH and (out == 0x5A).all()
    st, out = _run_fused(runtime, c, 1, (1, 1, 1, 1), out_shape, dw_input_offset=-c["zp_mid"] + 1)
    assert st == TTE_ERR_ARG and (out == 0x5A).all()  # the two convs disagree on the mid zero point
    st, out = _run_fused(runtime, c, 1, (1, 1, 1, 1), (1, 5, 5, 7))
    assert st == TTE_ERR_ARG and (out == 0x5A).all()


# --- DEPTHWISE_CONV2D in place ---------------------------------------------------------------

# (n, h, w, c, k, stride, pads)
DW_CASES = [
    (1, 8, 8, 8, 3, 1, (1, 1, 1, 1)),
    (1, 9, 9, 6, 3, 2, (1, 1, 1, 1)),
    (1, 10, 10, 5, 3, 2, (0, 0, 1, 1)),
    (1, 7, 8, 13, 5, 1, (2, 2, 2, 2)),
    (1, 11, 11, 9, 5, 2, (2, 2, 2, 2)),
    (1, 9, 6, 7, 7, 1, (3, 3, 3, 3)),
    (1, 12, 13, 11, 7, 2, (3, 3, 3, 3)),
    (2, 5, 5, 3, 3, 2, (1, 1, 1, 1)),           # batch 2, stride 2: image 1 lands over image 0
    (2, 6, 7, 10, 3, 1, (0, 0, 0, 0)),          # valid padding: a smaller plane
    (1, 3, 3, 3, 5, 1, (2, 2, 2, 2)),           # kernel larger than the image
    (1, 4, 4, 6, 5, 1, (2, 2, 2, 2)),           # MCUNet's tiny planes: 4x4 by 5x5
    (1, 8, 8, 5, 7, 2, (3, 3, 3, 3)),           # 8x8 by 7x7, stride 2
    (1, 3, 164, 3, 3, 1, (1, 1, 1, 1)),         # the widest 3x3 plane the int16 ring holds
    (1, 4, 200, 3, 3, 1, (1, 1, 1, 1)),         # wider than the ring: the clipped-window loop
    (1, 7, 7, 5, 4, 1, (1, 1, 2, 2)),           # an even kernel: the clipped-window loop
    (1, 9, 9, 4, 3, 3, (1, 1, 1, 1)),           # stride 3: the clipped-window loop
]
_dw_ids = lambda c: "x".join(map(str, c[:5])) + f"_s{c[5]}_p{''.join(map(str, c[6]))}"  # noqa: E731


def _dw_case(rng, n, h, w, ch, k):
    s_in = float(_f32(rng.uniform(0.005, 0.05)))
    s_w = _f32(rng.uniform(0.001, 0.02, ch))
    s_out = float(_f32(s_in * s_w.mean() * k * 74.0 ** 2 / 40.0 * rng.uniform(0.5, 2.0)))
    zp_out = int(rng.integers(-128, 128))
    return dict(x=rng.integers(-128, 128, (n, h, w, ch), dtype=np.int8),
                w=rng.integers(-127, 128, (1, k, k, ch), dtype=np.int8),
                b=rng.integers(-3000, 3001, ch).astype(np.int32),
                s_in=s_in, zp_in=int(rng.integers(-128, 128)), s_w=s_w, s_out=s_out, zp_out=zp_out,
                act=_clamp(rng, zp_out, s_out))


def _run_dw_inplace(runtime, c, stride, pads, out_shape, *, in_place, ctx=None):
    p = ConvParams(stride, stride, *pads, -c["zp_in"], c["zp_out"], *c["act"])
    q = _quant(np.float64(c["s_in"]) * c["s_w"] / np.float64(c["s_out"]))
    w, b = np.ascontiguousarray(c["w"]), np.ascontiguousarray(c["b"])
    buf = np.array(c["x"], np.int8, copy=True, order="C")
    out = buf if in_place else np.full(out_shape, 0x5A, np.int8)
    keep = None
    if ctx is None:
        ctx, keep = _scratch(runtime, "tte_depthwise_conv2d_inplace_s8", buf.shape, out_shape)
    st = runtime.lib.tte_depthwise_conv2d_inplace_s8(
        C.byref(ctx) if ctx is not False else None, C.byref(p), C.byref(q), C.byref(dims(buf.shape)), _p8(buf),
        C.byref(dims(w.shape)), _p8(w), _p32(b), C.byref(dims(out_shape)), _p8(out))
    del keep
    if in_place:
        return st, buf.ravel()[: int(np.prod(out_shape))].reshape(out_shape), buf
    return st, out, buf


@pytest.mark.parametrize("case", DW_CASES, ids=_dw_ids)
def test_depthwise_inplace_matches_reference(runtime, case):
    n, h, w, ch, k, stride, pads = case
    rng = np.random.default_rng(sum(case[:6]) * 7901 + sum(pads))
    c = _dw_case(rng, n, h, w, ch, k)
    oh, ow = _out_hw(h, w, k, stride, pads)
    out_shape = (n, oh, ow, ch)
    expected = oracle.weighted(OpKind.DEPTHWISE_CONV2D, c["x"], c["w"], c["b"], s_in=c["s_in"], zp_in=c["zp_in"],
                               s_w=c["s_w"], s_out=c["s_out"], zp_out=c["zp_out"], out_shape=out_shape,
                               attrs={"stride": (stride, stride), "pads": pads, "act_min": c["act"][0],
                                      "act_max": c["act"][1]})
    st, got, buf = _run_dw_inplace(runtime, c, stride, pads, out_shape, in_place=True)
    assert st == TTE_OK
    np.testing.assert_array_equal(got, expected)
    st, got, buf = _run_dw_inplace(runtime, c, stride, pads, out_shape, in_place=False)
    assert st == TTE_OK
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(buf, c["x"])  # out of place: the input is untouched


def test_depthwise_inplace_scratch_is_the_planned_scratch(runtime):
    for (n, h, w, ch, k, stride, pads) in DW_CASES:
        oh, ow = _out_hw(h, w, k, stride, pads)
        g, node = _graph(OpKind.DEPTHWISE_CONV2D, {"x": ((n, h, w, ch), DType.INT8), "w": ((1, k, k, ch), DType.INT8)},
                         (n, oh, ow, ch), DType.INT8, {"stride": (stride, stride), "pads": pads, "in_place": "x"})
        need = runtime.scratch_bytes("tte_depthwise_conv2d_inplace_s8", (n, h, w, ch), None, (n, oh, ow, ch))
        assert need == h * w == planned_scratch_bytes(g, node)


def test_depthwise_inplace_rejects_small_scratch_and_growing_output(runtime):
    rng = np.random.default_rng(11)
    c = _dw_case(rng, 1, 5, 4, 6, 3)
    small = np.zeros(19, np.int8)
    for ctx in (False, Ctx(None, 0), Ctx(small.ctypes.data_as(C.c_void_p), small.size)):
        st, got, buf = _run_dw_inplace(runtime, c, 1, (1, 1, 1, 1), (1, 5, 4, 6), in_place=True, ctx=ctx)
        assert st == TTE_ERR_SCRATCH
        np.testing.assert_array_equal(buf, c["x"])
    c = _dw_case(rng, 1, 3, 3, 5, 1)  # pads that make the output larger than the input
    st, got, buf = _run_dw_inplace(runtime, c, 1, (1, 1, 1, 1), (1, 5, 5, 5), in_place=False)
    assert st == TTE_ERR_ARG and (got == 0x5A).all()


# --- DEPTHWISE_CONV2D_GRAD_INPUT in place ----------------------------------------------------

# (n, h, w, c, k, stride, pads): in place needs H * W <= OH * OW (passes/inplace.py: the
# gradient at least as large as dx), i.e. stride 1 with "same" padding in practice
GRAD_CASES = [
    (1, 8, 8, 8, 3, 1, (1, 1, 1, 1)),
    (1, 7, 9, 5, 3, 1, (1, 1, 1, 1)),
    (1, 9, 6, 13, 5, 1, (2, 2, 2, 2)),
    (1, 6, 7, 7, 7, 1, (3, 3, 3, 3)),
    (1, 5, 5, 6, 3, 1, (2, 2, 2, 2)),           # pads wider than the kernel: OH > H
    (1, 2, 3, 9, 1, 2, (1, 1, 1, 1)),           # stride 2 whose gradient is no smaller than dx
    (2, 4, 5, 3, 3, 1, (1, 1, 1, 1)),           # batch 2
    (1, 10, 9, 3, 9, 1, (4, 4, 4, 4)),          # 81 taps: bands of kernel rows (tte_dw_gi.h)
]


def _grad_case(rng, shape):
    g = rng.standard_normal(shape) * 10.0 ** rng.uniform(-4, 1, shape)
    g[rng.random(shape) < 0.05] = 0.0
    g[rng.random(shape) < 0.05] = -0.0
    return g.astype(np.float32)


def _grad_reference(gz, wt, sw, stride, pads, x_shape):
    inputs = {"gz": (gz.shape, DType.FLOAT32), "w": (wt.shape, DType.INT8)}
    g, node = _graph(OpKind.DEPTHWISE_CONV2D_GRAD_INPUT, inputs, x_shape, DType.FLOAT32,
                     {"stride": (stride, stride), "pads": pads, "input_shape": x_shape})
    g.tensors["w"] = Tensor("w", wt.shape, DType.INT8, QParams.make(sw, 0, axis=3))
    return REGISTRY[OpKind.DEPTHWISE_CONV2D_GRAD_INPUT].reference(g, node, gz, wt, dtype=np.float32)


def _bits(got, expected):
    expected = np.asarray(expected, np.float32)
    got = np.asarray(got, np.float32).reshape(expected.shape)
    bad = np.flatnonzero(got.view(np.uint32) != expected.view(np.uint32))
    assert bad.size == 0, f"{bad.size} of {got.size} differ; first at {bad[:5]}"


@pytest.mark.parametrize("case", GRAD_CASES, ids=_dw_ids)
@pytest.mark.parametrize("grad", ["dense", "sparse"])
def test_depthwise_grad_input_inplace_matches_reference(runtime, case, grad):
    n, h, w, ch, k, stride, pads = case
    rng = np.random.default_rng(sum(case[:6]) * 7919 + sum(pads))
    oh, ow = _out_hw(h, w, k, stride, pads)
    assert h * w <= oh * ow
    gz = (_grad_case if grad == "dense" else _sparse_grad)(rng, (n, oh, ow, ch))
    wt = rng.integers(-127, 128, (1, k, k, ch), dtype=np.int8)
    sw = rng.uniform(0.001, 0.05, ch).astype(np.float32)
    x_shape = (n, h, w, ch)
    expected = np.concatenate([_grad_reference(gz[i:i + 1], wt, sw, stride, pads, (1, h, w, ch))
                               for i in range(n)])
    symbol = "tte_depthwise_conv2d_grad_input_inplace_f32"
    p = ConvGradParams(stride, stride, *pads, 0.0, 0)
    for in_place in (True, False):
        buf = f32c(gz)
        out = buf if in_place else np.full(x_shape, np.nan, np.float32)
        ctx, keep = _scratch(runtime, symbol, gz.shape, x_shape, np.float32)
        assert ctx.size == oh * ow * 4
        st = getattr(runtime.lib, symbol)(C.byref(ctx), C.byref(p), C.byref(dims(gz.shape)), _pf(buf),
                                          C.byref(dims(wt.shape)), _p8(wt), _pf(sw), C.byref(dims(x_shape)),
                                          _pf(out))
        assert st == TTE_OK
        _bits(out.ravel()[: int(np.prod(x_shape))], expected)
        del keep
    # the planner reserves this kernel's scratch for an in-place input gradient
    g, node = _graph(OpKind.DEPTHWISE_CONV2D_GRAD_INPUT, {"gz": (gz.shape, DType.FLOAT32)}, x_shape,
                     DType.FLOAT32, {"stride": (stride, stride), "pads": pads, "in_place": "gz"})
    assert oh * ow * 4 == planned_scratch_bytes(g, node)


def test_depthwise_grad_input_inplace_rejects_small_scratch_and_larger_dx(runtime):
    symbol = "tte_depthwise_conv2d_grad_input_inplace_f32"
    gz = np.ones((1, 4, 4, 3), np.float32)
    wt = np.ones((1, 3, 3, 3), np.int8)
    sw = np.ones(3, np.float32)
    small = np.zeros(15, np.float32)
    fn = getattr(runtime.lib, symbol)
    p = ConvGradParams(1, 1, 1, 1, 1, 1, 0.0, 0)
    out = np.full((1, 4, 4, 3), np.nan, np.float32)
    for ctx in (None, C.byref(Ctx(small.ctypes.data_as(C.c_void_p), small.nbytes))):
        assert fn(ctx, C.byref(p), C.byref(dims(gz.shape)), _pf(gz), C.byref(dims(wt.shape)), _p8(wt), _pf(sw),
                  C.byref(dims(out.shape)), _pf(out)) == TTE_ERR_SCRATCH
    assert np.isnan(out).all()
    ctx, keep = _scratch(runtime, symbol, (1, 2, 2, 3), (1, 4, 4, 3), np.float32)
    p = ConvGradParams(1, 1, 0, 0, 0, 0, 0.0, 0)  # valid padding: dx [4, 4] larger than gz [2, 2]
    assert fn(C.byref(ctx), C.byref(p), C.byref(dims((1, 2, 2, 3))), _pf(gz), C.byref(dims(wt.shape)), _p8(wt),
              _pf(sw), C.byref(dims(out.shape)), _pf(out)) == TTE_ERR_ARG
    assert np.isnan(out).all()
