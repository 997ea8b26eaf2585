"""The generated training step against the reference trainer, bit for bit, on the host.

Ten SGD steps of the C (`tte_train_step`, built with -ffp-contract=off) and of
`training.trainer.Trainer` on the same schedule: every loss (float32) and every trained
parameter byte must be equal.  Also the checkpoint round trip and the arena size.
"""

from dataclasses import replace

import numpy as np
import pytest

from tinyengine_compiler.codegen.context import checkpoint_bytes, trained_bytes
from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.targets.host import HostEngine, build_host_library
from tinyengine_compiler.training.trainer import Trainer

from ..sample_images import sample_images

LR = 0.01


def _engine(g, scheme, tmp_path, num_classes=10):
    compiled = compile_training(g, scheme, str(tmp_path / "out"), Options(num_classes=num_classes))
    ctx = compiled.context
    engine = HostEngine(build_host_library(str(tmp_path / "out"), str(tmp_path / "build")), ctx["input"]["bytes"],
                        ctx["output"]["bytes"], ctx["trainable_bytes"])
    return compiled.plan, ctx, compiled.graph, engine


def _stored(trainer, sched) -> bytes:
    """The trainer's parameters in tte_get_trainable's order (the SGD_UPDATE order), and its
    stochastic-rounding counter where the engine keeps one."""
    return trained_bytes(sched, trainer.stored, trainer.draws, trainer.velocity)


def _scheme(name, storage="int8", rounding="nearest", **optimizer):
    """A preset with its storage, rounding and optimizer fields (momentum, momentum_layers,
    bias_lr_scale) set."""
    from dataclasses import replace
    return replace(load_scheme(name), weight_storage=storage, rounding=rounding, **optimizer)


PAPER = ["mcunet-5fps", "mbv2-w0.35", "proxyless-w0.3"]


def _ten_steps_then_twenty_inferences(g, scheme, tmp_path, lr=LR):
    plan, ctx, sched, engine = _engine(g, scheme, tmp_path)
    assert engine.arena_size() == plan.arena_bytes
    trainer = Trainer(sched, lr)
    for i, image in enumerate(sample_images(10)):
        x = quantize_image(g, image)
        assert engine.train_step(x, i % 10, lr) == np.float32(trainer.step(x, i % 10)), f"step {i}"
    assert engine.get_trainable() == _stored(trainer, sched)
    for image in sample_images(20, seed=5):
        x = quantize_image(g, image)
        np.testing.assert_array_equal(engine.infer(x), trainer._forward(x, None)[sched.outputs[0]].reshape(-1))


@pytest.mark.parametrize("model, scheme", [(m, s) for m in PAPER for s in (f"paper-{m}", "last-layer", "bias-only")]
                         + [("mcunet-5fps", "sparse_49kb")])
def test_ten_steps_equal_the_reference_trainer(paper_models_dir, tmp_path, model, scheme):
    _ten_steps_then_twenty_inferences(load_model(f"{paper_models_dir}/{model}.pkl"), _scheme(scheme), tmp_path)


@pytest.mark.parametrize("scheme", ["sparse_49kb", "paper-mcunet-5fps"])
def test_float32_master_weights_equal_the_reference_trainer(example_models, tmp_path, scheme):
    """Trained weights stored as float32 masters with int8 images: every loss, every master
    byte and every logit equal the reference trainer's (float32 storage)."""
    g = load_model(example_models["mcunet-5fps"]["int8"])
    _ten_steps_then_twenty_inferences(g, _scheme(scheme, "float32"), tmp_path)


def test_stochastic_biases_beside_float32_masters_equal_the_reference_trainer(example_models, tmp_path):
    """float32 master weights take no draws, the int32 biases of the same engine do: the counter
    and every byte still equal the reference's."""
    g = load_model(example_models["mcunet-5fps"]["int8"])
    _ten_steps_then_twenty_inferences(g, _scheme("sparse_49kb", "float32", rounding="stochastic"), tmp_path,
                                      lr=0.001)


