"""Each int8 kernel of runtime_c/src/ref, bit for bit against the independent oracle.

Shapes cover kernel sizes 1/3/5/7, strides 1 and 2, odd and even sizes, symmetric and
asymmetric padding, channel counts that are and are not multiples of the 4-channel blocks,
batch 2, random zero points, clamps (none, ReLU, ReLU6-like, narrow) and float32 scales.
The oracle (tinyengine_compiler/reference/ops through tests/c/oracle.py) takes scales and
zero points; the C gets the integer parameters a code generator would emit, derived here
from the same scales with ir.quant.quantize_multiplier.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
import pytest

from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.ir.quant import quantize_multiplier

from . import oracle
from .tte_ctypes import TTE_ERR_ARG, TTE_OK, AddParams, ConvParams, FcParams, GapParams, PoolParams, _p8, dims


def _act(rng, zp_out: int, s_out: float) -> tuple[int, int]:
    kind = rng.integers(4)
    if kind == 0:
        return -128, 127
    if kind == 1:  # ReLU
        return zp_out, 127
    if kind == 2:  # ReLU6
        return zp_out, int(min(127, zp_out + round(6.0 / s_out)))
    lo = int(rng.integers(-128, 0))
    return lo, int(rng.integers(lo, 128))


def _f32(v):
    """Scales as ONNX stores them (float32), held as Python floats."""
    return np.asarray(v, np.float32).astype(np.float64)


def _weighted_case(rng, x_shape, w_shape, channels, depth, bias=True) -> dict:
    """Random int8 data and scales; s_out is chosen so the outputs spread over int8."""
    s_in = float(_f32(rng.uniform(0.005, 0.05)))
    s_w = _f32(rng.uniform(0.001, 0.02, channels))
    acc_std = math.sqrt(depth) * 74.0 * 74.0
    s_out = float(_f32(s_in * s_w.mean() * acc_std / 40.0 * rng.uniform(0.5, 2.0)))
    zp_out = int(rng.integers(-128, 128))
    return dict(
        x=rng.integers(-128, 128, x_shape, dtype=np.int8),
        w=rng.integers(-127, 128, w_shape, dtype=np.int8),
        b=rng.integers(-int(acc_std), int(acc_std) + 1, channels).astype(np.int32) if bias else None,
        s_in=s_in, zp_in=int(rng.integers(-128, 128)), s_w=s_w, s_out=s_out, zp_out=zp_out,
        act=_act(rng, zp_out, s_out))


def _c_quant(case: dict):
    """Per-channel (multiplier, shift) for the C, from the scales: M = s_in * s_w[c] / s_out."""
    pairs = [quantize_multiplier(float(np.float64(case["s_in"]) * sw / np.float64(case["s_out"])))
             for sw in case["s_w"]]
    return np.array([m for m, _ in pairs], np.int32), np.array([s for _, s in pairs], np.int32)


def _check_weighted(runtime, symbol, op, case, out_shape, stride=(1, 1), pads=(0, 0, 0, 0)):
    attrs = {"act_min": case["act"][0], "act_max": case["act"][1]}
    if op != OpKind.FULLY_CONNECTED:
        attrs.update(stride=stride, pads=pads)
    expected = oracle.weighted(op, case["x"], case["w"], case["b"], s_in=case["s_in"], zp_in=case["zp_in"],
                               s_w=case["s_w"], s_out=case["s_out"], zp_out=case["zp_out"],
                               out_shape=out_shape, attrs=attrs)
    mult, shift = _c_quant(case)
    if op == OpKind.FULLY_CONNECTED:
        p = FcParams(-case["zp_in"], case["zp_out"], *case["act"])
    else:
        p = ConvParams(*stride, *pads, -case["zp_in"], case["zp_out"], *case["act"])
    c_shape = out_shape if len(out_shape) == 4 else (out_shape[0], 1, 1, out_shape[1])
    st, got = runtime.weighted(symbol, p, case["x"], case["w"], case["b"], mult, shift, c_shape)
    assert st == TTE_OK, symbol
    np.testing.assert_array_equal(got.reshape(expected.shape), expected, err_msg=symbol)


def _out_hw(h, w, k, stride, pads):
    return (h + pads[0] + pads[2] - k[0]) // stride + 1, (w + pads[1] + pads[3] - k[1]) // stride + 1


# (n, h, w, cin, cout, kh, kw, stride, pads top/left/bottom/right)
CONV_CASES = [
    (1, 8, 8, 3, 8, 3, 3, 2, (0, 0, 1, 1)),     # MCUNet-like first layer, TF "SAME" s2
    (1, 9, 7, 5, 6, 3, 3, 1, (1, 1, 1, 1)),
    (1, 10, 10, 4, 5, 5, 5, 2, (2, 2, 2, 2)),
    (1, 7, 9, 6, 4, 7, 7, 1, (3, 3, 3, 3)),
    (1, 11, 6, 3, 7, 7, 7, 2, (3, 2, 3, 2)),
    (2, 6, 6, 8, 12, 3, 3, 1, (1, 1, 1, 1)),
    (1, 6, 5, 4, 9, 1, 1, 1, (0, 0, 0, 0)),
    (1, 4, 4, 4, 4, 1, 1, 1, (1, 1, 1, 1)),     # pad >= kernel: border windows see only bias
    (1, 5, 8, 7, 3, 2, 3, 2, (0, 1, 1, 0)),     # even/asymmetric kernel
    (1, 3, 3, 16, 8, 3, 3, 1, (0, 0, 0, 0)),    # single valid window per row
    (1, 5, 4, 120, 5, 3, 3, 1, (1, 1, 1, 1)),   # window > TTE_CONV_GATHER_BYTES / 2: direct loop
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "x".join(map(str, c[:7])) + f"_s{c[7]}_p{''.join(map(str, c[8]))}")
def test_conv2d_matches_oracle(runtime, case):
    n, h, w_, cin, cout, kh, kw, stride, pads = case
    rng = np.random.default_rng(sum(case[:8]) * 7919 + sum(pads))
    c = _weighted_case(rng, (n, h, w_, cin), (cout, kh, kw, cin), cout, kh * kw * cin)
    oh, ow = _out_hw(h, w_, (kh, kw), stride, pads)
    _check_weighted(runtime, "tte_conv2d_s8", OpKind.CONV2D, c, (n, oh, ow, cout), (stride, stride), pads)


@pytest.mark.parametrize("n,h,w_,cin,cout,stride", [
    (1, 8, 8, 16, 24, 1), (1, 7, 9, 5, 7, 1), (1, 9, 9, 8, 16, 2), (1, 10, 6, 12, 3, 2),
    (2, 4, 5, 6, 10, 1), (1, 1, 1, 33, 1, 1), (1, 3, 1, 8, 6, 1), (1, 5, 5, 12, 5, 2)])
@pytest.mark.parametrize("full", [False, True], ids=["act", "full"])
def test_conv2d_1x1_matches_oracle_and_generic(runtime, n, h, w_, cin, cout, stride, full):
    """full: no clamp ([-128, 127]), the pointwise core's direct output stage."""
    rng = np.random.default_rng(1000 * h + 10 * cin + cout + stride)
    c = _weighted_case(rng, (n, h, w_, cin), (cout, 1, 1, cin), cout, cin, bias=cout != 1)
    if full:
        c["act"] = (-128, 127)
    oh, ow = _out_hw(h, w_, (1, 1), stride, (0, 0, 0, 0))
    for symbol in ("tte_conv2d_1x1_s8", "tte_conv2d_s8"):
        _check_weighted(runtime, symbol, OpKind.CONV2D, c, (n, oh, ow, cout), (stride, stride))


