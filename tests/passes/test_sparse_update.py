"""sparse_update: what remains after pruning, on a hand-built net (Expected text) and on the
paper's models (counts pinned after counting by hand, reasoning in the comments)."""

import collections
import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main
from tinyengine_compiler.frontend.paper_pkl import load_paper_model
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.ir.ops import BACKWARD_OPS
from tinyengine_compiler.passes.autodiff import autodiff
from tinyengine_compiler.passes.sparse_update import sparse_update, trained_params
from tinyengine_compiler.pipeline import for_classes, training_graph
from tinyengine_compiler.scheme import PRESETS, LayerUpdate, parse_scheme, resolve

from .test_autodiff import dump, residual_net


def test_classifier_bias_only_keeps_no_conv():
    g = autodiff(residual_net().g)
    pruned = sparse_update(g, {"fc": LayerUpdate(bias=True, channels=None)})
    assert dump(pruned) == """\
fc.real_logits: REAL_LOGITS(pool.out, fc.weight, fc.bias) -> fc.real_logits
loss: SOFTMAX_CROSS_ENTROPY(fc.real_logits, label) -> fc.real_logits.grad, loss
fc.grad_bias: BIAS_GRAD(fc.real_logits.grad) -> fc.bias.grad
fc.bias.sgd_update: SGD_UPDATE(fc.bias, fc.bias.grad, fc.bias.grad_scale) -> fc.bias.updated"""
    assert "fc.weight.grad_scale" not in pruned.tensors and "c1.weight.grad" not in pruned.tensors


def test_partial_channels_and_earliest_layer():
    g = autodiff(residual_net().g)
    pruned = sparse_update(g, {"c2": LayerUpdate(bias=False, channels=(1, 5)), "fc": LayerUpdate(True, None)},
                           weight_storage="int8")
    # backward stops at c2: no input gradient for c2, nothing of dw/c1/c0; c2's weight gradient
    # keeps input channels 1 and 5 only.
    assert dump(pruned) == """\
fc.real_logits: REAL_LOGITS(pool.out, fc.weight, fc.bias) -> fc.real_logits
loss: SOFTMAX_CROSS_ENTROPY(fc.real_logits, label) -> fc.real_logits.grad, loss
fc.grad_input: FULLY_CONNECTED_GRAD_INPUT(fc.real_logits.grad, fc.weight) -> pool.out.grad
fc.grad_bias: BIAS_GRAD(fc.real_logits.grad) -> fc.bias.grad
fc.bias.sgd_update: SGD_UPDATE(fc.bias, fc.bias.grad, fc.bias.grad_scale) -> fc.bias.updated
pool.grad_input: GLOBAL_AVG_POOL_GRAD(pool.out.grad) -> add.out.grad
add.clamp_grad: CLAMP_GRAD(add.out.grad, add.out) -> add.preact.grad
c2.clamp_grad: CLAMP_GRAD(add.preact.grad, c2.out) -> c2.preact.grad
c2.grad_weight: CONV2D_GRAD_WEIGHT(dw.out, c2.preact.grad) -> c2.weight.grad
c2.weight.sgd_update: SGD_UPDATE(c2.weight, c2.weight.grad, c2.weight.grad_scale) -> c2.weight.updated"""
    assert pruned.tensors["c2.weight.grad"].shape == (4, 1, 1, 2)
    assert pruned.node("c2.grad_weight").attrs["channels"] == (1, 5)
    upd = pruned.node("c2.weight.sgd_update").attrs
    assert upd["channels"] == (1, 5) and upd["storage"] == "int8"
    assert [(p.name, p.elements, p.bytes) for p in trained_params(pruned)] == [
        ("fc.bias", 5, 20), ("c2.weight", 8, 8)]


def counts(model_dir, model, preset, num_classes=None):
    g = load_paper_model(f"{model_dir}/{model}.pkl")
    g, scheme = for_classes(g, PRESETS[preset], num_classes)
    full, train = training_graph(g, scheme)
    return ([n for n in full.nodes if n.op in BACKWARD_OPS], [n for n in train.nodes if n.op in BACKWARD_OPS],
            train)


