"""autodiff: the emitted backward graph (hand-written Expected text) and, for a small residual
network and for a classifier whose int8 logits all sit at the clamp, the gradient of every
parameter against float64 central finite differences of the straight-through real forward with
an independent numpy softmax cross-entropy of the classifier's real logits."""

import numpy as np
import pytest

from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.ir.ops import BACKWARD_OPS
from tinyengine_compiler.passes.autodiff import autodiff
from tinyengine_compiler.reference.interp import run_graph
from tinyengine_compiler.reference.real_forward import real_values, run_real
from tinyengine_compiler.training.trainer import run_backward

from ..grads.nets import NetBuilder, saturate_classifier
from ..training.finite_differences import real_logits


def dump(g):
    return "\n".join(f"{n.name}: {n.op.value}({', '.join(n.inputs)}) -> {', '.join(n.outputs)}"
                     for n in g.nodes if n.op in BACKWARD_OPS)


def residual_net(seed=0):
    net = NetBuilder(np.random.default_rng(seed), shape=(1, 8, 8, 3))
    net.conv("c0", 4, 3, 2)
    block_in = net.current
    net.conv("c1", 8, 1)
    net.depthwise("dw", 3)
    net.conv("c2", 4, 1, relu=False)
    net.add("add", block_in)
    net.pool()
    net.fc("fc", 5)
    return net


def test_pool_fc_backward_graph_text():
    net = NetBuilder(np.random.default_rng(0), shape=(1, 2, 2, 3))
    net.pool()
    net.fc("fc", 4)
    g = autodiff(net.g)
    assert g.inputs == ["input", "label"] and g.outputs == ["fc.out", "loss"]
    assert dump(g) == """\
fc.real_logits: REAL_LOGITS(pool.out, fc.weight, fc.bias) -> fc.real_logits
loss: SOFTMAX_CROSS_ENTROPY(fc.real_logits, label) -> fc.real_logits.grad, loss
fc.grad_input: FULLY_CONNECTED_GRAD_INPUT(fc.real_logits.grad, fc.weight) -> pool.out.grad
fc.grad_weight: FULLY_CONNECTED_GRAD_WEIGHT(pool.out, fc.real_logits.grad) -> fc.weight.grad
fc.grad_bias: BIAS_GRAD(fc.real_logits.grad) -> fc.bias.grad
fc.weight.sgd_update: SGD_UPDATE(fc.weight, fc.weight.grad, fc.weight.grad_scale) -> fc.weight.updated
fc.bias.sgd_update: SGD_UPDATE(fc.bias, fc.bias.grad, fc.bias.grad_scale) -> fc.bias.updated
pool.grad_input: GLOBAL_AVG_POOL_GRAD(pool.out.grad) -> input.grad"""
    upd = g.node("fc.weight.sgd_update")
    assert upd.attrs == {"layer": "fc", "param": "weight", "channels": None, "storage": "float32", "qas": False}
    np.testing.assert_array_equal(g.tensors["fc.weight.grad_scale"].data, g.tensors["fc.weight"].qparams.scale)


def test_residual_gradients_accumulate():
    g = autodiff(residual_net().g)
    acc = [n for n in g.nodes if n.op == OpKind.GRAD_ACCUMULATE]
    # c0.out is read by c1 and by the add: one sum, emitted before c0's rule reads it.
    assert [(n.inputs, n.outputs) for n in acc] == [(["add.preact.grad", "c0.out.grad.c1"], ["c0.out.grad"])]
    assert g.nodes.index(acc[0]) < g.nodes.index(g.node("c0.clamp_grad"))


def softmax_ce(logits, label, smoothing):
    k = logits.size
    t = np.full(k, smoothing / k)
    t[label] += 1 - smoothing
    z = logits.reshape(-1)
    return float(np.log(np.sum(np.exp(z - z.max()))) + z.max() - t @ z)