@pytest.mark.parametrize("act,zp_out,big", [((-100, 120), 5, 0), ((-128, 127), 5, 0),
                                             ((-128, 127), 127, 2_000_000_000),
                                             ((-128, 127), -128, -2_000_000_000)])
def test_pointwise_output_stage_every_shift(runtime, act, zp_out, big):
    """The multipliers random scales give sit near 2^-9; the pointwise core's output stage has
    a direct path (zero point folded into the rounding term) for shift in [-24, -2] with no
    clamp, and the generic requantization otherwise, so put channels (in pairs, as the core
    takes them) in each regime: shift 0, -1, -2 (the smallest direct shift), -9, -23, -24 (the
    largest), -25, -30, -31, and a zero multiplier, with the largest zero points and, for
    some, biases near the accumulator bound.  Through tte_conv2d_1x1_s8 and tte_conv2d_s8's
    gathered path."""
    rng = np.random.default_rng(77)
    m = np.array([0.6, 0.3, 0.15, 0.9 * 2.0**-9, 0.75 * 2.0**-23, 0.75 * 2.0**-24, 0.99 * 2.0**-24,
                  0.75 * 2.0**-25, 1.5 * 2.0**-31, 0.6 * 2.0**-31, 0.7 * 2.0**-32 / 2**4])
    s_in, s_out = 0.02, 0.05
    b = rng.integers(-300, 301, len(m)).astype(np.int32)
    if big:
        b[[2, 5, 6, 7]] = [big, big, -big, big]
    c = dict(x=rng.integers(-128, 128, (1, 3, 5, 12), dtype=np.int8),
             w=rng.integers(-127, 128, (len(m), 1, 1, 12), dtype=np.int8),
             b=b, s_in=s_in, zp_in=-3, s_w=_f32(m * s_out / s_in), s_out=s_out, zp_out=zp_out, act=act)
    assert list(_c_quant(c)[1]) == [0, -1, -2, -9, -23, -24, -24, -25, -30, -31, 0]
    for symbol in ("tte_conv2d_1x1_s8", "tte_conv2d_s8"):
        _check_weighted(runtime, symbol, OpKind.CONV2D, c, (1, 3, 5, len(m)))


