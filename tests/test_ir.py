"""IR invariants: JSON round trip, verify() catching broken graphs, Q31 multipliers."""

import math
from fractions import Fraction

import numpy as np
import pytest

from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor
from tinyengine_compiler.ir.quant import quantize_multiplier
from tinyengine_compiler.ir.verify import verify


def tiny_graph() -> Graph:
    """input 1x4x4x2 -> 3x3 conv s2 (OHWI 3x3x3x2) -> 1x2x2x3 -> GAP -> FC 3->5."""
    rng = np.random.default_rng(0)
    t = {
        "x": Tensor("x", (1, 4, 4, 2), DType.INT8, QParams.make(0.05, -3)),
        "w": Tensor("w", (3, 3, 3, 2), DType.INT8, QParams.make([0.01, 0.02, 0.03], 0, axis=0),
                    rng.integers(-127, 128, (3, 3, 3, 2)).astype(np.int8)),
        "b": Tensor("b", (3,), DType.INT32, QParams.make([5e-4, 1e-3, 1.5e-3], 0, axis=0),
                    np.array([7, -9, 11], np.int32)),
        "y": Tensor("y", (1, 2, 2, 3), DType.INT8, QParams.make(0.1, -128)),
        "p": Tensor("p", (1, 1, 1, 3), DType.INT8, QParams.make(0.1, -128)),
        "fw": Tensor("fw", (5, 3), DType.INT8, QParams.make([0.02] * 5, 0, axis=0),
                     rng.integers(-127, 128, (5, 3)).astype(np.int8)),
        "fb": Tensor("fb", (5,), DType.INT32, QParams.make([0.002] * 5, 0, axis=0), np.zeros(5, np.int32)),
        "z": Tensor("z", (1, 5), DType.INT8, QParams.make(0.2, 4)),
    }
    nodes = [
        Node("conv", OpKind.CONV2D, ["x", "w", "b"], ["y"],
             {"stride": (2, 2), "pads": (1, 1, 1, 1), "act_min": -128, "act_max": 127}),
        Node("pool", OpKind.GLOBAL_AVG_POOL, ["y"], ["p"], {}),
        Node("fc", OpKind.FULLY_CONNECTED, ["p", "fw", "fb"], ["z"], {"act_min": -128, "act_max": 127}),
    ]
    return Graph("tiny", t, nodes, ["x"], ["z"])


def test_json_round_trip_is_lossless():
    g = verify(tiny_graph())
    h = Graph.from_json(g.to_json())
    assert h.to_json() == g.to_json()
    assert [n.attrs for n in h.nodes] == [n.attrs for n in g.nodes]
    np.testing.assert_array_equal(h.tensors["w"].data, g.tensors["w"].data)
    assert h.tensors["w"].data.dtype == np.int8
    assert h.tensors["b"].qparams == g.tensors["b"].qparams


@pytest.mark.parametrize("breakage, message", [
    (lambda g: g.nodes.reverse(), "used before it is produced"),
    (lambda g: setattr(g.tensors["y"], "shape", (1, 4, 4, 3)), "output shape"),
    (lambda g: g.nodes[0].inputs.__setitem__(0, "nope"), "unknown input"),
    (lambda g: setattr(g.tensors["y"], "qparams", None), "no quantization parameters"),
    (lambda g: g.nodes.append(Node("again", OpKind.GLOBAL_AVG_POOL, ["y"], ["p"], {})), "produced twice"),
    (lambda g: setattr(g.tensors["fw"], "data", np.zeros((5, 4), np.int8)) or
     setattr(g.tensors["fw"], "shape", (5, 4)), "channels"),
])
def test_verify_rejects_broken_graphs(breakage, message):
    g = tiny_graph()
    breakage(g)
    with pytest.raises(ValueError, match=message):
        verify(g)


@pytest.mark.parametrize("real", [1e-12, 3.1e-5, 0.000123, 0.25, 0.5, 0.7071, 0.99999999, 1.0, 1.5, 3.75, 1000.0])
def test_quantize_multiplier_reconstructs_the_real_value(real):
    m, shift = quantize_multiplier(real)
    if real < 2.0 ** -32:
        assert (m, shift) == (0, 0)
        return
    assert 2 ** 30 <= m < 2 ** 31
    approx = Fraction(m, 2 ** 31) * Fraction(2) ** shift
    assert abs(approx - Fraction(real)) <= Fraction(real) * Fraction(1, 2 ** 30)
    # the mantissa is the nearest Q31 value: frexp gives it independently of the code under test
    mant, exp = math.frexp(real)
    assert abs(Fraction(m) - Fraction(mant) * 2 ** 31) <= Fraction(1, 2) or (m == 2 ** 30 and exp + 1 == shift)
