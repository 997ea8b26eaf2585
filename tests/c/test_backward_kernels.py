"""The float32 training kernels of runtime_c/src/ref, bit for bit against reference/backward.

Every output is compared as float32 bit patterns (`.view(np.uint32)`), so a different
summation order, a fused multiply-add or a differently rounded constant fails the test.  The
oracle is the reference op itself (`reference/backward/<op>.py`, `sgd_update.py`,
`mathf.py`), run through a one-node Graph built here; nothing in this file computes a
gradient.  Shapes cover kernels 1/3/5/7, strides 1 and 2, asymmetric and zero pads, channel
subsets (none, some, one), label smoothing 0 and 0.1, every SGD storage and scale mode.  The
real logits (REAL_LOGITS) are also checked against a numpy computation written here.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor
from tinyengine_compiler.ir.ops import BACKWARD_OPS
import tinyengine_compiler.reference.backward  # noqa: F401  (registers the reference ops)
from tinyengine_compiler.registry import REGISTRY
from tinyengine_compiler.reference.backward import mathf
from tinyengine_compiler.reference.backward.sgd_update import clipped_step, round_half_away, sgd_update

from .tte_ctypes import (SCALE_PER_COLUMN, SCALE_PER_ROW, SCALE_PER_TENSOR, TTE_ERR_ARG, TTE_OK, Rows,
                         BACKWARD_SIGNATURES, ClampGradParams, ConvGradParams, FcGradParams, PoolParams,
                         RealLogitsParams, SgdParams, SoftmaxCeParams, f32c)

_DTYPES = {np.dtype(np.int8): DType.INT8, np.dtype(np.int32): DType.INT32, np.dtype(np.float32): DType.FLOAT32}


def _graph(op: OpKind, inputs: list[tuple[str, np.ndarray, QParams | None]], attrs: dict):
    tensors = {n: Tensor(n, tuple(np.shape(v)), _DTYPES[np.asarray(v).dtype], qp) for n, v, qp in inputs}
    tensors["y"] = Tensor("y", (1,), DType.FLOAT32)
    node = Node("n", op, [n for n, _, _ in inputs], ["y"], attrs)
    return Graph("oracle", tensors, [node], [inputs[0][0]], ["y"]), node


def _reference(op: OpKind, inputs, attrs):
    """Run the reference backward op on (name, value, qparams) inputs, in float32."""
    g, node = _graph(op, inputs, attrs)
    return REGISTRY[op].reference(g, node, *(v for _, v, _ in inputs), dtype=np.float32)


def _bits(got, expected, what=""):
    expected = np.asarray(expected, np.float32)
    got = np.asarray(got, np.float32).reshape(expected.shape)
    bad = np.flatnonzero(got.view(np.uint32) != expected.view(np.uint32))
    assert bad.size == 0, (f"{what}: {bad.size} of {got.size} differ; first at {bad[:5]}: "
                           f"{got.ravel()[bad[:5]]} vs {expected.ravel()[bad[:5]]}")


def _grad(rng, shape) -> np.ndarray:
    """float32 gradients over several magnitudes, with exact zeros and negative zeros."""
    g = rng.standard_normal(shape) * 10.0 ** rng.uniform(-4, 1, shape)
    g[rng.random(shape) < 0.05] = 0.0
    g[rng.random(shape) < 0.05] = -0.0
    return g.astype(np.float32)


def _sparse_grad(rng, shape) -> np.ndarray:
    """A gradient that came through a ReLU6 mask: about 70 % zeros (some -0.0), whole zero pixels
    and channels, one NaN and one infinity (they must never be skipped as zeros).  The two are
    in different pixels and channels, so no sum meets both: which of two NaNs a sum keeps is
    the C compiler's choice of operand order, not something a kernel controls."""
    g = _grad(rng, shape)
    g[rng.random(shape) < 0.7] = 0.0
    g[rng.random(shape) < 0.1] = -0.0
    pixels = g.reshape(-1, shape[-1])
    pixels[rng.random(pixels.shape[0]) < 0.2] = 0.0
    pixels[:, rng.random(pixels.shape[1]) < 0.3] = 0.0
    (p_nan, p_inf), (c_nan, c_inf) = (rng.choice(n, 2, replace=False) for n in pixels.shape)
    pixels[p_nan, c_nan], pixels[p_inf, c_inf] = np.nan, -np.inf
    return g


def _scales(rng, n) -> np.ndarray:
    return rng.uniform(0.001, 0.05, n).astype(np.float32)