@pytest.mark.parametrize("scheme", ["sparse_49kb", "full"])
def test_stochastic_rounding_equals_the_reference_trainer(example_models, tmp_path, scheme):
    """int8 weights and int32 biases rounded stochastically: every loss, every parameter byte,
    the draws counter (one draw an updated element) and every logit equal the reference's.  At
    a rate where most int8 steps are under half a unit, so that rounding to nearest would drop
    them, the stochastic engine still changes more weights than the nearest one."""
    g = load_model(example_models["mcunet-5fps"]["int8"])
    _ten_steps_then_twenty_inferences(g, _scheme(scheme, rounding="stochastic"), tmp_path, lr=0.001)
    moved = {}
    for rounding in ("nearest", "stochastic"):
        _, _, sched, _ = _engine(g, _scheme(scheme, rounding=rounding), tmp_path / rounding)
        trainer = Trainer(sched, 0.001)
        for i, image in enumerate(sample_images(3)):
            trainer.step(quantize_image(g, image), i)
        moved[rounding] = sum(int(np.count_nonzero(trainer.stored[p] != sched.tensors[p].data))
                              for p in trainer.stored)
        assert trainer.draws == (0 if rounding == "nearest" else
                                 3 * sum(int(np.prod(sched.tensors[n.inputs[1]].shape))
                                         for n in sched.nodes if n.op == OpKind.SGD_UPDATE))
    assert moved["stochastic"] > moved["nearest"]


@pytest.mark.parametrize("storage, rounding, scheme", [("int8", "nearest", "full"),
                                                       ("int8", "stochastic", "sparse_49kb"),
                                                       ("float32", "nearest", "sparse_49kb")])
def test_momentum_and_a_bias_rate_equal_the_reference_trainer(example_models, tmp_path, storage, rounding, scheme):
    """SGD with momentum 0.9 and biases at half the rate: every loss, parameter, velocity and
    logit of the C equal the reference's over ten steps, with the updates fused into their
    gradients' loops or not; the velocities take 4 B a trained element of SRAM and of the
    checkpoint."""
    g = load_model(example_models["mcunet-5fps"]["int8"])
    chosen = _scheme(scheme, storage, rounding, momentum=0.9, bias_lr_scale=0.5)
    _ten_steps_then_twenty_inferences(g, chosen, tmp_path / "momentum", lr=0.003)
    _, plain_ctx, sched, _ = _engine(g, _scheme(scheme, storage, rounding), tmp_path / "plain")
    _, ctx, sched, _ = _engine(g, chosen, tmp_path / "counted")
    elements = sum(sched.tensors[n.inputs[1]].size for n in sched.nodes if n.op == OpKind.SGD_UPDATE)
    assert ctx["trainable_bytes"] - plain_ctx["trainable_bytes"] == 4 * elements
    assert ctx["ram_bytes"] - plain_ctx["ram_bytes"] >= 4 * elements
    assert {n.attrs.get("lr_scale") for n in sched.nodes if n.op == OpKind.SGD_UPDATE and n.attrs["param"] == "bias"} \
        == {0.5}
    # the header a firmware engineer reads says what the checkpoint holds, and only that
    header = (tmp_path / "counted" / "out" / "tte_model.h").read_text()
    assert "momentum velocity of each parameter" in header and "then their momentum velocities" in header
    assert ("draws" in header) == (rounding == "stochastic")
    plain_header = (tmp_path / "plain" / "out" / "tte_model.h").read_text()
    assert "momentum velocity of each parameter" not in plain_header and "their momentum velocities" not in plain_header
    with pytest.raises(ValueError, match="has momentum: pass the velocities"):
        trained_bytes(sched, {n.inputs[0]: sched.tensors[n.inputs[0]].data for n in sched.nodes
                              if n.op == OpKind.SGD_UPDATE})


def test_momentum_on_some_layers_only_keeps_velocities_for_those(example_models, tmp_path):
    """momentum_layers: the classifier alone keeps velocities; the other layers step plain SGD,
    and the C still equals the reference."""
    g = load_model(example_models["mcunet-5fps"]["int8"])
    chosen = _scheme("sparse_49kb", momentum=0.5, momentum_layers=("classifier",))
    _ten_steps_then_twenty_inferences(g, chosen, tmp_path / "a", lr=0.003)
    _, _, sched, _ = _engine(g, chosen, tmp_path / "b")
    with_momentum = {n.attrs["layer"] for n in sched.nodes if n.op == OpKind.SGD_UPDATE and n.attrs.get("momentum")}
    assert len(with_momentum) == 1 and with_momentum == {sched.producer(sched.outputs[0]).name}


