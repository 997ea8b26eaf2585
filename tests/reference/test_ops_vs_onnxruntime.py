"""Each int8 op against onnxruntime running the same op in plain QDQ form (float between
DequantizeLinear and QuantizeLinear, no graph optimizations).

onnxruntime rounds once, in float32, half to even; the executor rounds in fixed point as the
C does (docs/numerics.md).  So on every case: no output differs by more than 1 LSB, and at least
99% are exact.  Cases where ties are frequent by construction (even pooling counts) are checked
exactly against a rational oracle instead, and within 1 LSB against onnxruntime.
"""

from fractions import Fraction
import math

import numpy as np
import pytest
from onnx import numpy_helper

from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.reference.interp import run_graph
import tinyengine_compiler.reference.ops  # noqa: F401  (registers the reference ops)
from tinyengine_compiler.registry import REGISTRY

from .qdq_cases import add_case, pool_case, run_ort, weighted_case

N_INPUTS = 3  # random inputs per case, pooled for the exact-rate statistic
UNIFORM_STD = 74.0  # std of uniform int8 values: 256 / sqrt(12)


def _int8(rng, shape, mean=None, spread=128):
    """Random int8 NHWC tensors; with per-channel `mean`, values mean[c] +- spread."""
    if mean is None:
        return rng.integers(-128, 128, shape).astype(np.int8)
    return np.clip(mean + rng.integers(-spread, spread + 1, shape), -128, 127).astype(np.int8)


def _compare(ours: np.ndarray, theirs: np.ndarray, min_exact: float = 0.99) -> None:
    d = ours.astype(np.int64) - theirs.astype(np.int64)
    assert ours.shape == theirs.shape
    assert np.abs(d).max() <= 1, f"{np.count_nonzero(np.abs(d) > 1)} outputs differ by more than 1 LSB"
    exact = float(np.mean(d == 0))
    assert exact >= min_exact, f"only {exact:.2%} exact"


def _run_both(case, rng, make_input) -> tuple[np.ndarray, np.ndarray]:
    ours, theirs = [], []
    for _ in range(N_INPUTS):
        feeds = {name: make_input(rng, case.graph.tensors[name].shape) for name in case.input_names}
        if len(feeds) == 1:
            ours.append(run_graph(case.graph, next(iter(feeds.values()))))
        else:  # run_graph takes one input; a two-input op runs through the registry directly
            node = case.graph.nodes[0]
            ours.append(REGISTRY[node.op].reference(case.graph, node, *(feeds[n] for n in node.inputs)))
        theirs.append(run_ort(case.model, feeds))
    return np.stack(ours), np.stack(theirs)


def _weighted(rng, op, x_shape, k, c_out, stride=(1, 1), pads=(0, 0, 0, 0), clamp=None, z_out=None):
    """A case whose output spreads over about +-40 LSB: s_out follows the accumulator's std."""
    c_in = x_shape[-1]
    if op == OpKind.CONV2D:
        w = _int8(rng, (c_out, k, k, c_in))
        taps = k * k * c_in
    elif op == OpKind.DEPTHWISE_CONV2D:
        w, c_out, taps = _int8(rng, (1, k, k, c_in)), c_in, k * k
    else:
        taps = int(np.prod(x_shape[1:]))
        w = _int8(rng, (c_out, taps))
    w_scales = 0.01 * rng.uniform(0.5, 1.5, c_out)
    s_in, z_in = 0.02, int(rng.integers(-10, 11))
    s_out = s_in * 0.01 * math.sqrt(taps) * UNIFORM_STD ** 2 / 40
    z_out = int(rng.integers(-20, 21)) if z_out is None else z_out
    bias = rng.integers(-2000, 2001, c_out) * int(math.sqrt(taps))
    return weighted_case(op, x_shape, w, w_scales, bias, s_in, z_in, s_out, z_out, stride, pads, clamp)


CONV_CASES = [  # (kernel, stride, pads (top, left, bottom, right), clamp)
    (1, 1, (0, 0, 0, 0), None),
    (3, 1, (1, 1, 1, 1), None),
    (3, 2, (0, 0, 1, 1), "relu"),   # TF-style SAME on an even input: pad only bottom/right
    (5, 2, (2, 2, 2, 2), None),
    (7, 1, (3, 3, 3, 3), "relu6"),
    (7, 2, (3, 3, 3, 3), None),
]


@pytest.mark.parametrize("k,stride,pads,clamp", CONV_CASES)
def test_conv2d(k, stride, pads, clamp):
    rng = np.random.default_rng(k * 10 + stride)
    case = _weighted(rng, OpKind.CONV2D, (1, 12, 12, 8), k, 24, (stride, stride), pads, clamp)
    _compare(*_run_both(case, rng, _int8))


@pytest.mark.parametrize("k,stride,pads,clamp", CONV_CASES)
def test_depthwise_conv2d(k, stride, pads, clamp):
    rng = np.random.default_rng(100 + k * 10 + stride)
    case = _weighted(rng, OpKind.DEPTHWISE_CONV2D, (1, 14, 14, 32), k, 32, (stride, stride), pads, clamp,
                     z_out=-128 if clamp else None)
    _compare(*_run_both(case, rng, _int8))


@pytest.mark.parametrize("x_shape", [(1, 1, 1, 96), (1, 2, 3, 16)])
def test_fully_connected_flattens_nhwc(x_shape):
    rng = np.random.default_rng(7)
    case = _weighted(rng, OpKind.FULLY_CONNECTED, x_shape, None, 300)
    _compare(*_run_both(case, rng, _int8))