def _subset(rng, c: int, kind: str):
    if kind == "all":
        return None
    if kind == "one":
        return (int(rng.integers(c)),)
    k = max(1, c // 3)
    return tuple(int(v) for v in np.sort(rng.choice(c, k, replace=False)))


def _nhwc(shape):
    """A [N, IN] shape as the {N, 1, 1, IN} dims the C takes (4-D shapes as they are)."""
    return tuple(shape) if len(shape) == 4 else (shape[0], 1, 1, shape[1])


def _out_hw(h, w, kh, kw, s, pads):
    return (h + pads[0] + pads[2] - kh) // s + 1, (w + pads[1] + pads[3] - kw) // s + 1


# --- mathf ---------------------------------------------------------------------------------

def test_expf_matches_reference_on_a_sweep(runtime):
    rng = np.random.default_rng(1)
    x = np.concatenate([
        np.linspace(-100.0, 100.0, 100001, dtype=np.float32),
        rng.uniform(-90, 90, 100000).astype(np.float32),
        -np.abs(rng.standard_normal(20000) * 10.0 ** rng.uniform(-8, 2, 20000)).astype(np.float32),
        np.array([0.0, -0.0, -87.0, 88.0, -87.00001, 88.00001, 1e-30, -1e-30, 0.5, -0.5,
                  np.log(2) / 2, -np.log(2) / 2, 3.4e38, -3.4e38], np.float32)])
    _bits(runtime.mathf("expf", x), mathf.exp(x, np.float32), "expf")


def test_logf_matches_reference_on_a_sweep(runtime):
    rng = np.random.default_rng(2)
    finite = rng.integers(1, 0x7F7FFFFF, 200000, dtype=np.uint32).view(np.float32)  # incl. subnormals
    special = np.array([1.0, 2.0, 0.5, 0.70710677, 0.70710683, 1.4142135, 1.0000001, 0.99999994,
                        1.1754944e-38, 1.4e-45, 3.4028235e38, 1000.0, 12.345], np.float32)
    x = np.concatenate([finite, special, np.linspace(0.5, 4.0, 50001, dtype=np.float32)])
    with np.errstate(all="ignore"):
        expected = mathf.log(x, np.float32)
    _bits(runtime.mathf("logf", x), expected, "logf")


def test_roundf_matches_round_half_away(runtime):
    rng = np.random.default_rng(3)
    x = np.concatenate([np.arange(-20, 20.5, 0.5, dtype=np.float32),
                        (rng.standard_normal(50000) * 10.0 ** rng.uniform(-2, 12, 50000)).astype(np.float32),
                        np.array([0.49999997, -0.49999997, 8388607.5, -8388607.5, 8388608.0, 1e20, -1e20],
                                 np.float32)])
    got = runtime.mathf("roundf", x)
    np.testing.assert_array_equal(got, round_half_away(x))  # +0 / -0 of a zero may differ: values equal


# --- loss and element-wise ops -------------------------------------------------------------

@pytest.mark.parametrize("k", [2, 10, 37, 1000])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy(runtime, k, smoothing):
    rng = np.random.default_rng(k * 10 + int(smoothing * 10))
    for trial in range(5):
        # real logits over several spreads; 200: differences below -87 are clamped; the last
        # trial repeats the largest value (ties for the maximum)
        logits = (rng.standard_normal((1, k)) * [0.1, 3.0, 30.0, 200.0, 5.0][trial]).astype(np.float32)
        if trial == 4:
            logits[0, rng.choice(k, 2, replace=False)] = logits.max()
        label = np.array([rng.integers(k)], np.int32)
        grad_e, loss_e = _reference(OpKind.SOFTMAX_CROSS_ENTROPY, [("logits", logits, None), ("label", label, None)],
                                    {"label_smoothing": smoothing})
        grad, loss = np.zeros(k, np.float32), np.zeros(1, np.float32)
        p = SoftmaxCeParams(smoothing)
        assert runtime.call("tte_softmax_cross_entropy_f32", p, (1, 1, 1, k), logits, label, grad, loss) == TTE_OK
        _bits(grad, grad_e, "grad")
        _bits(loss, loss_e, "loss")
    bad = np.array([k], np.int32)
    assert runtime.call("tte_softmax_cross_entropy_f32", p, (1, 1, 1, k), logits, bad, grad, loss) == TTE_ERR_ARG


def _real_logits_numpy(x, w, bias, zp, scale):
    """The real logits computed here, independently of the reference: numpy's exact int64
    product, one int -> float32 conversion (round to nearest even), one float32 multiply."""
    acc = (x.reshape(x.shape[0], -1).astype(np.int64) - zp) @ w.astype(np.int64).T + bias.astype(np.int64)
    assert np.all(np.abs(acc) < 2 ** 31)   # the C accumulates in int32
    return acc.astype(np.float32) * scale


@pytest.mark.parametrize("in_shape,classes", [((1, 64), 10), ((1, 1, 1, 320), 10), ((1, 2, 3, 5), 7),
                                              ((2, 17), 4), ((1, 1, 1, 1280), 1000), ((3, 1, 1, 8), 1)])
def test_real_logits(runtime, in_shape, classes):
    rng = np.random.default_rng(int(np.prod(in_shape)) + classes)
    n, depth = in_shape[0], int(np.prod(in_shape[1:]))
    for trial in range(3):
        x = rng.integers(-128, 128, in_shape, dtype=np.int8)
        w = rng.integers(-128, 128, (classes, depth), dtype=np.int8)
        zp = int(rng.integers(-128, 128))
        # trial 1: biases far beyond any int8 logit (a saturated head); trial 2: near +-2^30
        bias = rng.integers(-3000, 3000, classes).astype(np.int32) * [1, 100000, 300000][trial]
        scale = rng.uniform(1e-5, 1e-2, classes).astype(np.float32)
        expected = _real_logits_numpy(x, w, bias, zp, scale)
        out = np.full((n, classes), np.nan, np.float32)
        assert runtime.call("tte_real_logits_f32", RealLogitsParams(-zp), scale, _nhwc(in_shape), x,
                            (classes, 1, 1, depth), w, bias, (n, 1, 1, classes), out) == TTE_OK
        _bits(out, expected, f"trial {trial}")
        reference = _reference(OpKind.REAL_LOGITS, [("x", x, QParams.make(0.05, zp)),
                                                    ("w", w, QParams.make(scale, 0, axis=0)), ("b", bias, None)],
                               {"scale": tuple(float(v) for v in scale)})
        _bits(reference, expected, f"reference, trial {trial}")


def test_real_logits_round_the_accumulator_to_nearest_even(runtime):
    """Accumulators past 2^24 are not float32 values: each rounds once, ties to even."""
    bias = np.array([2 ** 24 + 1, 2 ** 24 + 3, -(2 ** 24 + 1), 2 ** 30 + 65, 7], np.int32)
    x = np.array([[3, -2]], np.int8)
    w = np.zeros((5, 2), np.int8)
    w[4] = [1, -1]   # with input offset 0: the last logit is 7 + 3 * 1 + (-2) * (-1)
    scale = np.ones(5, np.float32)
    out = np.zeros((1, 5), np.float32)
    assert runtime.call("tte_real_logits_f32", RealLogitsParams(0), scale, (1, 1, 1, 2), x, (5, 1, 1, 2), w, bias,
                        (1, 1, 1, 5), out) == TTE_OK
    np.testing.assert_array_equal(out[0], [2 ** 24, 2 ** 24 + 4, -(2 ** 24), 2 ** 30 + 128, 12])
    bad = (1, 1, 1, 4)
    assert runtime.call("tte_real_logits_f32", RealLogitsParams(0), scale, (1, 1, 1, 2), x, (5, 1, 1, 2), w, bias,
                        bad, out) == TTE_ERR_ARG


@pytest.mark.parametrize("inplace", [False, True])
def test_clamp_grad(runtime, inplace):
    rng = np.random.default_rng(5 + inplace)
    for lo, hi in [(-128, 127), (-5, 127), (-5, 40), (None, None), (0, 0)]:
        shape = (1, 5, 7, 9)
        y = rng.integers(-128, 128, shape, dtype=np.int8)
        y.ravel()[:4] = [-128, 127, -5, 40]
        gy = _grad(rng, shape)
        attrs = {"act_min": lo, "act_max": hi}
        expected = _reference(OpKind.CLAMP_GRAD, [("gy", gy, None), ("y", y, QParams.make(0.1, 3))], attrs)
        p = ClampGradParams(-128 if lo is None else lo, 127 if hi is None else hi)
        buf = f32c(gy)
        out = buf if inplace else np.zeros(shape, np.float32)
        assert runtime.call("tte_clamp_grad_f32", p, shape, buf, y, out) == TTE_OK
        _bits(out, expected, f"clamp {lo} {hi}")


@pytest.mark.parametrize("inplace", [None, "a", "b"])
def test_grad_accumulate(runtime, inplace):
    rng = np.random.default_rng(7)
    shape = (1, 6, 6, 13)
    a, b = _grad(rng, shape), _grad(rng, shape)
    expected = _reference(OpKind.GRAD_ACCUMULATE, [("a", a, None), ("b", b, None)], {})
    ca, cb = f32c(a), f32c(b)
    out = {"a": ca, "b": cb}.get(inplace) if inplace else np.zeros(shape, np.float32)
    assert runtime.call("tte_grad_accumulate_f32", shape, ca, cb, out) == TTE_OK
    _bits(out, expected)


@pytest.mark.parametrize("shape", [(1, 7, 7, 16), (1, 1, 1, 10), (2, 3, 5, 9), (1, 13, 11, 3)])
def test_bias_grad(runtime, shape):
    rng = np.random.default_rng(sum(shape))
    gz = _grad(rng, shape)
    expected = _reference(OpKind.BIAS_GRAD, [("gz", gz, None)], {})
    out = np.zeros(shape[3], np.float32)
    assert runtime.call("tte_bias_grad_f32", shape, f32c(gz), (1, 1, 1, shape[3]), out) == TTE_OK
    _bits(out, expected)


@pytest.mark.parametrize("shape", [(1, 7, 7, 16), (1, 1, 1, 10), (2, 3, 5, 9), (1, 6, 6, 5)])
def test_global_avg_pool_grad(runtime, shape):
    rng = np.random.default_rng(sum(shape) + 1)
    gy = _grad(rng, (shape[0], 1, 1, shape[3]))
    expected = _reference(OpKind.GLOBAL_AVG_POOL_GRAD, [("gy", gy, None)], {"input_shape": shape})
    out = np.zeros(shape, np.float32)
    assert runtime.call("tte_global_avg_pool_grad_f32", gy.shape, f32c(gy), shape, out) == TTE_OK
    _bits(out, expected)


# --- convolutions ----------------------------------------------------------------------------

# (h, w, c_in, c_out, kh, kw, stride, pads top/left/bottom/right)
CONV_CASES = [
    (8, 8, 3, 8, 3, 3, 2, (0, 0, 1, 1)),
    (9, 7, 5, 6, 3, 3, 1, (1, 1, 1, 1)),
    (10, 10, 4, 5, 5, 5, 2, (2, 2, 2, 2)),
    (7, 9, 6, 4, 7, 7, 1, (3, 3, 3, 3)),
    (11, 6, 3, 7, 7, 7, 2, (3, 2, 3, 2)),
    (6, 5, 16, 9, 1, 1, 1, (0, 0, 0, 0)),
    (3, 7, 7, 5, 1, 1, 1, (0, 0, 0, 0)),
    (9, 9, 12, 10, 1, 1, 2, (0, 0, 0, 0)),
    (3, 5, 9, 333, 1, 1, 1, (0, 0, 0, 0)),      # more output channels than the 1x1 panel holds
    (13, 14, 6, 5, 1, 1, 1, (0, 0, 0, 0)),      # more pixels than the 1x1 weight-gradient panel holds
    (5, 8, 7, 3, 2, 3, 2, (0, 1, 1, 0)),
    (4, 4, 4, 4, 1, 1, 1, (1, 1, 1, 1)),
    (3, 3, 5, 2, 5, 5, 1, (2, 2, 2, 2)),
]
_ids = lambda c: "x".join(map(str, c[:6])) + f"_s{c[6]}_p{''.join(map(str, c[7]))}"  # noqa: E731


def _conv_params(stride, pads, scale=0.0, zp=0):
    return ConvGradParams(stride, stride, *pads, scale, zp)


@pytest.mark.parametrize("case", CONV_CASES, ids=_ids)
def test_conv2d_grad_input(runtime, case):
    h, w, ci, co, kh, kw, s, pads = case
    rng = np.random.default_rng(sum(case[:7]) * 31 + sum(pads))
    oh, ow = _out_hw(h, w, kh, kw, s, pads)
    gz = _grad(rng, (1, oh, ow, co))
    wt = rng.integers(-127, 128, (co, kh, kw, ci), dtype=np.int8)
    sw = _scales(rng, co)
    attrs = {"stride": (s, s), "pads": pads, "input_shape": (1, h, w, ci)}
    expected = _reference(OpKind.CONV2D_GRAD_INPUT, [("gz", gz, None), ("w", wt, QParams.make(sw, 0, axis=0))], attrs)
    out = np.full((1, h, w, ci), np.nan, np.float32)
    assert runtime.call("tte_conv2d_grad_input_f32", _conv_params(s, pads), gz.shape, f32c(gz), wt.shape, wt,
                        sw, out.shape, out) == TTE_OK
    _bits(out, expected)


# (h, w, c_in, c_out) of 1x1 convs whose grad is mostly zero (tte_gi_1x1.h's sparse path): 16-wide
# blocks plus a 4-wide and a 1-wide tail, output channels over one panel, a pixel tail
SPARSE_1X1_CASES = [(4, 4, 48, 96), (3, 5, 37, 170), (2, 3, 16, 41), (5, 5, 21, 9)]


@pytest.mark.parametrize("case", SPARSE_1X1_CASES, ids=lambda c: "x".join(map(str, c)))
def test_conv2d_grad_input_1x1_sparse_grad(runtime, case):
    h, w, ci, co = case
    rng = np.random.default_rng(h * 1000 + w * 100 + ci * 10 + co)
    gz = _sparse_grad(rng, (1, h, w, co))
    wt = rng.integers(-127, 128, (co, 1, 1, ci), dtype=np.int8)
    sw = _scales(rng, co)
    attrs = {"stride": (1, 1), "pads": (0, 0, 0, 0), "input_shape": (1, h, w, ci)}
    expected = _reference(OpKind.CONV2D_GRAD_INPUT, [("gz", gz, None), ("w", wt, QParams.make(sw, 0, axis=0))], attrs)
    out = np.full((1, h, w, ci), np.nan, np.float32)
    assert runtime.call("tte_conv2d_grad_input_f32", _conv_params(1, (0, 0, 0, 0)), gz.shape, f32c(gz), wt.shape,
                        wt, sw, out.shape, out) == TTE_OK
    _bits(out, expected)


@pytest.mark.parametrize("case", CONV_CASES, ids=_ids)
@pytest.mark.parametrize("subset", ["all", "some", "one"])
def test_conv2d_grad_weight(runtime, case, subset):
    h, w, ci, co, kh, kw, s, pads = case
    rng = np.random.default_rng(sum(case[:7]) * 37 + sum(pads) + len(subset))
    oh, ow = _out_hw(h, w, kh, kw, s, pads)
    x = rng.integers(-128, 128, (1, h, w, ci), dtype=np.int8)
    gz = _grad(rng, (1, oh, ow, co))
    sx, zx = np.float32(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128))
    ch = _subset(rng, ci, subset)
    attrs = {"stride": (s, s), "pads": pads, "kernel": (kh, kw), "channels": ch}
    expected = _reference(OpKind.CONV2D_GRAD_WEIGHT, [("x", x, QParams.make(sx, zx)), ("gz", gz, None)], attrs)
    n = ci if ch is None else len(ch)
    out = np.full((co, kh, kw, n), np.nan, np.float32)
    chans = None if ch is None else np.array(ch, np.int32)
    assert runtime.call("tte_conv2d_grad_weight_f32", _conv_params(s, pads, sx, zx), x.shape, x, gz.shape,
                        f32c(gz), chans, None, out.shape, out) == TTE_OK
    _bits(out, expected)
    # one block of output channels at a time (a fused update): the same rows, bit for bit
    for begin, count in _blocks(co):
        block = np.full((count, kh, kw, n), np.nan, np.float32)
        assert runtime.call("tte_conv2d_grad_weight_f32", _conv_params(s, pads, sx, zx), x.shape, x, gz.shape,
                            f32c(gz), chans, Rows(begin, count), out.shape, block) == TTE_OK
        _bits(block, expected[begin:begin + count])


