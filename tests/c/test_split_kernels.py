"""The kernels that read a split weight (tte_kernels.h "SPLIT STORAGE"): the trained input
channels in one array, the frozen tensor in another.  Each must compute what the reference op
computes on the weight the split describes: int8 outputs equal, float32 gradients bit for bit.
The frozen tensor's trained columns hold junk, which must never be read.
"""

from __future__ import annotations

import ctypes as C

import numpy as np
import pytest

from tinyengine_compiler.ir import OpKind, QParams

from . import oracle
from .test_backward_kernels import _bits, _grad, _reference, _scales, _sparse_grad
from .test_kernels import _c_quant, _out_hw, _weighted_case
from .tte_ctypes import (TTE_ERR_ARG, TTE_OK, ConvGradParams, ConvParams, PerChannelQuant, SplitFilter, _p8, _p32,
                         _pf, dims, f32c)

SPLIT_MAX_IN = 640   # TTE_SPLIT_MAX_IN


def _split(rng, w: np.ndarray, channels):
    """(frozen with junk in the trained columns, the trained columns, their list)."""
    frozen = w.copy()
    frozen[..., list(channels)] = rng.integers(-128, 128, (*w.shape[:-1], len(channels)), dtype=np.int8)
    trained = np.ascontiguousarray(w[..., list(channels)])
    return frozen, trained, np.array(channels, np.int32)


def _filter(frozen, trained, chans) -> SplitFilter:
    return SplitFilter(_p8(frozen), _p8(trained), _p32(chans), len(chans))


def _channels(rng, c: int, kind: str) -> tuple[int, ...]:
    if kind == "all":
        return tuple(range(c))
    if kind == "one":
        return (int(rng.integers(c)),)
    return tuple(int(v) for v in np.sort(rng.choice(c, max(1, c // 4), replace=False)))


@pytest.mark.parametrize("n,h,w_,cin,cout,stride", [
    (1, 8, 8, 16, 24, 1), (1, 7, 9, 5, 7, 1), (1, 9, 9, 8, 16, 2), (2, 4, 5, 6, 11, 1), (1, 3, 3, 48, 96, 1)])
@pytest.mark.parametrize("kind", ["some", "one", "all"])
@pytest.mark.parametrize("full", [False, True], ids=["act", "full"])
def test_conv2d_1x1_split_equals_the_oracle(runtime, n, h, w_, cin, cout, stride, kind, full):
    """full: no clamp ([-128, 127]), the pointwise core's direct output stage."""
    rng = np.random.default_rng(1000 * h + 10 * cin + cout + stride + len(kind))
    case = _weighted_case(rng, (n, h, w_, cin), (cout, 1, 1, cin), cout, cin)
    if full:
        case["act"] = (-128, 127)
    oh, ow = _out_hw(h, w_, (1, 1), stride, (0, 0, 0, 0))
    attrs = {"act_min": case["act"][0], "act_max": case["act"][1], "stride": (stride, stride), "pads": (0, 0, 0, 0)}
    expected = oracle.weighted(OpKind.CONV2D, case["x"], case["w"], case["b"], s_in=case["s_in"],
                               zp_in=case["zp_in"], s_w=case["s_w"], s_out=case["s_out"], zp_out=case["zp_out"],
                               out_shape=(n, oh, ow, cout), attrs=attrs)
    frozen, trained, chans = _split(rng, case["w"], _channels(rng, cin, kind))
    mult, shift = _c_quant(case)
    x = np.ascontiguousarray(case["x"])
    out = np.zeros((n, oh, ow, cout), np.int8)
    st = runtime.lib.tte_conv2d_1x1_split_s8(
        None, C.byref(ConvParams(stride, stride, 0, 0, 0, 0, -case["zp_in"], case["zp_out"], *case["act"])),
        C.byref(PerChannelQuant(_p32(mult), _p32(shift))), C.byref(dims(x.shape)), _p8(x),
        C.byref(dims(case["w"].shape)), C.byref(_filter(frozen, trained, chans)), _p32(case["b"]),
        C.byref(dims(out.shape)), _p8(out))
    assert st == TTE_OK
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("h,w_,cin,cout", [(4, 4, 16, 24), (5, 3, 7, 9), (2, 2, 48, 170), (3, 1, 5, 2)])
@pytest.mark.parametrize("kind", ["some", "one", "all"])
@pytest.mark.parametrize("grad", ["dense", "sparse"])
def test_conv2d_grad_input_split_is_bit_exact(runtime, h, w_, cin, cout, kind, grad):
    rng = np.random.default_rng(100 * h + cin + 7 * cout + len(kind))
    gz = (_grad if grad == "dense" else _sparse_grad)(rng, (1, h, w_, cout))
    wt = rng.integers(-127, 128, (cout, 1, 1, cin), dtype=np.int8)
    sw = _scales(rng, cout)
    attrs = {"stride": (1, 1), "pads": (0, 0, 0, 0), "input_shape": (1, h, w_, cin)}
    expected = _reference(OpKind.CONV2D_GRAD_INPUT, [("gz", gz, None), ("w", wt, QParams.make(sw, 0, axis=0))], attrs)
    frozen, trained, chans = _split(rng, wt, _channels(rng, cin, kind))
    out = np.full((1, h, w_, cin), np.nan, np.float32)
    g = f32c(gz)
    st = runtime.lib.tte_conv2d_grad_input_split_f32(
        None, C.byref(ConvGradParams(1, 1, 0, 0, 0, 0, 0.0, 0)), C.byref(dims(g.shape)), _pf(g),
        C.byref(dims(wt.shape)), C.byref(_filter(frozen, trained, chans)), _pf(sw), C.byref(dims(out.shape)),
        _pf(out))
    assert st == TTE_OK
    _bits(out, expected)


def test_malformed_split_filters_are_rejected(runtime):
    x = np.zeros((1, 2, 2, 8), np.int8)
    w = np.zeros((4, 1, 1, 8), np.int8)
    out = np.zeros((1, 2, 2, 4), np.int8)
    ones = np.ones(4, np.int32)
    for chans in ([3, 1], [0, 8], [2, 2]):   # not increasing, out of range, repeated
        c = np.array(chans, np.int32)
        trained = np.zeros((4, 1, 1, len(chans)), np.int8)
        st = runtime.lib.tte_conv2d_1x1_split_s8(
            None, C.byref(ConvParams(1, 1, 0, 0, 0, 0, 0, 0, -128, 127)), C.byref(PerChannelQuant(_p32(ones),
                                                                                                  _p32(ones))),
            C.byref(dims(x.shape)), _p8(x), C.byref(dims(w.shape)), C.byref(_filter(w, trained, c)), None,
            C.byref(dims(out.shape)), _p8(out))
        assert st == TTE_ERR_ARG, chans
    wide = np.zeros((1, 1, 1, SPLIT_MAX_IN + 1), np.int8)
    wide_w = np.zeros((1, 1, 1, SPLIT_MAX_IN + 1), np.int8)
    c = np.array([0], np.int32)
    st = runtime.lib.tte_conv2d_1x1_split_s8(
        None, C.byref(ConvParams(1, 1, 0, 0, 0, 0, 0, 0, -128, 127)), C.byref(PerChannelQuant(_p32(ones),
                                                                                              _p32(ones))),
        C.byref(dims(wide.shape)), _p8(wide), C.byref(dims(wide_w.shape)),
        C.byref(_filter(wide_w, np.zeros(1, np.int8), c)), None, C.byref(dims((1, 1, 1, 1))), _p8(out))
    assert st == TTE_ERR_ARG