def test_step_clip_equals_the_reference_trainer(example_models, tmp_path):
    """A step clip tight enough to scale rows, on TinyEngine's demo scheme with momentum and
    stochastic rounding: every loss, parameter, velocity, the draws counter and every logit of
    the C equal the reference's over ten steps (tests/c covers float32 masters, rounding to
    nearest and row blocks kernel by kernel); the clip reaches the weight updates only, and
    changes what training does."""
    g = load_model(example_models["mcunet-5fps"]["int8"])
    chosen = _scheme("sparse_49kb", "int8", "stochastic", momentum=0.9, step_clip=0.02)
    _ten_steps_then_twenty_inferences(g, chosen, tmp_path / "clip", lr=0.01)
    trained = {}
    for clip in (0.0, 0.02):
        _, _, sched, _ = _engine(g, replace(chosen, step_clip=clip), tmp_path / f"moved-{clip}")
        trainer = Trainer(sched, 0.01)
        trainer.step(quantize_image(g, sample_images(1)[0]), 0)
        trained[clip] = trainer.stored
        updates = [n for n in sched.nodes if n.op == OpKind.SGD_UPDATE]
        assert {n.attrs.get("step_clip") for n in updates if n.attrs["param"] == "weight"} == {clip or None}
        assert all(n.attrs.get("step_clip") is None for n in updates if n.attrs["param"] == "bias")
    assert any(not np.array_equal(trained[0.0][p], trained[0.02][p]) for p in trained[0.0])


def test_float32_masters_round_trip_through_set_trainable(example_models, tmp_path):
    """tte_set_trainable loads masters and remakes the int8 images the forward reads."""
    g = load_model(example_models["mcunet-5fps"]["int8"])
    _, ctx, sched, engine = _engine(g, _scheme("sparse_49kb", "float32"), tmp_path)
    # the checkpoint holds a float32 master of each trained weight entry: sparse_49kb trains
    # 13,696 weights, the 160 x 10 head's and three expand convs' (../shared/models/README.md)
    biases = [n for n in sched.nodes if n.op == OpKind.SGD_UPDATE and n.attrs["param"] == "bias"]
    bias_bytes = sum(sched.tensors[n.inputs[0]].nbytes for n in biases)
    assert ctx["trainable_bytes"] == 4 * 13696 + bias_bytes
    images = [quantize_image(g, im) for im in sample_images(6)]
    for i, x in enumerate(images[:3]):
        engine.train_step(x, i, 0.05)
    saved, logits = engine.get_checkpoint(), [engine.infer(x) for x in images[3:]]
    engine.init()
    assert [engine.infer(x).tolist() for x in images[3:]] != [v.tolist() for v in logits]
    assert engine.set_checkpoint(saved) == 0
    assert [engine.infer(x).tolist() for x in images[3:]] == [v.tolist() for v in logits]


def _small_model():
    """A miniature MobileNetV2 (stem, residual depthwise block, strided block, GAP, FC): every
    op `tte compile` trains through."""
    from onnx import TensorProto, checker, helper

    from ..frontend.float_models import INPUT_HW, N_CLASSES, _Maker

    m = _Maker(4)
    a = m.op("Relu", "stem.relu", [m.bn("stem.bn", m.conv("stem", "image", 3, 8, 3, 2), 8)])
    h = m.relu6("dw1.relu6", m.conv("dw1", a, 8, 8, 3, 1, group=8))
    r = m.op("Add", "add1", [a, m.conv("pw1", h, 8, 8, 1, 1)])
    h = m.relu6("dw2.relu6", m.conv("dw2", r, 8, 8, 5, 2, group=8, auto_pad="SAME_UPPER"))
    h = m.op("Flatten", "flatten", [m.op("GlobalAveragePool", "gap", [m.conv("pw2", h, 8, 16, 1, 1)])], axis=1)
    fc = [m.const("fc.w", m.rng.normal(0, 1.0, (N_CLASSES, 16)).astype(np.float32)),
          m.const("fc.b", m.rng.normal(0, 0.1, N_CLASSES).astype(np.float32))]
    m.nodes.append(helper.make_node("Gemm", [h, *fc], ["logits"], name="fc", transB=1))
    graph = helper.make_graph(m.nodes, "small", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                              [1, 3, INPUT_HW, INPUT_HW])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, N_CLASSES])],
                              initializer=m.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    checker.check_model(model)
    return model