# (h, w, c, k, stride, pads)
DW_CASES = [
    (8, 8, 8, 3, 1, (1, 1, 1, 1)),
    (9, 9, 6, 3, 2, (1, 1, 1, 1)),
    (10, 10, 5, 3, 2, (0, 0, 1, 1)),
    (7, 8, 12, 5, 1, (2, 2, 2, 2)),
    (11, 11, 9, 5, 2, (2, 2, 2, 2)),
    (9, 6, 4, 7, 1, (3, 3, 3, 3)),
    (12, 13, 7, 7, 2, (3, 3, 3, 3)),
    (3, 3, 3, 5, 1, (2, 2, 2, 2)),
    (6, 6, 5, 1, 1, (0, 0, 0, 0)),
    (12, 11, 3, 9, 2, (4, 4, 4, 4)),            # 81 taps: bands of kernel rows (tte_dw_gi.h)
    (2, 52, 2, 51, 1, (25, 25, 25, 25)),        # a kernel row wider than the weight table
]
_dw_ids = lambda c: "x".join(map(str, c[:4])) + f"_s{c[4]}_p{''.join(map(str, c[5]))}"  # noqa: E731


@pytest.mark.parametrize("case", DW_CASES, ids=_dw_ids)
@pytest.mark.parametrize("grad", ["dense", "sparse"])
def test_depthwise_conv2d_grad_input(runtime, case, grad):
    h, w, c, k, s, pads = case
    rng = np.random.default_rng(sum(case[:5]) * 41 + sum(pads))
    oh, ow = _out_hw(h, w, k, k, s, pads)
    gz = (_grad if grad == "dense" else _sparse_grad)(rng, (1, oh, ow, c))
    wt = rng.integers(-127, 128, (1, k, k, c), dtype=np.int8)
    sw = _scales(rng, c)
    attrs = {"stride": (s, s), "pads": pads, "input_shape": (1, h, w, c)}
    expected = _reference(OpKind.DEPTHWISE_CONV2D_GRAD_INPUT,
                          [("gz", gz, None), ("w", wt, QParams.make(sw, 0, axis=3))], attrs)
    out = np.full((1, h, w, c), np.nan, np.float32)
    assert runtime.call("tte_depthwise_conv2d_grad_input_f32", _conv_params(s, pads), gz.shape, f32c(gz),
                        wt.shape, wt, sw, out.shape, out) == TTE_OK
    _bits(out, expected)