def test_mcunet_paper_scheme_counts(paper_models_dir):
    before, after, train = counts(paper_models_dir, "mcunet-5fps", "paper-mcunet-5fps")
    # The whole backward graph (every partial of every op): MCUNet has 42 convs + the
    # classifier = 43 weighted layers, 7 adds, 1 pool.  The real logits and the loss 2; per
    # weighted layer grad_input, grad_weight, grad_bias, and a clamp_grad per conv (the loss reads
    # the classifier's logits before its clamp): 3 * 43 + 42 = 171; one update per weight and
    # bias: 86; a clamp_grad per add: 7; the pool: 1; a GRAD_ACCUMULATE per residual block
    # input: 7.  2 + 171 + 86 + 7 + 1 + 7 = 274.
    g = load_paper_model(f"{paper_models_dir}/mcunet-5fps.pkl")
    assert len([n for n in autodiff(g).nodes if n.op in BACKWARD_OPS]) == 274
    # What autodiff builds for the scheme (every partial of the ops above the earliest trained
    # layer, conv 20 = blocks.6.pointwise2): convs 20..41 and the classifier, 23 weighted layers:
    # 3 * 23 + 22 clamp_grads = 91 partials and 2 * 23 = 46 updates; the 5 adds above conv 20
    # (blocks 6, 8, 9, 11, 12): 5 clamp_grads; pool 1, real logits and loss 2; accumulations at
    # the inputs of blocks 8, 9, 11, 12: 4 (block 6's input gets one contribution, from its
    # add).  91 + 46 + 5 + 1 + 2 + 4 = 149.
    assert len(before) == 149
    # After: n_bias_update 22 trains the biases of convs 20..41, so backward stops at conv 20
    # (blocks.6.pointwise2).  Convs 20..41 (22): clamp_grad 22, grad_bias 22, grad_input 21
    # (not conv 20), grad_weight 6 (21, 24, 27, 30, 36, 39).  Classifier: grad_input,
    # grad_weight, grad_bias = 3.  Adds above conv 20 (blocks 6, 8, 9, 11, 12): 5 clamp_grads.
    # Pool 1, real logits and loss 2.  Accumulations at the inputs of blocks 8, 9, 11, 12
    # (block 6's input is below conv 20): 4.  Updates: 22 + 6 conv params + 2 classifier = 30.
    # 22 + 22 + 21 + 6 + 3 + 5 + 1 + 2 + 4 + 30 = 116.
    assert len(after) == 116
    ops = collections.Counter(n.op for n in after)
    assert ops[OpKind.CONV2D_GRAD_WEIGHT] == 6 and ops[OpKind.GRAD_ACCUMULATE] == 4 and ops[OpKind.SGD_UPDATE] == 30
    # ratios 0.125 and 0.25 of conv 36 and 39 (96 input channels): 12 and 24 channels
    assert train.node("blocks.12.pointwise1.grad_weight").attrs["channels"].__len__() == 12
    assert train.tensors["blocks.13.pointwise1.weight.grad"].shape == (576, 1, 1, 24)


def test_last_layer_and_full_counts(paper_models_dir):
    # last-layer: the real logits, loss, the classifier's grad_weight, grad_bias and 2 updates = 6.
    assert len(counts(paper_models_dir, "mbv2-w0.35", "last-layer")[1]) == 6
    # full: everything but the first conv's input gradient (the image needs none): 274 - 1.
    assert len(counts(paper_models_dir, "mcunet-5fps", "full")[1]) == 273


def test_sparse_49kb_trains_what_the_demo_trains(paper_models_dir):
    _, _, train = counts(paper_models_dir, "mcunet-5fps", "sparse_49kb", num_classes=10)
    params = trained_params(train)
    weights = {p.layer: p.elements for p in params if p.name.endswith(".weight")}
    # The README: classifier (160 -> 10), expand convs 24, 27, 30 for 12, 24, 24 of 48 inputs;
    # 13,696 trained int8 weights; biases of the last 20 numbered convs + the classifier's.
    assert sum(weights.values()) == 13696
    assert weights == {"classifier": 1600, "blocks.8.pointwise1": 12 * 144, "blocks.9.pointwise1": 24 * 192,
                       "blocks.10.pointwise1": 24 * 240}
    assert sum(p.name.endswith(".bias") for p in params) == 21


def test_numbering_matches_the_files_conv_index(paper_models_dir):
    from tinyengine_compiler.scheme import numbered_convs
    for model, n in (("mcunet-5fps", 42), ("mbv2-w0.35", 51), ("proxyless-w0.3", 60)):
        g = load_paper_model(f"{paper_models_dir}/{model}.pkl")
        convs = numbered_convs(g)
        assert len(convs) == n
        assert [g.node(c).attrs["conv_index"] for c in convs] == list(range(n))
        # every paper manual_weight_idx is an expand conv (index 3k = block k's pointwise1)
        for ref, _ in PRESETS[f"paper-{model}"].weights[1:]:
            assert convs[ref] == f"blocks.{ref // 3}.pointwise1"


def test_norm_channel_selection_picks_the_largest_columns():
    net = residual_net()
    g = net.g
    w = g.tensors["c1.weight"]        # (8, 1, 1, 4), per-output-channel scales
    real = w.data.astype(np.float64) * np.asarray(w.qparams.scale).reshape(-1, 1, 1, 1)
    norms = np.sqrt((real ** 2).sum(axis=(0, 1, 2)))
    expected = tuple(sorted(np.argsort(-norms)[:2]))
    plan = resolve(parse_scheme({"weight": {"c1": 0.5}}), g)
    assert plan == {"c1": LayerUpdate(True, expected)}
    plan = resolve(parse_scheme({"weight": {"c1": 0.5}, "channel_selection": "first"}), g)
    assert plan["c1"].channels == (0, 1)


