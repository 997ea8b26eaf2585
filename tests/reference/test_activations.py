"""The LUT tables (ir/activations.py) against onnxruntime running the QDQ graph they stand for:
DequantizeLinear -> the float op(s) -> QuantizeLinear over all 256 int8 inputs, for random
quantizations.  `mul_hardsigmoid` is the two-op graph Mul(x, DQ(Q(HardSigmoid(x)))) that the
front end fuses.  Within 1 LSB everywhere (onnxruntime's float library may round the same
expression differently), equal almost everywhere."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tinyengine_compiler.ir import QParams
from tinyengine_compiler.ir.activations import int8_tables

CASES = {
    "hardswish": ({}, lambda x, p: [helper.make_node("HardSwish", [x], ["y"])]),
    "hardsigmoid": ({"alpha": 0.2, "beta": 0.5},
                    lambda x, p: [helper.make_node("HardSigmoid", [x], ["y"], alpha=p["alpha"], beta=p["beta"])]),
    "leakyrelu": ({"alpha": 0.1}, lambda x, p: [helper.make_node("LeakyRelu", [x], ["y"], alpha=p["alpha"])]),
    "sigmoid": ({}, lambda x, p: [helper.make_node("Sigmoid", [x], ["y"])]),
    "tanh": ({}, lambda x, p: [helper.make_node("Tanh", [x], ["y"])]),
    "clip": ({"lo": 0.0, "hi": 6.0}, lambda x, p: [helper.make_node("Clip", [x, "lo", "hi"], ["y"])]),
    "mul_hardsigmoid": ({"alpha": 1 / 6, "beta": 0.5, "mid_scale": 1 / 255, "mid_zero_point": -128},
                        lambda x, p: [helper.make_node("HardSigmoid", [x], ["h"], alpha=p["alpha"], beta=p["beta"]),
                                      helper.make_node("QuantizeLinear", ["h", "s_mid", "z_mid"], ["h_q"]),
                                      helper.make_node("DequantizeLinear", ["h_q", "s_mid", "z_mid"], ["h_f"]),
                                      helper.make_node("Mul", [x, "h_f"], ["y"])]),
}


def _onnxruntime_table(function, params, q_in, q_out) -> np.ndarray:
    inits = {"s_in": np.float32(q_in[0]), "z_in": np.int8(q_in[1]), "s_out": np.float32(q_out[0]),
             "z_out": np.int8(q_out[1]), "lo": np.float32(params.get("lo", 0)), "hi": np.float32(params.get("hi", 0)),
             "s_mid": np.float32(params.get("mid_scale", 1)), "z_mid": np.int8(params.get("mid_zero_point", 0))}
    nodes = [helper.make_node("DequantizeLinear", ["q", "s_in", "z_in"], ["x"]), *CASES[function][1]("x", params),
             helper.make_node("QuantizeLinear", ["y", "s_out", "z_out"], ["out"])]
    graph = helper.make_graph(nodes, "lut", [helper.make_tensor_value_info("q", TensorProto.INT8, [256])],
                              [helper.make_tensor_value_info("out", TensorProto.INT8, [256])],
                              initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return session.run(None, {"q": np.arange(-128, 128, dtype=np.int8)})[0].astype(np.int64)


@pytest.mark.parametrize("function", sorted(CASES))
def test_table_matches_onnxruntime(function):
    rng = np.random.default_rng(len(function))
    params = CASES[function][0]
    exact = 0
    # random output quantizations, and the one a quantizer gives a function bounded in [0, 1]
    # or [-1, 1] (so that its top saturates too)
    usual = {"sigmoid": (1 / 256, -128), "hardsigmoid": (1 / 256, -128), "tanh": (1 / 128, 0)}.get(function)
    for k in range(8):
        q_in = (float(np.float32(rng.uniform(0.01, 0.1))), int(rng.integers(-40, 40)))
        q_out = (float(np.float32(rng.uniform(0.005, 0.05))), int(rng.integers(-128, -90)))
        if usual is not None and k % 2:
            q_out = (float(np.float32(usual[0])), usual[1])
        table, slope = int8_tables(function, params, QParams.make(*q_in), QParams.make(*q_out))
        theirs = _onnxruntime_table(function, params, q_in, q_out)
        diff = np.abs(np.array(table) - theirs)
        assert diff.max() <= 1, (q_in, q_out)
        exact += int((diff == 0).sum())
        _check_slope(function, params, q_in, q_out, np.array(slope))
    assert exact >= 0.98 * 8 * 256


def _check_slope(function, params, q_in, q_out, slope):
    """The slope against one-sided float64 differences of the function, clamped to the output's
    real range (where the int8 output saturates the function is flat): equal to the left or the
    right difference, which differ only at a kink."""
    x = (np.arange(-128, 128) - q_in[1]) * q_in[0]
    lo, hi = (-128 - q_out[1]) * q_out[0], (127 - q_out[1]) * q_out[0]

    def f(v):
        hs = np.clip(v * params.get("alpha", 1 / 6) + params.get("beta", 0.5), 0, 1)
        y = {"clip": np.clip(v, params.get("lo", -np.inf), params.get("hi", np.inf)), "hardsigmoid": hs,
             "leakyrelu": np.where(v >= 0, v, params.get("alpha", 0) * v), "sigmoid": 0.5 + 0.5 * np.tanh(v / 2),
             "tanh": np.sinh(v) / np.cosh(v)}.get(function, v * hs)
        return np.clip(y, lo, hi)

    h = 1e-6
    left, right = (f(x) - f(x - h)) / h, (f(x + h) - f(x)) / h
    assert np.all(np.isclose(slope, left, atol=1e-4) | np.isclose(slope, right, atol=1e-4))
    assert np.count_nonzero(slope) > 0


def test_a_unit_clamped_at_a_float32_bound_passes_no_gradient():
    """The fp32 trainer clamps at bounds computed in float32 (real_forward); its clamp backward
    must compare in float32 too.  With a scale whose float32 bound rounds below the float64 one,
    a unit sitting at the float32 bound is clamped, and its gradient is 0."""
    from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor
    from tinyengine_compiler.reference.backward.clamp_grad import clamp_grad

    hi = 127
    scale = next(s for s in np.linspace(0.01, 0.2, 2001)
                 if np.float32(s) * np.float32(hi) < np.float64(s) * hi)
    q = QParams((float(scale),), (0,))
    tensors = {"y": Tensor("y", (1, 1, 1, 2), DType.INT8, q), "gy": Tensor("gy", (1, 1, 1, 2), DType.FLOAT32)}
    node = Node("clamp", OpKind.CLAMP_GRAD, ["gy", "y"], ["gx"], {"act_min": 0, "act_max": hi})
    g = Graph("g", tensors, [node], ["gy"], ["gx"])
    at_bound = np.float32(scale) * np.float32(hi)
    y = np.array([[[[at_bound, at_bound / 2]]]], np.float32)
    gx = clamp_grad(g, node, np.ones((1, 1, 1, 2), np.float32), y, dtype=np.float32)
    assert gx.reshape(-1).tolist() == [0.0, 1.0]
