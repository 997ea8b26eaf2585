"""Each gradient rule against float64 central finite differences of the straight-through real
forward (reference/real_forward.py), on small random shapes.

For one forward node y = f(x, w, b) and a random upstream gradient gy, the scalar
L = sum(gy * f(...)) has dL/d(inputs) = what the rule's backward nodes compute from gy.
"""

import numpy as np
import pytest

from tinyengine_compiler.errors import TteError
from tinyengine_compiler.grads import Builder, rule_for
from tinyengine_compiler.ir import DType, OpKind, Tensor
from tinyengine_compiler.reference.real_forward import real_values, run_real
from tinyengine_compiler.training.trainer import run_backward

from .nets import NetBuilder

EPS = 1e-6


def rule_gradients(g, node, values, gy, dtype=np.float64):
    b = Builder(g.copy())
    b.g.tensors["gy"] = Tensor("gy", gy.shape, DType.FLOAT32)
    names = rule_for(node.op)(b, node, "gy")
    out = run_backward(b.g, {**values, "gy": gy}, dtype)
    return {inp: out[n] for inp, n in zip(node.inputs, names) if n is not None}


def finite_difference(g, node, values, gy, name, coords):
    idx = g.nodes.index(node)

    def loss(vals):
        return float(np.sum(gy * run_real(g, vals, idx)[node.outputs[0]]))

    fd = []
    for c in coords:
        plus, minus = dict(values), dict(values)
        plus[name] = values[name].copy()
        minus[name] = values[name].copy()
        plus[name][c] += EPS
        minus[name][c] -= EPS
        fd.append((loss(plus) - loss(minus)) / (2 * EPS))
    return np.array(fd)


def check_node(net, node_name, n_coords=60, seed=0):
    g = net.g
    node = g.node(node_name)
    values = run_real(g, real_values(g, net.x))
    y = values[node.outputs[0]]
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    grads = rule_gradients(g, node, values, gy)
    assert set(grads) == set(node.inputs)
    rng = np.random.default_rng(seed + 1)
    for name, grad in grads.items():
        assert grad.shape == values[name].shape, name
        flat = rng.choice(grad.size, size=min(n_coords, grad.size), replace=False)
        coords = [np.unravel_index(i, grad.shape) for i in flat]
        fd = finite_difference(g, node, values, gy, name, coords)
        got = np.array([grad[c] for c in coords])
        assert np.linalg.norm(fd) > 1e-6, f"{name}: gradient is zero on the sample; the test would be vacuous"
        rel = np.linalg.norm(got - fd) / np.linalg.norm(fd)
        assert rel <= 1e-4, f"{node_name} d/d{name}: relative error {rel:.2e}"
    # the clamp is exercised: some outputs are clamped, some are not
    lo, hi = y.min(), y.max()
    assert np.mean(y == lo) > 0.02 and np.mean((y > lo) & (y < hi)) > 0.15


@pytest.mark.parametrize("k,stride,cin,cout", [(1, 1, 5, 7), (3, 1, 3, 4), (3, 2, 4, 3), (5, 2, 2, 3), (1, 2, 6, 4)])
def test_conv2d_rule(k, stride, cin, cout):
    net = NetBuilder(np.random.default_rng(k * 10 + stride), shape=(1, 7, 6, cin))
    net.conv("conv", cout, k, stride)
    check_node(net, "conv")


@pytest.mark.parametrize("k,stride", [(3, 1), (3, 2), (5, 1), (5, 2), (7, 1), (7, 2)])
def test_depthwise_rule(k, stride):
    net = NetBuilder(np.random.default_rng(100 + k * 10 + stride), shape=(1, 9, 8, 4))
    net.depthwise("dw", k, stride)
    check_node(net, "dw")


def test_fully_connected_rule():
    net = NetBuilder(np.random.default_rng(7), shape=(1, 1, 1, 12))
    net.fc("fc", 5)
    check_node(net, "fc")


def test_add_rule():
    net = NetBuilder(np.random.default_rng(8), shape=(1, 5, 5, 3))
    net.conv("a", 3, 3, relu=False)
    net.add("add", "input")
    check_node(net, "add")


def test_global_avg_pool_rule():
    net = NetBuilder(np.random.default_rng(9), shape=(1, 5, 4, 6))
    net.pool()
    node = net.g.node("pool")
    values = run_real(net.g, real_values(net.g, net.x))
    gy = np.random.default_rng(0).standard_normal((1, 1, 1, 6))
    grads = rule_gradients(net.g, node, values, gy)
    fd = finite_difference(net.g, node, values, gy, "input", [np.unravel_index(i, (1, 5, 4, 6)) for i in range(120)])
    np.testing.assert_allclose(grads["input"].reshape(-1), fd, rtol=1e-6)
    np.testing.assert_allclose(grads["input"][0, 2, 3], gy[0, 0, 0] / 20, rtol=1e-12)  # by hand