# (n, h, w, c, k, stride, pads)
DW_CASES = [
    (1, 8, 8, 8, 3, 1, (1, 1, 1, 1)),
    (1, 9, 9, 6, 3, 2, (1, 1, 1, 1)),
    (1, 10, 10, 5, 3, 2, (0, 0, 1, 1)),
    (1, 7, 8, 12, 5, 1, (2, 2, 2, 2)),
    (1, 11, 11, 9, 5, 2, (2, 2, 2, 2)),
    (1, 9, 6, 4, 7, 1, (3, 3, 3, 3)),
    (1, 12, 13, 7, 7, 2, (3, 3, 3, 3)),
    (2, 5, 5, 16, 3, 1, (0, 0, 0, 0)),
    (1, 3, 3, 3, 5, 1, (2, 2, 2, 2)),           # kernel larger than the image
]


@pytest.mark.parametrize("case", DW_CASES, ids=lambda c: "x".join(map(str, c[:5])) + f"_s{c[5]}_p{''.join(map(str, c[6]))}")
def test_depthwise_conv2d_matches_oracle(runtime, case):
    n, h, w_, ch, k, stride, pads = case
    rng = np.random.default_rng(sum(case[:6]) * 7907 + sum(pads))
    c = _weighted_case(rng, (n, h, w_, ch), (1, k, k, ch), ch, k * k)
    oh, ow = _out_hw(h, w_, (k, k), stride, pads)
    _check_weighted(runtime, "tte_depthwise_conv2d_s8", OpKind.DEPTHWISE_CONV2D, c, (n, oh, ow, ch),
                    (stride, stride), pads)


@pytest.mark.parametrize("n,in_shape,out", [(1, (1, 1, 64), 10), (1, (2, 3, 5), 7), (2, (1, 1, 17), 4),
                                            (1, (1, 1, 3), 1)])
def test_fully_connected_matches_oracle(runtime, n, in_shape, out):
    depth = int(np.prod(in_shape))
    rng = np.random.default_rng(depth * 31 + out + n)
    c = _weighted_case(rng, (n, *in_shape), (out, depth), out, depth)
    _check_weighted(runtime, "tte_fully_connected_s8", OpKind.FULLY_CONNECTED, c, (n, out))


def _add_case(rng):
    """Random scales and zero points -> (oracle quantization, tte_add_params as TFLite derives it)."""
    s1, s2, s_out = (float(v) for v in _f32(rng.uniform(0.01, 0.1, 3)))
    zp1, zp2, zpo = (int(v) for v in rng.integers(-128, 128, 3))
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << 20) * s_out))
    act = _act(rng, zpo, s_out)
    q = dict(qa=(s1, zp1), qb=(s2, zp2), qout=(s_out, zpo), act=act)
    return q, AddParams(-zp1, m1, sh1, -zp2, m2, sh2, 20, mo, sho, zpo, *act)


@pytest.mark.parametrize("shape,inplace", [((1, 8, 8, 16), None), ((1, 7, 5, 3), "a"), ((1, 9, 9, 24), "b"),
                                           ((2, 1, 1, 1), None), ((1, 3, 3, 1000), "a")])