@pytest.mark.parametrize("case", DW_CASES, ids=_dw_ids)
@pytest.mark.parametrize("subset", ["all", "some", "one"])
def test_depthwise_conv2d_grad_weight(runtime, case, subset):
    h, w, c, k, s, pads = case
    rng = np.random.default_rng(sum(case[:5]) * 43 + sum(pads) + len(subset))
    oh, ow = _out_hw(h, w, k, k, s, pads)
    x = rng.integers(-128, 128, (1, h, w, c), dtype=np.int8)
    gz = _grad(rng, (1, oh, ow, c))
    sx, zx = np.float32(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128))
    ch = _subset(rng, c, subset)
    attrs = {"stride": (s, s), "pads": pads, "kernel": (k, k), "channels": ch}
    expected = _reference(OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT, [("x", x, QParams.make(sx, zx)), ("gz", gz, None)],
                          attrs)
    n = c if ch is None else len(ch)
    out = np.full((1, k, k, n), np.nan, np.float32)
    chans = None if ch is None else np.array(ch, np.int32)
    assert runtime.call("tte_depthwise_conv2d_grad_weight_f32", _conv_params(s, pads, sx, zx), x.shape, x,
                        gz.shape, f32c(gz), chans, out.shape, out) == TTE_OK
    _bits(out, expected)


@pytest.mark.parametrize("case", [(8, 8, 3, 2, 2, (0, 0, 0, 0)), (7, 6, 5, 3, 2, (1, 1, 1, 1)),
                                  (9, 9, 4, 3, 1, (1, 1, 1, 1)), (10, 7, 2, 3, 2, (0, 0, 1, 1)),
                                  (6, 6, 3, 5, 3, (2, 1, 2, 1))])
def test_avg_pool2d_grad(runtime, case):
    h, w, c, k, s, pads = case
    rng = np.random.default_rng(sum(case[:5]) * 53 + sum(pads))
    oh, ow = _out_hw(h, w, k, k, s, pads)
    gy = _grad(rng, (1, oh, ow, c))
    attrs = {"kernel": (k, k), "stride": (s, s), "pads": pads, "input_shape": (1, h, w, c)}
    expected = _reference(OpKind.AVG_POOL2D_GRAD, [("gy", gy, None)], attrs)
    out = np.full((1, h, w, c), np.nan, np.float32)
    assert runtime.call("tte_avg_pool2d_grad_f32", PoolParams(s, s, *pads, -128, 127), gy.shape, f32c(gy),
                        (1, k, k, 1), out.shape, out) == TTE_OK
    _bits(out, expected)


# --- fully connected -----------------------------------------------------------------------

@pytest.mark.parametrize("in_shape,out_features", [((1, 64), 10), ((1, 1, 1, 37), 5), ((1, 2, 3, 5), 7),
                                                   ((2, 17), 4), ((3, 1, 1, 8), 1)])
def test_fully_connected_grad_input(runtime, in_shape, out_features):
    rng = np.random.default_rng(int(np.prod(in_shape)) + out_features)
    n, depth = in_shape[0], int(np.prod(in_shape[1:]))
    gz = _grad(rng, (n, out_features))
    wt = rng.integers(-127, 128, (out_features, depth), dtype=np.int8)
    sw = _scales(rng, out_features)
    expected = _reference(OpKind.FULLY_CONNECTED_GRAD_INPUT,
                          [("gz", gz, None), ("w", wt, QParams.make(sw, 0, axis=0))], {"input_shape": in_shape})
    out = np.full(in_shape, np.nan, np.float32)
    assert runtime.call("tte_fully_connected_grad_input_f32", (n, 1, 1, out_features), f32c(gz),
                        (out_features, 1, 1, depth), wt, sw, _nhwc(in_shape), out) == TTE_OK
    _bits(out, expected)


@pytest.mark.parametrize("in_shape,out_features", [((1, 64), 10), ((1, 1, 1, 37), 5), ((1, 2, 3, 5), 7),
                                                   ((2, 17), 4), ((3, 1, 1, 8), 1)])
@pytest.mark.parametrize("subset", ["all", "some", "one"])
def test_fully_connected_grad_weight(runtime, in_shape, out_features, subset):
    rng = np.random.default_rng(int(np.prod(in_shape)) + out_features + len(subset))
    n, depth = in_shape[0], int(np.prod(in_shape[1:]))
    x = rng.integers(-128, 128, in_shape, dtype=np.int8)
    gz = _grad(rng, (n, out_features))
    sx, zx = np.float32(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128))
    ch = _subset(rng, depth, subset)
    expected = _reference(OpKind.FULLY_CONNECTED_GRAD_WEIGHT, [("x", x, QParams.make(sx, zx)), ("gz", gz, None)],
                          {"channels": ch})
    k = depth if ch is None else len(ch)
    out = np.full((out_features, k), np.nan, np.float32)
    chans = None if ch is None else np.array(ch, np.int32)
    assert runtime.call("tte_fully_connected_grad_weight_f32", FcGradParams(sx, zx), _nhwc(in_shape), x,
                        (n, 1, 1, out_features), f32c(gz), chans, None, (out_features, 1, 1, k), out) == TTE_OK
    _bits(out, expected)
    for begin, count in _blocks(out_features):
        block = np.full((count, k), np.nan, np.float32)
        assert runtime.call("tte_fully_connected_grad_weight_f32", FcGradParams(sx, zx), _nhwc(in_shape), x,
                            (n, 1, 1, out_features), f32c(gz), chans, Rows(begin, count),
                            (out_features, 1, 1, k), block) == TTE_OK
        _bits(block, expected[begin:begin + count])


# --- SGD update ------------------------------------------------------------------------------

_SGD = {"float32": ("tte_sgd_update_f32", np.float32), "int8": ("tte_sgd_update_int", np.int8),
        "int32": ("tte_sgd_update_int", np.int32)}


def _param_args(storage, param, image, counter) -> list:
    """The arguments after `rows` up to the velocity: a master and its int8 image, or the int8 or
    int32 parameter in its own slot and the draws counter."""
    return {"float32": [param, image], "int8": [param, None, counter], "int32": [None, param, counter]}[storage]


