"""The generated training step against the reference trainer, bit for bit, on the host.

Ten SGD steps of the C (`tte_train_step`, built with -ffp-contract=off) and of
`training.trainer.Trainer` on the same schedule: every loss (float32) and every trained
parameter byte must be equal.  Also the checkpoint round trip and the arena size.
"""

import numpy as np
import pytest

from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.targets.host import HostEngine, build_host_library
from tinyengine_compiler.training.config import load_scheme
from tinyengine_compiler.training.trainer import Trainer

from ..sample_images import sample_images

LR = 0.01


def _engine(g, scheme, tmp_path, num_classes=10):
    plan, ctx, sched = compile_training(g, scheme, str(tmp_path / "out"), num_classes=num_classes)
    engine = HostEngine(build_host_library(str(tmp_path / "out"), str(tmp_path / "build")), ctx["input"]["bytes"],
                        ctx["output"]["bytes"], ctx["trainable_bytes"])
    return plan, ctx, sched, engine


def _stored(trainer, sched) -> bytes:
    """The trainer's parameters in tte_get_trainable's order (the SGD_UPDATE order)."""
    return b"".join(trainer.stored[n.inputs[0]].tobytes() for n in sched.nodes if n.op == OpKind.SGD_UPDATE)


def _scheme(name):
    from dataclasses import replace
    return replace(load_scheme(name), weight_storage="int8")


@pytest.mark.parametrize("model, scheme", [("mcunet-5fps", "sparse_49kb"), ("mcunet-5fps", "paper-mcunet-5fps"),
                                           ("mbv2-w0.35", "paper-mbv2-w0.35"),
                                           ("proxyless-w0.3", "paper-proxyless-w0.3"),
                                           ("mcunet-5fps", "last-layer")])
def test_ten_steps_equal_the_reference_trainer(paper_models_dir, tmp_path, model, scheme):
    g = load_model(f"{paper_models_dir}/{model}.pkl")
    plan, ctx, sched, engine = _engine(g, _scheme(scheme), tmp_path)
    assert engine.arena_size() == plan.arena_bytes
    trainer = Trainer(sched, LR)
    for i, image in enumerate(sample_images(10)):
        x = quantize_image(g, image)
        assert engine.train_step(x, i % 10, LR) == np.float32(trainer.step(x, i % 10)), f"step {i}"
    assert engine.get_trainable() == _stored(trainer, sched)
    x = quantize_image(g, sample_images(1, seed=5)[0])
    np.testing.assert_array_equal(engine.infer(x), trainer._forward(x, None)[sched.outputs[0]].reshape(-1))


def test_checkpoint_round_trip_continues_like_an_uninterrupted_run(example_models, tmp_path):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    _, _, _, engine = _engine(g, _scheme("sparse_49kb"), tmp_path)
    images = [quantize_image(g, im) for im in sample_images(7)]
    for i, x in enumerate(images[:5]):
        engine.train_step(x, i % 10, LR)
    saved = engine.get_trainable()
    uninterrupted = [engine.train_step(x, 3, LR) for x in images[5:]]
    engine.init()
    assert engine.get_trainable() != saved   # init really restored the Flash values
    engine.set_trainable(saved)
    assert [engine.train_step(x, 3, LR) for x in images[5:]] == uninterrupted
    with pytest.raises(Exception, match="refused"):
        engine.set_trainable(saved[:-1])


def test_training_step_is_clean_under_asan_and_ubsan(example_models, tmp_path):
    from tinyengine_compiler.targets.host import train_sanitized

    g = load_model(example_models["mcunet-5fps"]["int8"])
    _, _, sched, engine = _engine(g, _scheme("paper-mcunet-5fps"), tmp_path)
    xs = np.stack([quantize_image(g, im) for im in sample_images(3)])
    losses, params = train_sanitized(str(tmp_path / "out"), xs, [1, 2, 3], LR)
    trainer = Trainer(sched, LR)
    assert losses.tolist() == [np.float32(trainer.step(x, y)) for x, y in zip(xs, [1, 2, 3])]
    assert params == _stored(trainer, sched)