def test_add_matches_oracle(runtime, shape, inplace):
    rng = np.random.default_rng(int(np.prod(shape)) + len(str(inplace)))
    for _ in range(3):
        q, p = _add_case(rng)
        a = rng.integers(-128, 128, shape, dtype=np.int8)
        b = rng.integers(-128, 128, shape, dtype=np.int8)
        expected = oracle.add(a, b, **q)
        st, got = runtime.add(p, a, b, inplace=inplace)
        assert st == TTE_OK
        np.testing.assert_array_equal(got, expected)


def test_add_same_buffer_for_both_inputs_and_output(runtime):
    rng = np.random.default_rng(7)
    q, p = _add_case(rng)
    a = rng.integers(-128, 128, (1, 4, 4, 8), dtype=np.int8)
    expected = oracle.add(a, a, **q)
    buf = a.copy()
    st = runtime.lib.tte_add_s8(None, ctypes.byref(p), ctypes.byref(dims(buf.shape)), _p8(buf), _p8(buf), _p8(buf))
    assert st == TTE_OK
    np.testing.assert_array_equal(buf, expected)


@pytest.mark.parametrize("shape", [(1, 7, 7, 16), (1, 4, 4, 5), (2, 3, 5, 9), (1, 1, 1, 4), (1, 2, 2, 3)])
def test_global_avg_pool_equal_qparams(runtime, shape):
    rng = np.random.default_rng(sum(shape) * 3)
    for _ in range(3):
        x = rng.integers(-128, 128, shape, dtype=np.int8)
        q = (float(_f32(rng.uniform(0.01, 0.1))), int(rng.integers(-128, 128)))
        oshape = (shape[0], 1, 1, shape[3])
        act = _act(rng, q[1], q[0])
        expected = oracle.pool(OpKind.GLOBAL_AVG_POOL, x, q_in=q, q_out=q, out_shape=oshape,
                               attrs={"act_min": act[0], "act_max": act[1]})
        st, got = runtime.global_avg_pool(GapParams(0, 0, 0, 0, *act), x)
        assert st == TTE_OK
        np.testing.assert_array_equal(got, expected)


def test_global_avg_pool_rounds_ties_away_from_zero(runtime):
    # hand-computed: sums 2, -2, 1, -1, 3 over 4 pixels -> 0.5, -0.5, 0.25, -0.25, 0.75
    x = np.zeros((1, 2, 2, 5), np.int8)
    x[0, 0, 0] = [2, -2, 1, -1, 3]
    st, got = runtime.global_avg_pool(GapParams(0, 0, 0, 0, -128, 127), x)
    assert st == TTE_OK
    assert got.ravel().tolist() == [1, -1, 0, 0, 1]
    st, got = runtime.global_avg_pool(GapParams(0, 0, 0, 0, 0, 0), x)  # clamp
    assert got.ravel().tolist() == [0, 0, 0, 0, 0]


@pytest.mark.parametrize("shape", [(1, 7, 7, 16), (1, 5, 3, 6), (2, 4, 4, 9), (1, 1, 1, 2)])
def test_global_avg_pool_requantized(runtime, shape):
    rng = np.random.default_rng(sum(shape) * 5)
    for _ in range(3):
        x = rng.integers(-128, 128, shape, dtype=np.int8)
        s_in, s_out = (float(v) for v in _f32(rng.uniform(0.01, 0.1, 2)))
        zp_in, zp_out = (int(v) for v in rng.integers(-128, 128, 2))
        oshape = (shape[0], 1, 1, shape[3])
        act = _act(rng, zp_out, s_out)
        expected = oracle.pool(OpKind.GLOBAL_AVG_POOL, x, q_in=(s_in, zp_in), q_out=(s_out, zp_out),
                               out_shape=oshape, attrs={"act_min": act[0], "act_max": act[1]})
        m, sh = quantize_multiplier(s_in / (s_out * (shape[1] * shape[2])))
        st, got = runtime.global_avg_pool(GapParams(-zp_in, zp_out, m, sh, *act), x)
        assert st == TTE_OK
        np.testing.assert_array_equal(got, expected)