def _check_sgd(runtime, param, qp, grad, grad_scale, lr, storage, channels, c_dims, mode, draws=None,
               momentum=0.0, velocity=None, step_clip=0.0):
    """One update through the reference and the C; c_dims is the parameter as {rows, h, w, C}.
    With `draws` (an int8 / int32 storage), stochastic rounding from that counter: the C must
    also leave the counter one further for each gradient element, whole or by blocks.  With
    `momentum`, from `velocity` (float32, the gradient's shape): the C must leave the same
    velocity bits, whole or by blocks.  With `step_clip`, rows over it are scaled.  Returns the
    reference's (parameter, velocity) after it."""
    attrs = {"storage": storage, "channels": channels}
    if step_clip:
        attrs["step_clip"] = step_clip
    if draws is not None:
        attrs["rounding"] = "stochastic"
    if momentum:
        attrs["momentum"] = momentum
    g, node = _graph(OpKind.SGD_UPDATE, [("p", param, qp), ("g", grad, None), ("s", grad_scale, None)], attrs)
    expected_velocity = None if velocity is None else np.array(velocity, np.float32, copy=True)
    expected = sgd_update(g, node, param, grad, grad_scale, lr, draws, expected_velocity)
    c_velocity = None if velocity is None else np.array(velocity, np.float32, copy=True, order="C")
    blocked_velocity = None if velocity is None else np.array(velocity, np.float32, copy=True, order="C")
    counter = None if draws is None else np.array([draws], np.uint32)
    blocked_counter = None if draws is None else np.array([draws], np.uint32)
    symbol, dtype = _SGD[storage]
    buf = np.array(param, dtype, copy=True, order="C")
    n = c_dims[3] if channels is None else len(channels)
    chans = None if channels is None else np.array(channels, np.int32)
    # a float32 master also rewrites its int8 image's trained columns; the others keep a marker
    image = np.full(buf.shape, 55, np.int8)
    st = runtime.call(symbol, SgdParams(lr, mode, momentum, step_clip), c_dims, (*c_dims[:3], n), f32c(grad),
                      f32c(grad_scale), chans, None, *_param_args(storage, buf, image, counter), c_velocity)
    assert st == TTE_OK
    # the same update one block of rows at a time (a fused update): the same bytes
    blocked, blocked_image = np.array(param, dtype, copy=True, order="C"), np.full(buf.shape, 55, np.int8)
    grad_rows = np.asarray(grad, np.float32).reshape(c_dims[0], -1)
    for begin, count in _blocks(c_dims[0]):
        assert runtime.call(symbol, SgdParams(lr, mode, momentum, step_clip), c_dims, (*c_dims[:3], n),
                            f32c(grad_rows[begin:begin + count]), f32c(grad_scale), chans, Rows(begin, count),
                            *_param_args(storage, blocked, blocked_image, blocked_counter), blocked_velocity) == TTE_OK
    np.testing.assert_array_equal(blocked.view(np.uint8), buf.view(np.uint8), err_msg=f"{symbol} by blocks")
    np.testing.assert_array_equal(blocked_image, image)
    if draws is not None:
        assert int(counter[0]) == int(blocked_counter[0]) == (draws + np.asarray(grad).size) % (1 << 32)
    if velocity is not None:
        _bits(c_velocity, expected_velocity, f"{symbol} velocity")
        _bits(blocked_velocity, expected_velocity, f"{symbol} velocity by blocks")
    if storage == "float32":
        _bits(buf, expected, symbol)
        cols = slice(None) if channels is None else list(channels)
        want = np.full(buf.shape, 55, np.int8)
        want[..., cols] = np.clip(round_half_away(expected.reshape(buf.shape)[..., cols]), -128, 127)
        np.testing.assert_array_equal(image, want, err_msg="int8 image of the master")
    else:
        np.testing.assert_array_equal(buf.reshape(expected.shape), expected, err_msg=symbol)
    return expected, expected_velocity


def _stored(rng, shape, storage):
    if storage == "float32":
        return (rng.uniform(-127, 127, shape)).astype(np.float32)
    if storage == "int8":
        return rng.integers(-128, 128, shape, dtype=np.int8)
    return rng.integers(-(1 << 31), 1 << 31, shape, dtype=np.int64).astype(np.int32)


@pytest.mark.parametrize("storage", ["float32", "int8"])
@pytest.mark.parametrize("subset", ["all", "some", "one"])
@pytest.mark.parametrize("wshape", [(8, 3, 3, 6), (5, 1, 1, 16), (4, 7, 7, 3)])
def test_sgd_update_conv_weight(runtime, storage, subset, wshape):
    rng = np.random.default_rng(sum(wshape) + len(subset) + len(storage))
    co, ci = wshape[0], wshape[3]
    ch = _subset(rng, ci, subset)
    n = ci if ch is None else len(ch)
    param = _stored(rng, wshape, storage)
    sw = _scales(rng, co)
    for lr, scale in [(0.05, 1.0 / sw), (1.0, 1.0 / sw), (0.1, sw)]:  # QAS s^-1, a big step, no QAS s
        grad = _grad(rng, (*wshape[:3], n))
        _check_sgd(runtime, param, QParams.make(sw, 0, axis=0), grad, scale.astype(np.float32), lr, storage,
                   ch, wshape, SCALE_PER_ROW)


@pytest.mark.parametrize("storage", ["float32", "int8"])
@pytest.mark.parametrize("channels", [None, (1, 4, 9)])
def test_sgd_update_depthwise_weight(runtime, storage, channels):
    # per column (the 1HWC channel axis), every channel or a subset of them
    rng = np.random.default_rng(11)
    wshape = (1, 3, 3, 10)
    param = _stored(rng, wshape, storage)
    sw = _scales(rng, 10)
    grad = _grad(rng, wshape if channels is None else (1, 3, 3, len(channels)))
    _check_sgd(runtime, param, QParams.make(sw, 0, axis=3), grad, (1.0 / sw).astype(np.float32), 0.5, storage,
               channels, wshape, SCALE_PER_COLUMN)


@pytest.mark.parametrize("storage", ["float32", "int8"])
@pytest.mark.parametrize("subset", ["all", "some"])
def test_sgd_update_fc_weight(runtime, storage, subset):
    rng = np.random.default_rng(13 + len(subset) + len(storage))
    wshape = (10, 40)
    ch = _subset(rng, 40, subset)
    param = _stored(rng, wshape, storage)
    sw = _scales(rng, 10)
    grad = _grad(rng, (10, 40 if ch is None else len(ch)))
    _check_sgd(runtime, param, QParams.make(sw, 0, axis=0), grad, (1.0 / sw).astype(np.float32), 0.2, storage,
               ch, (10, 1, 1, 40), SCALE_PER_ROW)


@pytest.mark.parametrize("storage, shape, axis", [("int8", (6, 3, 3, 5), 0), ("int8", (1, 3, 3, 10), 3),
                                                 ("int32", (12,), 0)])
@pytest.mark.parametrize("draws", [0, 123456789, (1 << 32) - 7])   # the last wraps around 2^32
def test_sgd_update_stochastic_rounding(runtime, storage, shape, axis, draws):
    """Stochastic rounding: the C equals the reference bit for bit, whole and by blocks, from a
    counter anywhere in its range; steps from a hundredth of a unit to beyond saturation, whole
    numbers, a NaN and an infinity (each still takes its draw)."""
    rng = np.random.default_rng(draws % 1000 + len(shape))
    param = _stored(rng, shape, storage)
    scale = rng.uniform(0.5, 2.0, shape[axis]).astype(np.float32)
    steps = rng.choice([0.01, 0.3, 0.5, 0.99, 1.0, 2.75, 40.5, 1e6], size=shape) * rng.choice([-1, 1], size=shape)
    grad = (steps / scale.reshape([-1 if i == axis else 1 for i in range(len(shape))])).astype(np.float32)
    grad.reshape(-1)[:2] = [np.nan, np.inf]
    c_dims = (shape[0], 1, 1, 1) if storage == "int32" else shape
    mode = SCALE_PER_COLUMN if axis == 3 else SCALE_PER_ROW
    _check_sgd(runtime, param, QParams.make(scale, 0, axis=axis), grad, scale, 1.0, storage, None, c_dims, mode,
               draws=draws)
    if storage == "int8" and axis == 0:   # a subset of trained columns: the draws follow its order
        channels = (1, 3, 4)
        _check_sgd(runtime, param, QParams.make(scale, 0, axis=axis), np.ascontiguousarray(grad[..., :3]), scale,
                   1.0, storage, channels, c_dims, mode, draws=draws)