@pytest.mark.parametrize("scheme,message", [
    ({"manual_weight_idx": [45], "weight_update_ratio": [1]}, "conv index 45 is out of range"),
    ({"manual_weight_idx": [1], "weight_update_ratio": [0.3]}, "ratio 0.3 must be one of"),
    ({"manual_weight_idx": [1, 2], "weight_update_ratio": [1]}, "manual_weight_idx has 2 entries"),
    ({"n_bias_update": 99}, "n_bias_update 99 exceeds"),
    ({"weight": {"nope": 1}}, "no weighted layer named 'nope'"),
    ({"weight": {"c1": [0, 9]}}, "channels must be distinct and in 0..3"),
    ({"biases": ["fc"]}, "unknown keys"),
    ({}, "trains nothing"),
    ({"weight": "all", "momentum": 1.0}, r"momentum must be a number in \[0, 1\) in float32, got 1.0"),
    ({"weight": "all", "momentum": "0.9"}, "momentum must be a number"),
    ({"weight": "all", "momentum": 0.9, "momentum_layers": ["nope"]}, "no weighted layer named 'nope'"),
    ({"weight": "all", "momentum_layers": "c1"}, '"momentum_layers" must be a list'),
    ({"weight": "all", "bias_lr_scale": 0}, "bias_lr_scale must be a positive number, finite in float32, got 0"),
    ({"weight": "all", "bias_lr_scale": 1e39}, "finite in float32, got 1e"),
    ({"weight": "all", "step_clip": -0.1}, r"step_clip must be 0 \(off\) or a positive number, finite in float32, "
                                          "got -0.1"),
    ({"weight": "all", "step_clip": "0.1"}, "step_clip must be 0"),
    ({"weight": "all", "step_clip": 1e39}, "step_clip must be 0 .* finite in float32, got 1e"),
    ({"weight": "all", "momentum": 0.99999999}, r"momentum must be a number in \[0, 1\) in float32"),
    ({"weight": {"c1": 1}, "momentum": 0.9, "momentum_layers": ["c0"]}, "momentum_layers names layers that do not "
                                                                       "train: c0"),
    ({"weight": "all", "momentum_layers": ["c1"]}, "momentum_layers is given but momentum is 0"),
])
def test_scheme_errors(scheme, message):
    from tinyengine_compiler.errors import ConfigError
    with pytest.raises(ConfigError, match=message):
        resolve(parse_scheme(scheme), residual_net().g)


def test_momentum_and_bias_rate_reach_the_updates_of_the_layers_they_name():
    """The scheme's momentum goes to every update of the layers in momentum_layers (weight and
    bias), no other; bias_lr_scale to every bias update, no weight update."""
    g = residual_net().g
    scheme = parse_scheme({"weight": "all", "bias": "all", "momentum": 0.75, "momentum_layers": ["c1"],
                           "bias_lr_scale": 0.5})
    updates = [n for n in sparse_update(autodiff(g), resolve(scheme, g), bias_lr_scale=scheme.bias_lr_scale).nodes
               if n.op == OpKind.SGD_UPDATE]
    assert {(n.attrs["layer"], n.attrs["param"]) for n in updates if n.attrs.get("momentum") == 0.75} == \
        {("c1", "weight"), ("c1", "bias")}
    assert all("momentum" not in n.attrs for n in updates if n.attrs["layer"] != "c1")
    assert {n.attrs["param"] for n in updates if n.attrs.get("lr_scale") == 0.5} == {"bias"}
    assert all("lr_scale" not in n.attrs for n in updates if n.attrs["param"] == "weight")
    plain = [n for n in sparse_update(autodiff(g), resolve(parse_scheme({"weight": "all", "bias": "all"}), g)).nodes
             if n.op == OpKind.SGD_UPDATE]
    assert not any("momentum" in n.attrs or "lr_scale" in n.attrs or "step_clip" in n.attrs for n in plain)


def test_step_clip_reaches_the_weight_updates_only():
    g = residual_net().g
    scheme = parse_scheme({"weight": "all", "bias": "all", "step_clip": 0.1})
    updates = [n for n in sparse_update(autodiff(g), resolve(scheme, g), step_clip=scheme.step_clip).nodes
               if n.op == OpKind.SGD_UPDATE]
    assert {n.attrs["param"] for n in updates} == {"weight", "bias"}
    assert all(n.attrs.get("step_clip") == (0.1 if n.attrs["param"] == "weight" else None) for n in updates)


def test_tte_graph_json_and_errors(paper_models_dir, tmp_path):
    model = f"{paper_models_dir}/mcunet-5fps.pkl"
    r = CliRunner().invoke(main, ["graph", model, "--update", "paper-mcunet-5fps", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"forward_ops": 51, "backward_ops_before_pruning": 274,
                                    "backward_ops_after_pruning": 116, "trained_params": 30}
    cfg = tmp_path / "s.json"
    cfg.write_text(json.dumps({"n_bias_update": 1, "manual_weight_idx": [50], "weight_update_ratio": [1]}))
    r = CliRunner().invoke(main, ["graph", model, "--update", str(cfg)])
    assert r.exit_code == 2 and "conv index 50 is out of range" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["graph", model, "--update", "paper-mbv2-w0.35"])
    assert r.exit_code == 2 and "51 numbered convs" in r.output
    r = CliRunner().invoke(main, ["graph", model, "--update", "last-layer"])
    assert r.exit_code == 0 and "274 before pruning, 6 after" in r.output
