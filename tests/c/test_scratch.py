"""The registry's kernels mirror runtime_c: the same symbols, the same scratch formulas."""

from __future__ import annotations

import itertools
import re

from tinyengine_compiler.registry import KERNELS_BY_SYMBOL

from . import build

WEIGHTED = {"tte_conv2d_s8", "tte_conv2d_1x1_s8", "tte_depthwise_conv2d_s8", "tte_fully_connected_s8"}


def _grid():
    for h, c_in, c_out, k, s in itertools.product((1, 7, 16, 112), (3, 16, 96), (1, 8, 160), (1, 3, 5, 7), (1, 2)):
        oh = (h + 2 * (k // 2) - k) // s + 1
        yield (1, h, h + 1, c_in), (c_out, k, k, c_in), (1, oh, oh, c_out)


def test_channel_at_a_time_kernels_need_one_input_channel():
    """The frozen-prefix kernels (tte_kernels.h "FROZEN-PREFIX MEMORY SAVERS") need one [H, W]
    channel of their input, two for the fused op (the pair of expanded channels)."""
    for symbol, per_pixel in (("tte_fused_expand_depthwise_s8", 2), ("tte_depthwise_conv2d_inplace_s8", 1),
                              ("tte_depthwise_conv2d_grad_input_inplace_f32", 4)):
        for in_shape, _, out_shape in _grid():
            assert KERNELS_BY_SYMBOL[symbol].scratch_bytes(in_shape, None, out_shape) == \
                in_shape[1] * in_shape[2] * per_pixel, symbol


def test_table_symbols_are_the_header_prototypes():
    header = (build.INCLUDE / "tte_kernels.h").read_text()
    declared = set(re.findall(r"^tte_status\s+(tte_\w+)\s*\(", header, re.M))
    assert declared == set(KERNELS_BY_SYMBOL)
    for symbol in KERNELS_BY_SYMBOL:
        assert f"int32_t {symbol}_scratch_bytes(" in header


def test_scratch_formulas_agree_with_c(runtime):
    for symbol, kernel in KERNELS_BY_SYMBOL.items():
        for in_shape, f_shape, out_shape in _grid():
            f = f_shape if symbol in WEIGHTED else None
            assert runtime.scratch_bytes(symbol, in_shape, f, out_shape) == \
                kernel.scratch_bytes(in_shape, f, out_shape), (symbol, in_shape, f, out_shape)