def test_stochastic_rounding_is_unbiased():
    """The reference's stochastic rounding, against its definition rather than the C: a step of
    s moves a parameter by floor(s) + 1 with probability frac(s), so over many draws the mean
    move is s (within 4 standard deviations of a binomial), where rounding to nearest would lose
    every step under half a unit."""
    n = 20000
    for s in (0.1, 0.37, -0.25, 2.8):
        g, node = _graph(OpKind.SGD_UPDATE, [("p", np.zeros(n, np.int32), QParams.make(1.0, 0)),
                                             ("g", np.full(n, s, np.float32), None),
                                             ("s", np.ones(1, np.float32), None)],
                         {"storage": "int32", "channels": None, "rounding": "stochastic"})
        moved = -sgd_update(g, node, np.zeros(n, np.int32), np.full(n, s, np.float32), np.ones(1, np.float32),
                            1.0, 5).astype(np.float64)
        frac = s - np.floor(s)
        assert set(np.unique(moved)) <= {np.floor(s), np.floor(s) + 1}
        assert abs(moved.mean() - s) <= 4 * np.sqrt(frac * (1 - frac) / n)


# (a float32 master takes its step unrounded: no draws)
@pytest.mark.parametrize("storage, shape, axis, channels, draws", [
    ("float32", (6, 3, 3, 5), 0, None, None), ("float32", (6, 3, 3, 5), 0, (1, 4), None),
    *[(storage, shape, axis, channels, draws) for draws in (None, 99) for storage, shape, axis, channels in (
        ("int8", (6, 3, 3, 5), 0, (0, 2, 3)), ("int8", (1, 3, 3, 10), 3, None), ("int32", (12,), 0, None))]])
def test_sgd_update_with_momentum_over_steps(runtime, storage, shape, axis, channels, draws):
    """SGD with momentum, three steps in a row from a zero velocity: after each, the C's parameter
    and velocity equal the reference's bit for bit, whole and by blocks; a NaN and an infinite
    gradient element leave their velocity and parameter as they were; with stochastic
    rounding the draws go on as without momentum."""
    rng = np.random.default_rng(len(shape) + axis + (draws or 0))
    param = _stored(rng, shape, storage)
    scale = rng.uniform(0.5, 2.0, shape[axis]).astype(np.float32)
    grad_shape = shape if channels is None else (*shape[:-1], len(channels))
    c_dims = (shape[0], 1, 1, 1) if storage == "int32" else shape
    mode = SCALE_PER_COLUMN if axis == 3 else SCALE_PER_ROW
    velocity = np.zeros(grad_shape, np.float32)
    for step in range(3):
        grad = _grad(rng, grad_shape) * np.float32(3.0)
        if step == 1:
            grad.reshape(-1)[:2] = [np.nan, np.inf]
        before = np.array(velocity, copy=True)
        param, velocity = _check_sgd(runtime, param, QParams.make(scale, 0, axis=axis), grad, scale, 0.7, storage,
                                     channels, c_dims, mode, draws=draws, momentum=0.9, velocity=velocity)
        if step == 1:
            np.testing.assert_array_equal(velocity.reshape(-1)[:2], before.reshape(-1)[:2])
    assert np.count_nonzero(velocity) > velocity.size // 2


@pytest.mark.parametrize("storage, shape, axis, channels, draws, momentum", [
    ("int8", (6, 3, 3, 5), 0, None, None, 0.0), ("int8", (6, 3, 3, 5), 0, (0, 2, 3), 99, 0.9),
    ("float32", (6, 3, 3, 5), 0, (1, 4), None, 0.9), ("int8", (1, 3, 3, 10), 3, None, 7, 0.0),
    ("float32", (1, 3, 3, 10), 3, (1, 4, 9), None, 0.9), ("int8", (5, 1, 1, 16), 0, None, None, 0.0)])
def test_sgd_update_step_clip(runtime, storage, shape, axis, channels, draws, momentum):
    """The step clip over four steps: the C equals the reference bit for bit, whole and by
    blocks, parameters and velocities, with momentum and stochastic rounding.  Step 0 clips
    every row at a finite factor (a large gradient), except, where there are several rows, the
    last (a tiny one); step 1 adds a NaN and an infinite gradient element; the clip changed the
    result."""
    rng = np.random.default_rng(len(shape) + axis + (draws or 0) + int(10 * momentum))
    param = _stored(rng, shape, storage)
    param.reshape(shape[0], -1)[0] = 0      # a row of zeros: its bound is step_clip * 1
    scale = rng.uniform(0.5, 2.0, shape[axis]).astype(np.float32)
    grad_shape = shape if channels is None else (*shape[:-1], len(channels))
    mode = SCALE_PER_COLUMN if axis == 3 else SCALE_PER_ROW
    velocity = np.zeros(grad_shape, np.float32) if momentum else None
    unclipped, unclipped_velocity = np.array(param, copy=True), None if velocity is None else velocity.copy()
    for step in range(4):
        grad = _grad(rng, grad_shape) * np.float32(3.0 if step else 300.0)
        if shape[0] > 1:
            grad.reshape(grad_shape[0], -1)[-1] *= np.float32(0.0001)   # a row well under the bound
        if step == 1:
            grad.reshape(-1)[:2] = [np.nan, np.inf]
        if step == 0:   # the rows over their bound: all but the tiny one, by the definition worked in float64
            cols = slice(None) if channels is None else list(channels)
            per = scale[cols].reshape(1, 1, 1, -1) if axis == 3 else scale.reshape(-1, 1, 1, 1)
            largest = np.abs(0.7 * grad.astype(np.float64) * per).reshape(shape[0], -1).max(axis=1)
            weights = np.abs(np.asarray(param, np.float64)[..., cols]).reshape(shape[0], -1).max(axis=1)
            over = largest > 0.25 * np.maximum(weights, 1.0)
            assert over[:max(1, shape[0] - 1)].all() and (shape[0] == 1 or not over[-1]), over
        param, velocity = _check_sgd(runtime, param, QParams.make(scale, 0, axis=axis), grad, scale, 0.7, storage,
                                     channels, shape, mode, draws=draws, momentum=momentum, velocity=velocity,
                                     step_clip=0.25)
        unclipped, unclipped_velocity = _check_sgd(runtime, unclipped, QParams.make(scale, 0, axis=axis), grad, scale,
                                                   0.7, storage, channels, shape, mode, draws=draws, momentum=momentum,
                                                   velocity=unclipped_velocity)
    assert not np.array_equal(param, unclipped)


def test_step_clip_scales_as_its_definition_says():
    """clipped_step against figures worked by hand in float32, in the documented order (B = c *
    max(W, 1), then B / S, then step * (B / S)): a row over its bound keeps its direction at
    the bound, one under it is untouched, a row of zeros is bounded by step_clip * 1, a NaN step
    is ignored by the row's largest step and stays NaN, an infinite one zeroes its row's finite
    steps and turns NaN itself."""
    f = np.float32
    step = np.array([[3.0, -1.0], [0.5, -0.25], [0.2, 0.1], [np.nan, 0.4], [np.inf, 0.5]], np.float32)
    old = np.array([[10, -2], [-20, 0], [0, 0], [3, 1], [50, 50]], np.int8)
    got, factor = clipped_step(step, old, 0.1)
    b0, b2, b3 = f(0.1) * f(10), f(0.1) * f(1), f(0.1) * f(3)
    want = np.array([[f(3.0) * (b0 / f(3.0)), f(-1.0) * (b0 / f(3.0))], [0.5, -0.25],
                     [f(0.2) * (b2 / f(0.2)), f(0.1) * (b2 / f(0.2))], [np.nan, f(0.4) * (b3 / f(0.4))],
                     [np.nan, 0.0]], np.float32)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(factor[:, 0], [b0 / f(3.0), 1, b2 / f(0.2), b3 / f(0.4), 0])
    assert got.dtype == np.float32 and factor.dtype == np.float32
    # a NaN float32 master is ignored by the row's largest |weight|, as the C's comparison ignores it
    master_step, _ = clipped_step(np.array([[0.0, 0.5, 0.2]], np.float32), np.array([[np.nan, 0.5, 3.0]], np.float32),
                                  0.1)
    b = f(0.1) * f(3.0)
    np.testing.assert_array_equal(master_step, np.array([[0.0, f(0.5) * (b / f(0.5)), f(0.2) * (b / f(0.5))]]))