# (n, h, w, c, kernel, stride, pads)
POOL_CASES = [
    (1, 8, 8, 8, (2, 2), 2, (0, 0, 0, 0)),
    (1, 7, 7, 5, (3, 3), 1, (1, 1, 1, 1)),
    (1, 9, 8, 4, (3, 3), 2, (1, 1, 1, 1)),
    (2, 6, 7, 6, (3, 2), 2, (0, 1, 2, 1)),
    (1, 5, 5, 3, (5, 5), 1, (2, 2, 2, 2)),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_avg_pool2d_matches_oracle(runtime, case):
    n, h, w_, ch, kernel, stride, pads = case
    rng = np.random.default_rng(h * w_ * ch + kernel[0])
    x = rng.integers(-128, 128, (n, h, w_, ch), dtype=np.int8)
    q = (float(_f32(rng.uniform(0.01, 0.1))), int(rng.integers(-128, 128)))
    oh = (h + pads[0] + pads[2] - kernel[0]) // stride + 1
    ow = (w_ + pads[1] + pads[3] - kernel[1]) // stride + 1
    act = _act(rng, q[1], q[0])
    attrs = {"kernel": kernel, "stride": (stride, stride), "pads": pads, "act_min": act[0], "act_max": act[1]}
    expected = oracle.pool(OpKind.AVG_POOL2D, x, q_in=q, q_out=q, out_shape=(n, oh, ow, ch), attrs=attrs)
    st, got = runtime.avg_pool2d(PoolParams(stride, stride, *pads, *act), x, kernel, expected.shape)
    assert st == TTE_OK
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_avg_pool2d_requantized(runtime, case):
    n, h, w_, ch, kernel, stride, pads = case
    rng = np.random.default_rng(h * w_ * ch + kernel[0] + 1)
    x = rng.integers(-128, 128, (n, h, w_, ch), dtype=np.int8)
    s_in, s_out = (float(v) for v in _f32(rng.uniform(0.01, 0.1, 2)))
    zp_in, zp_out = (int(v) for v in rng.integers(-128, 128, 2))
    oh = (h + pads[0] + pads[2] - kernel[0]) // stride + 1
    ow = (w_ + pads[1] + pads[3] - kernel[1]) // stride + 1
    act = _act(rng, zp_out, s_out)
    attrs = {"kernel": kernel, "stride": (stride, stride), "pads": pads, "act_min": act[0], "act_max": act[1]}
    expected = oracle.pool(OpKind.AVG_POOL2D, x, q_in=(s_in, zp_in), q_out=(s_out, zp_out),
                           out_shape=(n, oh, ow, ch), attrs=attrs)
    table = [quantize_multiplier(s_in / (s_out * count)) for count in range(1, kernel[0] * kernel[1] + 1)]
    st, got = runtime.avg_pool2d(PoolParams(stride, stride, *pads, *act), x, kernel, expected.shape,
                                 requant=(-zp_in, zp_out, [m for m, _ in table], [s for _, s in table]))
    assert st == TTE_OK
    np.testing.assert_array_equal(got, expected)


def test_inconsistent_dims_are_rejected(runtime):
    rng = np.random.default_rng(3)
    c = _weighted_case(rng, (1, 6, 6, 4), (8, 3, 3, 4), 8, 36)
    mult, shift = _c_quant(c)
    p = ConvParams(1, 1, 1, 1, 1, 1, -c["zp_in"], c["zp_out"], *c["act"])
    args = (p, c["x"], c["w"], c["b"], mult, shift)
    st, out = runtime.weighted("tte_conv2d_s8", *args, (1, 5, 6, 8))  # OH should be 6
    assert st == TTE_ERR_ARG and not out.any()
    st, _ = runtime.weighted("tte_conv2d_1x1_s8", *args, (1, 6, 6, 8))  # 3x3 and padded
    assert st == TTE_ERR_ARG
    st, _ = runtime.weighted("tte_depthwise_conv2d_s8", *args, (1, 6, 6, 8))  # not 1HWC
    assert st == TTE_ERR_ARG
    st, _ = runtime.avg_pool2d(PoolParams(1, 1, 3, 3, 3, 3, -128, 127), c["x"], (3, 3), (1, 10, 10, 4))  # pad >= k
    assert st == TTE_ERR_ARG


@pytest.mark.parametrize("case", [
    (1, 16, 16, 3, 16, 3, 3, 2, (1, 1, 1, 1)),     # the paper's first conv, in miniature
    (1, 12, 10, 3, 8, 3, 3, 2, (0, 0, 1, 1)),      # TF "SAME" stride 2
    (1, 9, 7, 5, 6, 3, 3, 1, (1, 1, 1, 1)),
    (1, 5, 4, 120, 5, 3, 3, 1, (1, 1, 1, 1)),      # the direct (not gathered) path
], ids=lambda c: "x".join(map(str, c[:7])) + f"_s{c[7]}_p{''.join(map(str, c[8]))}")
def test_conv2d_written_over_its_input_row_by_row(runtime, case):
    """The row-banded in-place conv: the input sits inside the output's buffer at the least
    offset where no output row covers an input row still to be read (worked out here from the
    row sizes, stride and top pad), and the kernel still computes what the oracle does."""
    from .tte_ctypes import PerChannelQuant, _p32

    n, h, w_, cin, cout, kh, kw, stride, pads = case
    rng = np.random.default_rng(sum(case[:8]) * 31 + sum(pads))
    c = _weighted_case(rng, (n, h, w_, cin), (cout, kh, kw, cin), cout, kh * kw * cin)
    oh, ow = _out_hw(h, w_, (kh, kw), stride, pads)
    out_row, in_row = ow * cout, w_ * cin
    offset = max(0, max((r + 1) * out_row - max(0, r * stride - pads[0]) * in_row for r in range(oh)))
    buf = np.zeros(max(oh * out_row, offset + h * in_row), np.int8)
    buf[offset:offset + h * in_row] = c["x"].reshape(-1)
    attrs = {"act_min": c["act"][0], "act_max": c["act"][1], "stride": (stride, stride), "pads": pads}
    expected = oracle.weighted(OpKind.CONV2D, c["x"], c["w"], c["b"], s_in=c["s_in"], zp_in=c["zp_in"],
                               s_w=c["s_w"], s_out=c["s_out"], zp_out=c["zp_out"], out_shape=(n, oh, ow, cout),
                               attrs=attrs)
    mult, shift = _c_quant(c)
    p = ConvParams(stride, stride, *pads, -c["zp_in"], c["zp_out"], *c["act"])
    q = PerChannelQuant(_p32(mult), _p32(shift))
    w = np.ascontiguousarray(c["w"])
    x_in_buf = ctypes.cast(buf.ctypes.data + offset, ctypes.POINTER(ctypes.c_int8))
    st = runtime.lib.tte_conv2d_s8(None, ctypes.byref(p), ctypes.byref(q), ctypes.byref(dims(c["x"].shape)),
                                   x_in_buf, ctypes.byref(dims(w.shape)), _p8(w), _p32(c["b"]),
                                   ctypes.byref(dims((n, oh, ow, cout))), _p8(buf))
    assert st == TTE_OK
    np.testing.assert_array_equal(buf[:oh * out_row].reshape(expected.shape), expected)


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("requant", [False, True])
def test_max_pool2d_matches_oracle(runtime, case, requant):
    from tinyengine_compiler.reference.backward.max_pool2d_grad import argmax

    from .tte_ctypes import Rescale

    n, h, w_, ch, kernel, stride, pads = case
    rng = np.random.default_rng(h * w_ * ch + kernel[0] + 7 * requant)
    x = rng.integers(-128, 128, (n, h, w_, ch), dtype=np.int8)
    x[..., 0] = 5   # a channel of ties: the first largest tap wins
    q_in = (float(_f32(rng.uniform(0.01, 0.1))), int(rng.integers(-128, 128)))
    q_out = (float(_f32(rng.uniform(0.01, 0.1))), int(rng.integers(-128, 128))) if requant else q_in
    oh = (h + pads[0] + pads[2] - kernel[0]) // stride + 1
    ow = (w_ + pads[1] + pads[3] - kernel[1]) // stride + 1
    act = _act(rng, q_out[1], q_out[0])
    attrs = {"kernel": kernel, "stride": (stride, stride), "pads": pads, "act_min": act[0], "act_max": act[1]}
    expected = oracle.pool(OpKind.MAX_POOL2D, x, q_in=q_in, q_out=q_out, out_shape=(n, oh, ow, ch), attrs=attrs)
    # independently: numpy's max over each window's valid taps, requantized
    top, left, _, _ = pads
    best = np.full((n, oh, ow, ch), -1000)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            ys, xs = np.arange(oh) * stride - top + i, np.arange(ow) * stride - left + j
            ok = (ys[:, None] >= 0) & (ys[:, None] < h) & (xs[None] >= 0) & (xs[None] < w_)
            tap = x[:, np.clip(ys, 0, h - 1)][:, :, np.clip(xs, 0, w_ - 1)].astype(int)
            best = np.where(ok[None, :, :, None], np.maximum(best, tap), best)
    if not requant:
        np.testing.assert_array_equal(expected, np.clip(best, *act))
    rq = None
    if requant:
        m, s = quantize_multiplier(q_in[0] / q_out[0])
        rq = Rescale(-q_in[1], q_out[1], m, s)
    got = np.zeros(expected.shape, np.int8)
    assert runtime.call("tte_max_pool2d_s8", PoolParams(stride, stride, *pads, *act), rq, x.shape,
                        np.ascontiguousarray(x), (1, *kernel, 1), got.shape, got) == TTE_OK
    np.testing.assert_array_equal(got, expected)
    if n == 1:   # the tap each window picks, for the backward
        index = np.zeros((1, oh, ow, ch), np.uint8)
        assert runtime.call("tte_max_pool2d_argmax_s8", PoolParams(stride, stride, *pads, -128, 127), x.shape,
                            np.ascontiguousarray(x), (1, *kernel, 1), index.shape, index) == TTE_OK
        np.testing.assert_array_equal(index, argmax(x, kernel, (stride, stride), pads))
        assert (index[..., 0] == (np.maximum(0, top - np.arange(oh) * stride)[:, None] * kernel[1]
                                  + np.maximum(0, left - np.arange(ow) * stride)[None])).all()


@pytest.mark.parametrize("requant", [False, True])
def test_copy_channels_makes_concat_and_channel_select(runtime, requant):
    """A CONCAT, one tte_copy_channels_s8 per input, and a CHANNEL_SELECT (a channel shuffle)
    against the reference ops."""
    from tinyengine_compiler.ir import DType, Graph, Node, QParams, Tensor
    from tinyengine_compiler.ir.quant import quantize_multiplier
    import tinyengine_compiler.reference.ops  # noqa: F401  (registers the reference ops)
    from tinyengine_compiler.registry import REGISTRY

    from .tte_ctypes import Rescale

    rng = np.random.default_rng(5 + requant)
    a, b = rng.integers(-128, 128, (1, 3, 4, 5), np.int8), rng.integers(-128, 128, (1, 3, 4, 3), np.int8)
    q = {n: (float(_f32(rng.uniform(0.01, 0.1))), int(rng.integers(-128, 128))) for n in ("a", "b", "y")}
    if not requant:
        q["b"] = q["y"] = q["a"]
    tensors = {n: Tensor(n, s, DType.INT8, QParams.make(*q[n])) for n, s in
               (("a", a.shape), ("b", b.shape), ("y", (1, 3, 4, 8)))}
    node = Node("cat", OpKind.CONCAT, ["a", "b"], ["y"], {})
    g = Graph("g", tensors, [node], ["a"], ["y"])
    expected = REGISTRY[OpKind.CONCAT].reference(g, node, a, b)

    def rescale(src):
        if q[src] == q["y"]:
            return None
        m, s = quantize_multiplier(q[src][0] / q["y"][0])
        return Rescale(-q[src][1], q["y"][1], m, s)

    got = np.zeros((1, 3, 4, 8), np.int8)
    for name, x, start in (("a", a, 0), ("b", b, 5)):
        c = x.shape[-1]
        assert runtime.call("tte_copy_channels_s8", rescale(name), x.shape, x, None,
                            np.arange(start, start + c, dtype=np.int32), c, got.shape, got) == TTE_OK
    np.testing.assert_array_equal(got, expected)
    if not requant:   # a copy: the inputs, side by side
        np.testing.assert_array_equal(got, np.concatenate([a, b], axis=-1))
    # a channel shuffle of the concat's output, groups 2: out k * 2 + i <- in i * 4 + k
    perm = np.array([i * 4 + k for k in range(4) for i in range(2)], np.int32)
    shuffled = np.zeros_like(got)
    assert runtime.call("tte_copy_channels_s8", None, got.shape, got, perm, None, 8, shuffled.shape,
                        shuffled) == TTE_OK
    np.testing.assert_array_equal(shuffled, got[..., perm])


def _one_node(op, inputs, out_shape, q_out, attrs):
    """A one-node Graph over (name, value, (scale, zero point)) int8 inputs."""
    from tinyengine_compiler.ir import DType, Graph, Node, QParams, Tensor

    tensors = {n: Tensor(n, v.shape, DType.INT8, QParams.make(*q)) for n, v, q in inputs}
    tensors["y"] = Tensor("y", out_shape, DType.INT8, QParams.make(*q_out))
    node = Node("n", op, [n for n, _, _ in inputs], ["y"], attrs)
    return Graph("g", tensors, [node], [inputs[0][0]], ["y"]), node


@pytest.mark.parametrize("inplace", [False, True])
def test_lut_s8(runtime, inplace, function="hardswish"):
    """The table read, in place and not, against the reference op (the table itself is checked
    against onnxruntime in tests/reference/test_activations.py)."""
    from tinyengine_compiler.ir.activations import int8_tables
    import tinyengine_compiler.reference.ops  # noqa: F401  (registers the reference ops)
    from tinyengine_compiler.registry import REGISTRY

    rng = np.random.default_rng(len(function) + inplace)
    x = rng.integers(-128, 128, (1, 5, 6, 7), dtype=np.int8)
    x.ravel()[:2] = (-128, 127)
    q_in = (float(_f32(rng.uniform(0.02, 0.08))), int(rng.integers(-20, 20)))
    q_out = (float(_f32(rng.uniform(0.01, 0.05))), int(rng.integers(-128, -100)))
    attrs = {"function": function, "alpha": 0.2, "beta": 0.5, "lo": 0.0, "hi": 3.0, "mid_scale": 1 / 255,
             "mid_zero_point": -128}
    g, node = _one_node(OpKind.LUT, [("x", x, q_in)], x.shape, q_out, attrs)
    table, _ = int8_tables(function, attrs, g.tensors["x"].qparams, g.tensors["y"].qparams)
    node.attrs["table"] = table
    expected = REGISTRY[OpKind.LUT].reference(g, node, x)
    buf = np.ascontiguousarray(x.copy())
    got = buf if inplace else np.zeros_like(x)
    assert runtime.call("tte_lut_s8", np.array(table, np.int8), x.shape, buf, got) == TTE_OK
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("broadcast", [False, True])
@pytest.mark.parametrize("inplace", [False, True])
def test_mul_s8(runtime, broadcast, inplace):
    """The int8 product against the reference op, and within one step of the real product."""
    import tinyengine_compiler.reference.ops  # noqa: F401  (registers the reference ops)
    from tinyengine_compiler.registry import REGISTRY

    from .tte_ctypes import MulParams

    rng = np.random.default_rng(11 + 2 * broadcast + inplace)
    a = rng.integers(-128, 128, (1, 6, 5, 9), dtype=np.int8)
    b = rng.integers(-128, 128, (1, 1, 1, 9) if broadcast else a.shape, dtype=np.int8)
    q_a, q_b = ((float(_f32(rng.uniform(0.01, 0.1))), int(rng.integers(-128, 128))) for _ in range(2))
    q_out = (float(_f32(q_a[0] * q_b[0] * rng.uniform(40, 120))), int(rng.integers(-20, 20)))
    act = _act(rng, q_out[1], q_out[0])
    g, node = _one_node(OpKind.MUL, [("a", a, q_a), ("b", b, q_b)], a.shape, q_out,
                        {"act_min": act[0], "act_max": act[1]})
    expected = REGISTRY[OpKind.MUL].reference(g, node, a, b)
    real = (a.astype(float) - q_a[1]) * q_a[0] * (b.astype(float) - q_b[1]) * q_b[0]
    near = np.clip(np.round(real / q_out[0]) + q_out[1], *act)
    assert np.abs(expected - near).max() <= 1
    m, s = quantize_multiplier(np.float64(q_a[0]) * np.float64(q_b[0]) / np.float64(q_out[0]))
    p = MulParams(-q_a[1], -q_b[1], m, s, q_out[1], *act)
    buf = np.ascontiguousarray(a.copy())
    got = buf if inplace else np.zeros_like(a)
    assert runtime.call("tte_mul_s8", p, a.shape, buf, b.shape, b, got) == TTE_OK
    np.testing.assert_array_equal(got, expected)
    assert runtime.call("tte_mul_s8", p, a.shape, a, (1, 2, 1, 9), b, got) == TTE_ERR_ARG