@pytest.mark.parametrize("k,stride,pads", [(2, 2, (0, 0, 0, 0)), (3, 2, (1, 1, 1, 1)), (3, 1, (1, 1, 1, 1)),
                                           (3, 2, (0, 0, 1, 1))])
def test_avg_pool2d_rule(k, stride, pads):
    net = NetBuilder(np.random.default_rng(12 + k + stride), shape=(1, 7, 6, 3))
    net.avg_pool("pool", k, stride, pads)
    node = net.g.node("pool")
    values = run_real(net.g, real_values(net.g, net.x))
    gy = np.random.default_rng(2).standard_normal(values["pool.out"].shape)
    grads = rule_gradients(net.g, node, values, gy)
    fd = finite_difference(net.g, node, values, gy, "input", [np.unravel_index(i, (1, 7, 6, 3)) for i in range(126)])
    np.testing.assert_allclose(grads["input"].reshape(-1), fd, rtol=1e-6, atol=1e-9)
    # by hand: with stride 2 and no padding, pixel (0, 0) lies in one 2x2 window
    if (k, stride, pads) == (2, 2, (0, 0, 0, 0)):
        np.testing.assert_allclose(grads["input"][0, 0, 0], gy[0, 0, 0] / 4, rtol=1e-12)


@pytest.mark.parametrize("k,stride,pads", [(2, 2, (0, 0, 0, 0)), (3, 2, (1, 1, 1, 1)), (3, 1, (1, 1, 1, 1)),
                                           (3, 2, (0, 0, 1, 1))])
def test_max_pool2d_rule(k, stride, pads):
    net = NetBuilder(np.random.default_rng(20 + k + stride), shape=(1, 7, 6, 3))
    net.max_pool("pool", k, stride, pads)
    node = net.g.node("pool")
    values = real_values(net.g, net.x)
    # int8 inputs repeat values; ties make the max non-differentiable, so break them
    values["input"] = values["input"] + np.random.default_rng(3).uniform(-1e-3, 1e-3, values["input"].shape)
    values = run_real(net.g, values)
    gy = np.random.default_rng(2).standard_normal(values["pool.out"].shape)
    grads = rule_gradients(net.g, node, values, gy)
    fd = finite_difference(net.g, node, values, gy, "input", [np.unravel_index(i, (1, 7, 6, 3)) for i in range(126)])
    np.testing.assert_allclose(grads["input"].reshape(-1), fd, rtol=1e-6, atol=1e-9)
    # by hand: each window routes its whole gradient to one tap
    assert np.count_nonzero(fd) > 0 and np.isclose(grads["input"].sum(), gy.sum(), rtol=1e-12)


@pytest.mark.parametrize("function, params", [("hardswish", {}), ("hardsigmoid", {"alpha": 1 / 6, "beta": 0.5}),
                                              ("mul_hardsigmoid", {"alpha": 0.2, "beta": 0.5}),
                                              ("clip", {"lo": -10.0, "hi": 20.0}), ("leakyrelu", {"alpha": 0.1}),
                                              ("sigmoid", {}), ("tanh", {})])
def test_lut_rule(function, params):
    net = NetBuilder(np.random.default_rng(30 + len(function)), shape=(1, 5, 4, 6))
    net.conv("c", 6, 3, relu=False)
    net.lut("act", function, **params)
    check_node(net, "act", n_coords=120)


@pytest.mark.parametrize("broadcast", [False, True])
def test_mul_rule(broadcast):
    net = NetBuilder(np.random.default_rng(40 + broadcast), shape=(1, 5, 4, 3))
    net.conv("a", 4, 3, relu=False)
    a = net.current
    if broadcast:   # a squeeze-excite scale: pooled, then a 1x1 conv
        net.pool("se")
        net.conv("se_fc", 4, 1, relu=False)
    else:
        net.conv("b", 4, 3, relu=False)
    other = net.current
    net.current = a
    net.mul("mul", other)
    check_node(net, "mul")


def test_float32_mode_matches_float64():
    net = NetBuilder(np.random.default_rng(11), shape=(1, 8, 8, 4))
    net.conv("conv", 6, 3, 2)
    node = net.g.node("conv")
    x_int8 = net.x
    from tinyengine_compiler.reference.interp import run_graph_all
    int8_values = run_graph_all(net.g, x_int8)
    gy = np.random.default_rng(1).standard_normal(net.g.tensors["conv.out"].shape).astype(np.float32)
    g32 = rule_gradients(net.g, node, int8_values, gy, np.float32)
    g64 = rule_gradients(net.g, node, int8_values, gy.astype(np.float64), np.float64)
    for name in g32:
        assert g32[name].dtype == np.float32
        np.testing.assert_allclose(g32[name], g64[name], rtol=2e-5, atol=1e-6 * np.abs(g64[name]).max())


def test_missing_rule_names_the_op():
    with pytest.raises(TteError, match="FUSED_EXPAND_DEPTHWISE"):
        rule_for(OpKind.FUSED_EXPAND_DEPTHWISE)