def test_full_update_of_a_small_model_equals_the_reference_trainer(tmp_path):
    """Every weight and bias trains, on a miniature MobileNetV2."""
    import onnx

    from tinyengine_compiler.quantize import quantize_onnx

    from ..frontend.float_models import INPUT_HW

    onnx.save(_small_model(), str(tmp_path / "float.onnx"))
    np.save(tmp_path / "calib.npy", sample_images(16, INPUT_HW, seed=3))
    quantize_onnx(str(tmp_path / "float.onnx"), str(tmp_path / "calib.npy"), str(tmp_path / "int8.onnx"))
    g = load_model(str(tmp_path / "int8.onnx"))
    plan, ctx, sched, engine = _engine(g, _scheme("full"), tmp_path)
    trainer = Trainer(sched, LR)
    for i, image in enumerate(sample_images(10, INPUT_HW)):
        x = quantize_image(g, image)
        assert engine.train_step(x, i % 10, LR) == np.float32(trainer.step(x, i % 10)), f"step {i}"
    assert engine.get_trainable() == _stored(trainer, sched)


@pytest.mark.parametrize("rounding, momentum", [("nearest", 0.0), ("stochastic", 0.0), ("stochastic", 0.9)])
def test_checkpoint_round_trip_continues_like_an_uninterrupted_run(example_models, tmp_path, rounding, momentum):
    """A checkpoint holds all the training state: with stochastic rounding, the draws counter
    too; with momentum, the velocities."""
    g = load_model(example_models["mcunet-5fps"]["int8"])
    _, _, _, engine = _engine(g, _scheme("sparse_49kb", rounding=rounding, momentum=momentum), tmp_path)
    images = [quantize_image(g, im) for im in sample_images(7)]
    for i, x in enumerate(images[:5]):
        engine.train_step(x, i % 10, LR)
    saved = engine.get_checkpoint()
    uninterrupted = [engine.train_step(x, 3, LR) for x in images[5:]]
    engine.init()
    assert engine.get_checkpoint() != saved   # init really restored the Flash values
    assert engine.set_checkpoint(saved) == 0
    assert [engine.train_step(x, 3, LR) for x in images[5:]] == uninterrupted


def test_training_step_is_clean_under_asan_and_ubsan(example_models, tmp_path):
    from tinyengine_compiler.targets.host import train_sanitized

    g = load_model(example_models["mcunet-5fps"]["int8"])
    _, _, sched, engine = _engine(g, _scheme("paper-mcunet-5fps"), tmp_path)
    xs = np.stack([quantize_image(g, im) for im in sample_images(3)])
    losses, checkpoint = train_sanitized(str(tmp_path / "out"), xs, [1, 2, 3], LR)
    trainer = Trainer(sched, LR)
    assert losses.tolist() == [np.float32(trainer.step(x, y)) for x, y in zip(xs, [1, 2, 3])]
    assert checkpoint == checkpoint_bytes(sched, trainer.stored, trainer.draws, trainer.velocity)


def test_a_saturated_classifier_trains_in_c_as_in_the_reference(tmp_path):
    """Every int8 logit at the clamp: when the loss read those, its gradient was zero and no
    step ever changed anything.  It reads the classifier's real logits, so SGD steps of the C
    and of the reference trainer lower the loss, bit for bit alike, while tte_infer keeps the
    saturated int8 logits."""
    from ..grads.nets import saturate_classifier
    from ..passes.test_autodiff import residual_net

    net = residual_net(seed=3)
    saturate_classifier(net, [4.0, 3.0, -3.0, -4.0, 2.5])
    compiled = compile_training(net.g, load_scheme("last-layer"), str(tmp_path / "out"))
    ctx, sched = compiled.context, compiled.graph
    engine = HostEngine(build_host_library(str(tmp_path / "out"), str(tmp_path / "build")), ctx["input"]["bytes"],
                        ctx["output"]["bytes"], ctx["trainable_bytes"])
    assert set(engine.infer(net.x).tolist()) == {-128, 127}
    trainer, lr, label = Trainer(sched, 0.05), 0.05, 3
    losses = []
    for step in range(6):
        losses.append(engine.train_step(net.x, label, lr))
        assert losses[-1] == np.float32(trainer.step(net.x, label)), f"step {step}"
    assert engine.get_trainable() == _stored(trainer, sched)
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses
    assert losses[0] > 5.0 > losses[-1]
