"""The saved-state kernels (tte_kernels.h "SAVED STATE"), bit for bit against their oracles.

What passes/lifetimes.py keeps for backward instead of a whole int8 activation must give the
same gradients as the whole activation would:
  * tte_pack_mask_s8 against numpy.packbits(bitorder="little") (through
    reference/backward/saved_state.py and directly);
  * tte_clamp_grad_mask_f32 on the mask packed by the C, against the reference CLAMP_GRAD op
    on the int8 y itself;
  * tte_gather_channels_s8 against x[..., channels];
  * the weight gradients on the gathered input against the reference op with `channels` on
    the full input: tte_conv2d_grad_weight_f32 with channels NULL (no new kernel needed), and
    tte_depthwise_conv2d_grad_weight_kept_f32, which pairs gathered channel j with gradient
    channel channels[j].
Float outputs are compared as float32 bit patterns.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinyengine_compiler.ir import OpKind, QParams
from tinyengine_compiler.reference.backward.saved_state import gather_channels, pack_mask, unpack_mask

from .test_backward_kernels import CONV_CASES, DW_CASES, _bits, _conv_params, _dw_ids, _grad, _ids, _out_hw, \
    _reference, _subset
from .tte_ctypes import TTE_ERR_ARG, TTE_OK, ClampGradParams, f32c

SHAPES = [(1, 1, 1, 1), (1, 1, 1, 7), (1, 1, 1, 8), (1, 1, 1, 9), (1, 3, 5, 9), (2, 4, 4, 13), (1, 7, 7, 16),
          (1, 1, 1, 1000)]
BOUNDS = [(-128, 127), (-5, 127), (-5, 40), (0, 0), (-128, -128), (126, 127)]
SENTINEL = 0xA5


def _y(rng, shape, lo, hi) -> np.ndarray:
    y = rng.integers(-128, 128, shape, dtype=np.int8)
    edge = np.array([lo, hi, lo + 1, hi - 1, -128, 127], np.int64).clip(-128, 127).astype(np.int8)
    y.ravel()[: min(y.size, edge.size)] = edge[: y.size]
    return y


def _c_mask(runtime, y, lo, hi) -> np.ndarray:
    nbytes = -(-y.size // 8)
    out = np.full(nbytes + 4, SENTINEL, np.uint8)  # 4 guard bytes: the kernel writes nbytes only
    assert runtime.call("tte_pack_mask_s8", ClampGradParams(lo, hi), y.shape, y, out) == TTE_OK
    assert (out[nbytes:] == SENTINEL).all(), "wrote past ceil(count / 8)"
    return out[:nbytes]


# --- mask -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_pack_mask(runtime, shape):
    rng = np.random.default_rng(sum(shape))
    for lo, hi in BOUNDS:
        y = _y(rng, shape, lo, hi)
        got = _c_mask(runtime, y, lo, hi)
        direct = np.packbits(((y > lo) & (y < hi)).ravel(), bitorder="little")
        np.testing.assert_array_equal(got, direct, err_msg=f"{lo} {hi}")
        np.testing.assert_array_equal(got, pack_mask(y, lo, hi))
        np.testing.assert_array_equal(unpack_mask(got, y.size), ((y > lo) & (y < hi)).ravel())


def test_pack_mask_layout_is_lsb_first():
    # element i is bit i % 8 of byte i // 8: the documented layout, spelled out once by hand
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], np.int8)
    np.testing.assert_array_equal(pack_mask(y, 0, 127), [0b00000001, 0b00000010])


def test_pack_mask_rejects_bad_bounds(runtime):
    y = np.zeros(9, np.int8)
    out = np.full(2, SENTINEL, np.uint8)
    assert runtime.call("tte_pack_mask_s8", ClampGradParams(5, 4), (1, 1, 1, 9), y, out) == TTE_ERR_ARG
    assert (out == SENTINEL).all()


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("shape", SHAPES[1:], ids=lambda s: "x".join(map(str, s)))
def test_clamp_grad_from_mask_equals_reference_on_y(runtime, shape, inplace):
    rng = np.random.default_rng(sum(shape) + 100 * inplace)
    for lo, hi in BOUNDS + [(None, None)]:
        lo_c, hi_c = (-128 if lo is None else lo), (127 if hi is None else hi)
        y = _y(rng, shape, lo_c, hi_c)
        gy = _grad(rng, shape)
        expected = _reference(OpKind.CLAMP_GRAD, [("gy", gy, None), ("y", y, QParams.make(0.1, 3))],
                              {"act_min": lo, "act_max": hi})
        mask = _c_mask(runtime, y, lo_c, hi_c)
        buf = f32c(gy)
        out = buf if inplace else np.full(shape, np.nan, np.float32)
        assert runtime.call("tte_clamp_grad_mask_f32", shape, buf, mask, out) == TTE_OK
        _bits(out, expected, f"clamp mask {lo} {hi}")


# --- gather -----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 3, 5, 9), (2, 4, 4, 13), (1, 7, 7, 16), (1, 2, 3, 96)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("subset", ["all", "some", "one"])
def test_gather_channels(runtime, shape, subset):
    rng = np.random.default_rng(sum(shape) + len(subset))
    x = rng.integers(-128, 128, shape, dtype=np.int8)
    ch = _subset(rng, shape[3], subset) or tuple(range(shape[3]))
    out = np.zeros((*shape[:3], len(ch)), np.int8)
    assert runtime.call("tte_gather_channels_s8", shape, x, np.array(ch, np.int32), out.shape, out) == TTE_OK
    np.testing.assert_array_equal(out, x[..., list(ch)])
    np.testing.assert_array_equal(out, gather_channels(x, ch))


@pytest.mark.parametrize("channels,n", [((2, 1), 2), ((0, 0), 2), ((0, 9), 2), ((-1, 3), 2), ((0,), 0)])
def test_gather_channels_rejects_bad_lists(runtime, channels, n):
    x = np.zeros((1, 2, 2, 9), np.int8)
    out = np.full((1, 2, 2, max(n, 1)), 7, np.int8)
    chans = np.array(channels, np.int32)
    assert runtime.call("tte_gather_channels_s8", x.shape, x, chans, (1, 2, 2, n), out) == TTE_ERR_ARG
    assert (out == 7).all()


# --- weight gradients on the gathered input ---------------------------------------------------

@pytest.mark.parametrize("case", CONV_CASES, ids=_ids)
@pytest.mark.parametrize("subset", ["some", "one"])
def test_conv2d_grad_weight_on_gathered_input(runtime, case, subset):
    """channels=NULL on x[..., channels] is the reference with `channels` on x: no new kernel."""
    h, w, ci, co, kh, kw, s, pads = case
    rng = np.random.default_rng(sum(case[:7]) * 53 + sum(pads) + len(subset))
    oh, ow = _out_hw(h, w, kh, kw, s, pads)
    x = rng.integers(-128, 128, (1, h, w, ci), dtype=np.int8)
    gz = _grad(rng, (1, oh, ow, co))
    sx, zx = np.float32(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128))
    ch = _subset(rng, ci, subset)
    attrs = {"stride": (s, s), "pads": pads, "kernel": (kh, kw), "channels": ch}
    expected = _reference(OpKind.CONV2D_GRAD_WEIGHT, [("x", x, QParams.make(sx, zx)), ("gz", gz, None)], attrs)
    kept = np.zeros((1, h, w, len(ch)), np.int8)
    assert runtime.call("tte_gather_channels_s8", x.shape, x, np.array(ch, np.int32), kept.shape, kept) == TTE_OK
    out = np.full((co, kh, kw, len(ch)), np.nan, np.float32)
    assert runtime.call("tte_conv2d_grad_weight_f32", _conv_params(s, pads, sx, zx), kept.shape, kept, gz.shape,
                        f32c(gz), None, None, out.shape, out) == TTE_OK
    _bits(out, expected, "conv2d dw from kept channels")


@pytest.mark.parametrize("case", DW_CASES, ids=_dw_ids)
@pytest.mark.parametrize("subset", ["all", "some", "one"])
def test_depthwise_conv2d_grad_weight_kept(runtime, case, subset):
    h, w, c, k, s, pads = case
    rng = np.random.default_rng(sum(case[:5]) * 59 + sum(pads) + len(subset))
    oh, ow = _out_hw(h, w, k, k, s, pads)
    x = rng.integers(-128, 128, (1, h, w, c), dtype=np.int8)
    gz = _grad(rng, (1, oh, ow, c))
    sx, zx = np.float32(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128))
    ch = _subset(rng, c, subset)
    attrs = {"stride": (s, s), "pads": pads, "kernel": (k, k), "channels": ch}
    expected = _reference(OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT, [("x", x, QParams.make(sx, zx)), ("gz", gz, None)],
                          attrs)
    ch = tuple(range(c)) if ch is None else ch
    chans = np.array(ch, np.int32)
    kept = np.zeros((1, h, w, len(ch)), np.int8)
    assert runtime.call("tte_gather_channels_s8", x.shape, x, chans, kept.shape, kept) == TTE_OK
    out = np.full((1, k, k, len(ch)), np.nan, np.float32)
    assert runtime.call("tte_depthwise_conv2d_grad_weight_kept_f32", _conv_params(s, pads, sx, zx), kept.shape,
                        kept, gz.shape, f32c(gz), chans, out.shape, out) == TTE_OK
    _bits(out, expected, "depthwise dw from kept channels")


def test_depthwise_conv2d_grad_weight_kept_rejects_bad_lists(runtime):
    h, w, c, k = 5, 5, 6, 3
    p = _conv_params(1, (1, 1, 1, 1), 0.05, 0)
    kept = np.zeros((1, h, w, 2), np.int8)
    gz = np.zeros((1, h, w, c), np.float32)
    out = np.full((1, k, k, 2), np.nan, np.float32)
    for chans in ((3, 1), (1, 6), (2, 2)):
        assert runtime.call("tte_depthwise_conv2d_grad_weight_kept_f32", p, kept.shape, kept, gz.shape, gz,
                            np.array(chans, np.int32), out.shape, out) == TTE_ERR_ARG
    # more kept channels than the gradient has
    big = np.zeros((1, h, w, c + 1), np.int8)
    assert runtime.call("tte_depthwise_conv2d_grad_weight_kept_f32", p, big.shape, big, gz.shape, gz,
                        np.arange(c + 1, dtype=np.int32), (1, k, k, c + 1), np.zeros((1, k, k, c + 1), np.float32)) \
        == TTE_ERR_ARG
    assert np.isnan(out).all()
