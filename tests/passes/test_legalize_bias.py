"""Bias legalization: no int32 overflow in C, and provably the same outputs."""

import numpy as np
import pytest

from tinyengine_compiler.errors import UnsupportedError
from tinyengine_compiler.passes.legalize_bias import legalize_bias

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def test_ordinary_biases_are_untouched():
    w = np.array([[1, -2, 3], [127, -127, 0]], np.int8)
    b = np.array([1000, -5000], np.int32)
    out = legalize_bias("n", w, b, input_zero=-128, reals=np.array([1e-3, 1e-3]), output_zero=0,
                        act_min=-128, act_max=127)
    np.testing.assert_array_equal(out, b)


def test_dead_channel_bias_moves_inside_int32():
    # 4 taps of weight 2, input zero point 0: (x - zp) * w spans [-256, 254] a tap, so the
    # sum spans [-1024, 1016]; INT32_MIN + sum must not wrap, so the bias becomes INT32_MIN + 1024.
    w = np.full((1, 4), 2, np.int8)
    out = legalize_bias("n", w, np.array([INT32_MIN], np.int32), input_zero=0, reals=np.array([1e-4]),
                        output_zero=-128, act_min=-128, act_max=127)
    assert out.tolist() == [INT32_MIN + 1024]
    top = legalize_bias("n", w, np.array([INT32_MAX], np.int32), input_zero=0, reals=np.array([1e-4]),
                        output_zero=-128, act_min=-128, act_max=127)
    assert top.tolist() == [INT32_MAX - 1016]


def test_a_move_that_would_change_outputs_is_refused():
    # The multiplier puts the rounding boundary -63.5 at accumulator INT32_MIN + 500, inside the
    # reachable range [INT32_MIN (saturated), INT32_MIN + 1016]: the channel's output depends on
    # the input there (-64 or -63), and where the bias sits inside int32 matters.  Refusing
    # beats a silent change.
    w = np.full((1, 4), 2, np.int8)
    with pytest.raises(UnsupportedError, match="node 'layer': channel 0"):
        legalize_bias("layer", w, np.array([INT32_MIN], np.int32), input_zero=0,
                      reals=np.array([63.5 / (2 ** 31 - 500)]), output_zero=0, act_min=-128, act_max=127)
