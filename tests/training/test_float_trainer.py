"""The fp32 trainer's SGD step against float64 central differences of the real forward.

One step with lr = 1 moves each trained parameter by exactly -dL/dP (up to float32 rounding of
P - g), so (P_before - P_after) is compared with finite differences of a loss computed here
with numpy's log-sum-exp, independent of the trainer's backward kernels.  Untrained columns of
a partial update must not move."""

import numpy as np

from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.pipeline import for_classes, training_graph
from tinyengine_compiler.reference.real_forward import real_values, run_real
from tinyengine_compiler.scheme import PRESETS
from tinyengine_compiler.training.float_trainer import FloatTrainer

from ..sample_images import sample_images
from .finite_differences import central_difference, cross_entropy, real_logits

LABEL = 3


def test_one_step_moves_each_parameter_by_its_finite_difference_gradient(example_models):
    g, scheme = for_classes(load_model(example_models["mcunet-5fps"]["int8"]), PRESETS["paper-mcunet-5fps"], 10)
    _, train = training_graph(g, scheme, use_qas=False)
    x = quantize_image(g, sample_images(1)[0])
    trainer = FloatTrainer(train, lr=1.0)
    before = {k: v.copy() for k, v in trainer.params.items()}
    values64 = run_real(train, real_values(train, x, np.float64))
    loss = trainer.step(x, LABEL)
    assert abs(loss - cross_entropy(real_logits(train, values64), LABEL)) <= 1e-4 * max(1.0, abs(loss))

    rng = np.random.default_rng(0)
    got, fd, partial = [], [], 0
    for upd in (n for n in train.nodes if n.op == OpKind.SGD_UPDATE):
        param, channels = upd.inputs[0], upd.attrs.get("channels")
        moved = before[param] - trainer.params[param]
        if channels is not None:
            partial += 1
            frozen = np.setdiff1d(np.arange(moved.shape[-1]), channels)
            assert not moved[..., frozen].any(), f"{param}: an untrained column moved"
        for flat in list(rng.choice(moved.size, 2, replace=False)) + [int(np.argmax(np.abs(moved)))]:
            c = np.unravel_index(flat, moved.shape)
            if channels is not None and c[-1] not in channels:
                continue
            fd.append(central_difference(train, values64, param, c, LABEL))
            got.append(moved[c])
    got, fd = np.array(got, np.float64), np.array(fd)
    assert partial >= 2 and len(fd) >= 40
    assert np.count_nonzero(np.abs(fd) > 1e-6) >= 20, "too few informative coordinates"
    # float32 trainer against float64 differences: a float32 activation at a clamp edge can fall
    # on the other side than in float64, so small coordinates differ a little; a wrong sign,
    # parameter, column or learning rate would be off by O(1)
    assert np.linalg.norm(got - fd) / np.linalg.norm(fd) <= 1e-2


def test_predict_is_the_argmax_of_the_real_forward(example_models):
    g, scheme = for_classes(load_model(example_models["mcunet-5fps"]["int8"]), PRESETS["last-layer"], 10)
    _, train = training_graph(g, scheme, use_qas=False)
    trainer = FloatTrainer(train, lr=0.01)
    for image in sample_images(3, seed=7):
        x = quantize_image(g, image)
        logits = run_real(train, real_values(train, x, np.float32))[g.outputs[0]]
        assert trainer.predict(x) == int(np.argmax(logits))


def test_momentum_and_the_bias_rate_follow_their_definition(example_models):
    """With momentum mu and biases at half the rate, two steps on the same image move a bias by
    lr/2 * g1 then lr/2 * (mu g1 + g2), and a weight by lr * g1 then lr * (mu g1 + g2), where g1
    and g2 are the plain trainer's gradients (its moves at lr = 1) at the same points."""
    from dataclasses import replace

    g = load_model(example_models["mcunet-5fps"]["int8"])
    scheme = replace(PRESETS["last-layer"], momentum=0.5, bias_lr_scale=0.5)
    g, scheme = for_classes(g, scheme, 10)
    _, train = training_graph(g, scheme, use_qas=False)
    _, plain_graph = training_graph(g, replace(scheme, momentum=0.0, bias_lr_scale=1.0), use_qas=False)
    x = quantize_image(g, sample_images(1)[0])
    trainer, probe = FloatTrainer(train, lr=0.1), FloatTrainer(plain_graph, lr=1.0)
    grads, moves = [], []
    for _ in range(2):
        probe.params = {k: v.copy() for k, v in trainer.params.items()}
        start = {k: v.copy() for k, v in trainer.params.items()}
        probe.step(x, LABEL)
        grads.append({k: start[k] - probe.params[k] for k in start})
        trainer.step(x, LABEL)
        moves.append({k: start[k] - trainer.params[k] for k in start})
    for upd in (n for n in train.nodes if n.op == OpKind.SGD_UPDATE):
        p, rate = upd.inputs[0], 0.1 * (0.5 if upd.attrs["param"] == "bias" else 1.0)
        np.testing.assert_allclose(moves[0][p], rate * grads[0][p], rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(moves[1][p], rate * (0.5 * grads[0][p] + grads[1][p]), rtol=1e-4, atol=1e-8)


def test_step_clip_bounds_each_weight_row_in_int8_steps(example_models):
    """With a step clip, one step on the classifier moves each weight row by the plain step where
    its largest |step| / scale is under clip * max(largest |weight| / scale, 1), else by the
    plain step scaled to that bound; the bias moves as without the clip.  The clip is the
    median of the rows' ratios, so that rows fall on both sides of it."""
    from dataclasses import replace

    g, scheme = for_classes(load_model(example_models["mcunet-5fps"]["int8"]), PRESETS["last-layer"], 10)
    _, plain_graph = training_graph(g, scheme, use_qas=False)
    x = quantize_image(g, sample_images(1)[0])
    plain = FloatTrainer(plain_graph, lr=0.01)
    start = {k: v.copy() for k, v in plain.params.items()}
    plain.step(x, LABEL)
    (weight,) = [n.inputs[0] for n in plain_graph.nodes if n.op == OpKind.SGD_UPDATE and n.attrs["param"] == "weight"]
    rows, ndim = start[weight].shape[0], start[weight].ndim
    scale = np.asarray(plain_graph.tensors[weight].qparams.scale, np.float64).reshape(-1, *[1] * (ndim - 1))

    def largest(v):
        return (np.abs(v) / scale).reshape(rows, -1).max(axis=1)

    plain_move = {k: start[k] - plain.params[k] for k in start}
    ratio = largest(plain_move[weight]) / np.maximum(largest(start[weight]), 1.0)
    clip = float(np.median(ratio))
    _, clipped_graph = training_graph(g, replace(scheme, step_clip=clip), use_qas=False)
    clipped = FloatTrainer(clipped_graph, lr=0.01)
    clipped.step(x, LABEL)
    over = ratio > clip
    assert over.any() and (~over).any()
    for p in start:
        move = start[p] - clipped.params[p]
        if p != weight:
            np.testing.assert_array_equal(move, plain_move[p])
            continue
        np.testing.assert_allclose(move[~over], plain_move[p][~over], rtol=1e-6, atol=1e-12)
        ratio_over = (clip / ratio[over]).reshape(-1, *[1] * (ndim - 1))
        np.testing.assert_allclose(move[over], plain_move[p][over] * ratio_over, rtol=1e-4, atol=1e-9)