def test_step_clip_scales_the_velocity_of_a_clipped_row():
    """With momentum, a clipped row's stored velocity is scaled as its step (v * B / S), an
    unclipped row's is v itself: worked by hand."""
    f = np.float32
    param = np.array([[10, 0], [100, 0]], np.int8)
    g, node = _graph(OpKind.SGD_UPDATE, [("p", param, QParams.make(np.ones(2, np.float32), 0, axis=0)),
                                         ("g", np.zeros((2, 2), np.float32), None),
                                         ("s", np.ones(2, np.float32), None)],
                     {"storage": "int8", "channels": None, "momentum": 0.5, "step_clip": 0.1,
                      "rounding": "nearest"})
    velocity = np.array([[2.0, 0.0], [0.0, 0.0]], np.float32)
    grad = np.array([[4.0, 1.0], [2.0, -2.0]], np.float32)
    new = sgd_update(g, node, param, grad, np.ones(2, np.float32), 1.0, None, velocity)
    # row 0: v = (5, 1), S = 5 > B = 1: factor 0.2, step (1, 0.2), v (1, 0.2); row 1: v = (2, -2), B = 10
    np.testing.assert_array_equal(velocity, np.array([[f(5) * (f(1) / f(5)), f(1) * (f(1) / f(5))], [2, -2]]))
    np.testing.assert_array_equal(new, np.array([[9, 0], [98, 2]], np.int8))


def test_momentum_accumulates_as_its_definition_says():
    """The reference against v = mu v + g by hand: a constant gradient of 1 with mu 0.5 moves a
    float32 master by lr * (1, 1.5, 1.75)."""
    g, node = _graph(OpKind.SGD_UPDATE, [("p", np.zeros(1, np.float32), QParams.make(1.0, 0)),
                                         ("g", np.ones(1, np.float32), None), ("s", np.ones(1, np.float32), None)],
                     {"storage": "float32", "channels": None, "momentum": 0.5})
    param, velocity, moves = np.zeros(1, np.float32), np.zeros(1, np.float32), []
    for _ in range(3):
        new = sgd_update(g, node, param, np.ones(1, np.float32), np.ones(1, np.float32), 0.25, None, velocity)
        moves.append(float(param[0] - new[0]))
        param = new
    assert moves == [0.25, 0.375, 0.4375] and velocity.tolist() == [1.75]


def test_sgd_update_per_tensor_scale_and_ties(runtime):
    # steps of exactly k + 0.5 round away from zero; one scale for the whole tensor
    param = np.array([[0, 0, 0, 0, 0, 0, 100, -100, 127, -128]], np.int8)
    grad = np.array([[0.5, -0.5, 1.5, -1.5, 2.4999998, -2.5, 300.0, -300.0, -0.5, 0.5]], np.float32)
    scale = np.array([1.0], np.float32)
    for storage in ("int8", "float32"):
        p = param if storage == "int8" else param.astype(np.float32)
        _check_sgd(runtime, p, QParams.make(1.0, 0), grad, scale, 1.0, storage, None, (1, 1, 1, 10),
                   SCALE_PER_TENSOR)


def test_sgd_update_int32_bias_saturates(runtime):
    rng = np.random.default_rng(17)
    c = 12
    bias = _stored(rng, (c,), "int32")
    bias[:4] = [(1 << 31) - 1, -(1 << 31), (1 << 31) - 5, -(1 << 31) + 5]
    s_b = (_scales(rng, c) * 1e-3).astype(np.float32)
    grad = _grad(rng, (c,))
    grad[:6] = [-1.0, 1.0, -1e3, 1e3, 3e30, -3e30]  # the last two exceed the +-2^32 clamp
    for lr in (0.01, 1.0):
        _check_sgd(runtime, bias, QParams.make(s_b, 0, axis=0), grad, (1.0 / s_b).astype(np.float32), lr,
                   "int32", None, (c, 1, 1, 1), SCALE_PER_ROW)


def _reference_sgd(param, grad, storage):
    """reference/backward/sgd_update.py on one per-tensor update, rate 1, gradient scale 1."""
    g, node = _graph(OpKind.SGD_UPDATE, [("p", param, QParams.make(1.0, 0)), ("g", grad, None),
                                         ("s", np.ones(1, np.float32), None)], {"storage": storage, "channels": None})
    return sgd_update(g, node, param, grad, np.ones(1, np.float32), 1.0)


def test_sgd_update_limits_outward_moves_and_ignores_nan_steps(runtime):
    """tte_train_common.h's limits, with values written out by hand: a bias moves outward not
    past +-2^30 unless it already was (a dead channel's -2^31 stays, and only moves inward), a
    master not past +-2^15, and a NaN step changes nothing, for all three storages."""
    limit = 1 << 30
    bias = np.array([0, limit - 10, -(1 << 31), (1 << 31) - 1, 5, 7], np.int32)
    grad = np.array([-3e9, -100.0, 1.0, -1.0, np.nan, 0.0], np.float32)   # new = P - grad (lr 1, scale 1)
    want = [limit, limit, -(1 << 31), (1 << 31) - 1, 5, 7]
    assert _reference_sgd(bias, grad, "int32").tolist() == want
    _check_sgd(runtime, bias, QParams.make(1.0, 0), grad, np.ones(1, np.float32), 1.0, "int32", None,
               (1, 1, 1, 6), SCALE_PER_TENSOR)
    master = np.array([0.0, 32760.0, -40000.0, 1.5, 2.0, 3.0], np.float32)
    grad = np.array([-1e38, -100.0, -10.0, np.nan, 0.5, -0.25], np.float32)
    want = [32768.0, 32768.0, -39990.0, 1.5, 1.5, 3.25]
    assert _reference_sgd(master, grad, "float32").tolist() == want
    _check_sgd(runtime, master, QParams.make(1.0, 0), grad, np.ones(1, np.float32), 1.0, "float32", None,
               (1, 1, 1, 6), SCALE_PER_TENSOR)
    weight = np.array([100, -100, 3, 0, 127, -128], np.int8)
    grad = np.array([-1e30, 1e30, np.nan, 0.4, -1.0, 1.0], np.float32)
    want = [127, -128, 3, 0, 127, -128]
    assert _reference_sgd(weight, grad, "int8").tolist() == want
    _check_sgd(runtime, weight, QParams.make(1.0, 0), grad, np.ones(1, np.float32), 1.0, "int8", None,
               (1, 1, 1, 6), SCALE_PER_TENSOR)


def _blocks(rows: int) -> list[tuple[int, int]]:
    """Blocks of 3 rows (the last one shorter): an uneven split of every test shape."""
    return [(b, min(3, rows - b)) for b in range(0, rows, 3)]