def test_relu_clamp_is_the_output_zero_point():
    rng = np.random.default_rng(8)
    case = _weighted(rng, OpKind.CONV2D, (1, 8, 8, 8), 3, 16, pads=(1, 1, 1, 1), clamp="relu", z_out=-5)
    ours, theirs = _run_both(case, rng, _int8)
    _compare(ours, theirs)
    assert ours.min() == -5 and np.mean(ours == -5) > 0.2  # the clamp is active, not vacuous


def test_saturated_biases_keep_dead_channels_at_the_clamp():
    """The paper's models store dead-channel biases as -2^31 and 2^31-1: bias + sum leaves int32."""
    rng = np.random.default_rng(9)
    case = _weighted(rng, OpKind.CONV2D, (1, 8, 8, 16), 3, 8, pads=(1, 1, 1, 1))
    bias = case.graph.tensors["b"].data
    bias[0], bias[1] = -(1 << 31), (1 << 31) - 1
    next(t for t in case.model.graph.initializer if t.name == "b.q").CopyFrom(numpy_helper.from_array(bias, "b.q"))
    ours, theirs = _run_both(case, rng, _int8)
    _compare(ours, theirs)
    assert (ours[..., 0] == -128).all() and (ours[..., 1] == 127).all()


# Scales in simple ratios (0.05, 0.02 -> 0.06) would put a sixth of the outputs on exact ties,
# where onnxruntime's half-to-even and any fixed-point rounding legitimately differ.
@pytest.mark.parametrize("qa,qb,qout,clamp", [
    ((0.0513, 3), (0.0217, -7), (0.0611, -2), None),
    ((0.0103, -128), (0.0407, 10), (0.0453, 0), None),
    ((0.0311, 0), (0.0311, 0), (0.0519, -128), "relu"),
])
def test_add(qa, qb, qout, clamp):
    rng = np.random.default_rng(int(qa[0] * 1000))
    case = add_case((1, 10, 10, 16), qa, qb, qout, clamp)
    _compare(*_run_both(case, rng, _int8))


def _smooth(rng, shape):
    """Inputs whose channel means differ, so averages spread over the int8 range."""
    return _int8(rng, shape, mean=rng.integers(-90, 91, shape[-1]), spread=35)


@pytest.mark.parametrize("hw,q_in,q_out", [
    ((7, 7), (0.05, 4), (0.05, 4)),          # equal qparams: rounded division, count 49 (no ties)
    ((5, 3), (0.05, -3), (0.05, -3)),
    ((7, 7), (0.05, 4), (0.2017, -6)),       # different qparams: requantized by s_in / (s_out * 49)
    ((4, 4), (0.05, 4), (0.4013, 9)),
])
def test_global_avg_pool(hw, q_in, q_out):
    rng = np.random.default_rng(hw[0] * 10 + hw[1])
    case = pool_case(OpKind.GLOBAL_AVG_POOL, (1, *hw, 256), q_in, q_out)
    _compare(*_run_both(case, rng, _smooth))


def _half_away(q: Fraction) -> int:
    return int(math.copysign(math.floor(abs(q) + Fraction(1, 2)), q)) if q else 0


def test_equal_qparams_pools_round_ties_away_from_zero():
    """Even counts make ties common: onnxruntime (half to even, after subtracting the zero
    point) may differ by 1 there; the executor matches the exact rational rule."""
    rng = np.random.default_rng(11)
    case = pool_case(OpKind.GLOBAL_AVG_POOL, (1, 4, 4, 512), (0.05, 3), (0.05, 3))
    x = _smooth(rng, (1, 4, 4, 512))
    ours, theirs = run_graph(case.graph, x), run_ort(case.model, {"x": x})
    assert np.abs(ours.astype(int) - theirs).max() <= 1
    want = [_half_away(Fraction(int(s), 16)) for s in x.astype(int).sum(axis=(1, 2)).ravel()]
    assert ours.ravel().tolist() == want


@pytest.mark.parametrize("kernel,stride,pads,q_out,min_exact", [
    ((3, 3), (1, 1), (0, 0, 0, 0), (0.05, 2), 0.99),        # equal qparams, count 9 everywhere
    ((5, 5), (1, 1), (2, 2, 2, 2), (0.4013, -1), 0.99),     # different qparams, counts 9..25 at the borders
    # s_in / (s_out * count) for counts 4..9 has a right shift of only 4-5 bits, where double
    # rounding (docs/numerics.md) differs from one exact rounding on about 2^-(shift+1) of values.
    ((3, 3), (2, 2), (1, 1, 1, 1), (0.3011, 5), 0.97),
])
def test_avg_pool2d(kernel, stride, pads, q_out, min_exact):
    rng = np.random.default_rng(kernel[0] + stride[0])
    case = pool_case(OpKind.AVG_POOL2D, (1, 9, 9, 64), (0.05, 2), q_out, kernel, stride, pads)
    _compare(*_run_both(case, rng, _smooth), min_exact)


def test_avg_pool2d_counts_only_valid_taps():
    rng = np.random.default_rng(12)
    case = pool_case(OpKind.AVG_POOL2D, (1, 6, 6, 32), (0.05, 2), (0.05, 2), (3, 3), (2, 2), (1, 1, 1, 1))
    x = _smooth(rng, (1, 6, 6, 32))
    ours = run_graph(case.graph, x)
    assert np.abs(ours.astype(int) - run_ort(case.model, {"x": x})).max() <= 1
    padded = np.pad(x.astype(int), ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=10 ** 6)
    for oy in range(3):
        for ox in range(3):
            win = padded[0, 2 * oy:2 * oy + 3, 2 * ox:2 * ox + 3]
            for c in range(32):
                taps = win[..., c][win[..., c] != 10 ** 6]
                assert ours[0, oy, ox, c] == _half_away(Fraction(int(taps.sum()), taps.size))