def check_every_gradient(net, label, smoothing):
    """Every trained parameter's gradient (float64) against central differences of the loss."""
    g = autodiff(net.g, label_smoothing=smoothing)
    values = run_real(g, real_values(g, net.x))
    grads = run_backward(g, {**values, "label": np.array([label])}, np.float64)
    rng = np.random.default_rng(0)
    eps = 1e-6
    for upd in (n for n in g.nodes if n.op == OpKind.SGD_UPDATE):
        param, grad = upd.inputs[0], grads[upd.inputs[1]]
        start = next(i for i, n in enumerate(g.nodes) if param in n.inputs)
        coords = [np.unravel_index(i, grad.shape) for i in rng.choice(grad.size, min(25, grad.size), replace=False)]
        fd = []
        for c in coords:
            out = []
            for sign in (1, -1):
                v = dict(values)
                v[param] = values[param].copy()
                v[param][c] += sign * eps
                out.append(softmax_ce(real_logits(g, run_real(g, v, start)), label, smoothing))
            fd.append((out[0] - out[1]) / (2 * eps))
        fd, got = np.array(fd), np.array([grad[c] for c in coords])
        assert np.linalg.norm(fd) > 1e-8, param
        assert np.linalg.norm(got - fd) / np.linalg.norm(fd) <= 1e-4, param


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_every_parameter_gradient_against_finite_differences(smoothing):
    check_every_gradient(residual_net(seed=3), 2, smoothing)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_a_saturated_classifier_still_gets_its_gradient(smoothing):
    """Every int8 logit at the clamp (the clamped loss would have a zero gradient everywhere):
    the loss reads the real logits, so every parameter still gets its true gradient."""
    net = residual_net(seed=3)
    saturate_classifier(net, [4.0, 3.0, -3.0, -4.0, 2.5])
    assert set(run_graph(net.g, net.x).reshape(-1)) == {-128, 127}
    check_every_gradient(net, 3, smoothing)


def test_backward_stops_at_the_earliest_trained_layer(monkeypatch):
    """With `trained`, autodiff builds the backward of the ops above the earliest trained layer
    only: an op without a gradient rule below it is fine, above it an error naming the op,
    the node and the trained layer that needs its gradient."""
    from tinyengine_compiler.errors import UnsupportedError
    from tinyengine_compiler.registry import REGISTRY

    net = NetBuilder(np.random.default_rng(3), shape=(1, 4, 4, 3))
    net.conv("c0", 4, 3)
    net.pool()
    net.fc("fc", 5)
    monkeypatch.setattr(REGISTRY[OpKind.GLOBAL_AVG_POOL], "gradient", None)   # as if the pool had no rule
    g = autodiff(net.g, trained=["fc.weight", "fc.bias"])
    assert dump(g) == """\
fc.real_logits: REAL_LOGITS(pool.out, fc.weight, fc.bias) -> fc.real_logits
loss: SOFTMAX_CROSS_ENTROPY(fc.real_logits, label) -> fc.real_logits.grad, loss
fc.grad_input: FULLY_CONNECTED_GRAD_INPUT(fc.real_logits.grad, fc.weight) -> pool.out.grad
fc.grad_weight: FULLY_CONNECTED_GRAD_WEIGHT(pool.out, fc.real_logits.grad) -> fc.weight.grad
fc.grad_bias: BIAS_GRAD(fc.real_logits.grad) -> fc.bias.grad
fc.weight.sgd_update: SGD_UPDATE(fc.weight, fc.weight.grad, fc.weight.grad_scale) -> fc.weight.updated
fc.bias.sgd_update: SGD_UPDATE(fc.bias, fc.bias.grad, fc.bias.grad_scale) -> fc.bias.updated"""
    with pytest.raises(UnsupportedError, match=r"node 'pool' \(GLOBAL_AVG_POOL\) has no gradient rule.*to train "
                                               r"c0; supported for training: .*CONV2D"):
        autodiff(net.g, trained=["c0.bias"])