def test_a_block_outside_the_rows_is_rejected(runtime):
    x, gz = np.zeros((1, 4, 4, 2), np.int8), np.zeros((1, 4, 4, 3), np.float32)
    dw = np.zeros((3, 1, 1, 2), np.float32)
    p = _conv_params(1, (0, 0, 0, 0))
    for bad in (Rows(-1, 2), Rows(2, 2), Rows(0, 0)):
        assert runtime.call("tte_conv2d_grad_weight_f32", p, x.shape, x, gz.shape, gz, None, bad,
                            dw.shape, dw) == TTE_ERR_ARG
        param = np.zeros((3, 1, 1, 2), np.int8)
        assert runtime.call("tte_sgd_update_int", SgdParams(0.1, SCALE_PER_ROW, 0.0), param.shape, param.shape, dw,
                            np.ones(3, np.float32), None, bad, param, None, None, None) == TTE_ERR_ARG


# --- contract --------------------------------------------------------------------------------

def test_every_backward_opkind_has_a_kernel_in_the_header():
    stems = {s.rsplit("_", 1)[0] for s in BACKWARD_SIGNATURES}
    assert stems == {f"tte_{op.value.lower()}" for op in BACKWARD_OPS}


def test_training_kernels_need_no_scratch(runtime):
    for symbol in BACKWARD_SIGNATURES:
        assert runtime.scratch_bytes(symbol, (1, 8, 8, 16), (16, 3, 3, 16), (1, 8, 8, 16)) == 0, symbol


def test_inconsistent_dims_are_rejected(runtime):
    gz = np.zeros((1, 4, 4, 3), np.float32)
    wt = np.zeros((3, 3, 3, 2), np.int8)
    out = np.zeros((1, 4, 4, 2), np.float32)
    sc = np.ones(3, np.float32)
    p = _conv_params(1, (1, 1, 1, 1))
    assert runtime.call("tte_conv2d_grad_input_f32", p, gz.shape, gz, wt.shape, wt, sc, out.shape, out) == TTE_OK
    assert runtime.call("tte_conv2d_grad_input_f32", p, (1, 5, 4, 3), gz, wt.shape, wt, sc, out.shape,
                        out) == TTE_ERR_ARG
    x = np.zeros((1, 4, 4, 2), np.int8)
    dw = np.zeros((3, 3, 3, 2), np.float32)
    for bad in ([1, 0], [2, 5], [0, 0]):  # not increasing, out of range, repeated
        assert runtime.call("tte_conv2d_grad_weight_f32", p, x.shape, x, gz.shape, gz, np.array(bad, np.int32),
                            None, dw.shape, dw) == TTE_ERR_ARG
    assert runtime.call("tte_conv2d_grad_weight_f32", p, x.shape, x, gz.shape, gz, None, None, (3, 3, 3, 1),
                        dw) == TTE_ERR_ARG  # NULL channels means all: n must be C_in


@pytest.mark.parametrize("case", [(8, 8, 3, 2, 2, (0, 0, 0, 0)), (7, 6, 5, 3, 2, (1, 1, 1, 1)),
                                  (9, 9, 4, 3, 1, (1, 1, 1, 1)), (10, 7, 2, 3, 2, (0, 0, 1, 1))])
def test_max_pool2d_grad(runtime, case):
    """From the index tte_max_pool2d_argmax_s8 keeps, the reference's dx (recomputed from x)."""
    h, w, c, k, s, pads = case
    rng = np.random.default_rng(sum(case[:5]) * 59 + sum(pads))
    oh, ow = _out_hw(h, w, k, k, s, pads)
    x = rng.integers(-6, 6, (1, h, w, c), dtype=np.int8)   # few values: many ties and shared taps
    gy = _grad(rng, (1, oh, ow, c))
    attrs = {"kernel": (k, k), "stride": (s, s), "pads": pads, "input_shape": (1, h, w, c)}
    expected = _reference(OpKind.MAX_POOL2D_GRAD, [("gy", gy, None), ("x", x, QParams.make(0.1, 0))], attrs)
    index = np.zeros((1, oh, ow, c), np.uint8)
    p = PoolParams(s, s, *pads, -128, 127)
    assert runtime.call("tte_max_pool2d_argmax_s8", p, x.shape, x, (1, k, k, 1), index.shape, index) == TTE_OK
    out = np.full((1, h, w, c), np.nan, np.float32)
    assert runtime.call("tte_max_pool2d_grad_f32", p, gy.shape, f32c(gy), index, (1, k, k, 1), out.shape,
                        out) == TTE_OK
    _bits(out, expected)


@pytest.mark.parametrize("src, dst, out_c", [((2, 3, 4), None, 3),            # a CONCAT input's channels
                                             (None, (5, 0, 3, 1), 7),        # a CHANNEL_SELECT scattered back
                                             ((1, 0), (3, 6), 8)])
def test_grad_move_channels(runtime, src, dst, out_c):
    rng = np.random.default_rng(out_c)
    n = len(src) if src is not None else len(dst)
    in_c = 6 if src is not None else n
    gy = _grad(rng, (1, 3, 2, in_c))
    attrs = {"in_channels": src, "out_channels": dst, "output_shape": (1, 3, 2, out_c)}
    expected = _reference(OpKind.GRAD_MOVE_CHANNELS, [("gy", gy, None)], attrs)
    out = np.full((1, 3, 2, out_c), np.nan, np.float32)
    lists = [None if c is None else np.array(c, np.int32) for c in (src, dst)]
    assert runtime.call("tte_grad_move_channels_f32", gy.shape, f32c(gy), *lists, n, out.shape, out) == TTE_OK
    _bits(out, expected)
    assert runtime.call("tte_grad_move_channels_f32", gy.shape, f32c(gy), np.array([in_c], np.int32), None, 1,
                        out.shape, out) == TTE_ERR_ARG   # a channel past the input's


@pytest.mark.parametrize("inplace", [False, True])
def test_lut_grad(runtime, inplace):
    from tinyengine_compiler.ir.activations import int8_tables

    rng = np.random.default_rng(23 + inplace)
    x = rng.integers(-128, 128, (1, 4, 5, 6), dtype=np.int8)
    gy = _grad(rng, x.shape)
    q_in, q_out = QParams.make(0.05, 3), QParams.make(0.03, -100)
    attrs = {"function": "hardswish"}
    _, slope = int8_tables("hardswish", attrs, q_in, q_out)
    assert 0 < np.count_nonzero(slope) < 256   # some inputs saturate, some do not
    expected = _reference(OpKind.LUT_GRAD, [("gy", gy, None), ("x", x, q_in)], {**attrs, "slope": slope})
    buf = f32c(gy)
    out = buf if inplace else np.zeros(x.shape, np.float32)
    assert runtime.call("tte_lut_grad_f32", np.array(slope, np.float32), x.shape, buf, x, out) == TTE_OK
    _bits(out, expected)


@pytest.mark.parametrize("form", ["same", "broadcast_other", "broadcast_output"])
def test_mul_grad(runtime, form):
    from .tte_ctypes import MulGradParams

    rng = np.random.default_rng(len(form))
    full, vec = (1, 5, 4, 7), (1, 1, 1, 7)
    gz = _grad(rng, full)
    other = rng.integers(-128, 128, vec if form == "broadcast_other" else full, dtype=np.int8)
    out_shape = vec if form == "broadcast_output" else full
    scale, zp = 0.037, -9
    expected = _reference(OpKind.MUL_GRAD, [("gz", gz, None), ("o", other, QParams.make(scale, zp))],
                          {"output_shape": out_shape})
    out = np.full(out_shape, np.nan, np.float32)
    p = MulGradParams(scale, zp)
    assert runtime.call("tte_mul_grad_f32", p, full, f32c(gz), other.shape, other, out_shape, out) == TTE_OK
    _bits(out, expected)
    assert runtime.call("tte_mul_grad_f32", p, full, f32c(gz), vec, other, vec, out) == TTE_ERR_ARG
