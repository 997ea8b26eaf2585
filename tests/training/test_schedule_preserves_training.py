"""The scheduling passes change when and where a training step computes, never what it computes.

The reference trainer runs two graphs of the same model and scheme on the same images:
- the unscheduled training graph, pipeline.unscheduled_training (autodiff, sparse update, QAS),
  every gradient made before any update;
- the graph the generated C runs, pipeline.training_engine(...).graph: the frozen prefix fused,
  each update applied as soon as its gradient exists (reorder), weight gradients made and
  applied a block of output rows at a time (update_blocks), ops written in place.
The losses of every step and every stored trained parameter after it must be equal bit for bit.
(With rounding to nearest, as here: stochastic rounding hands out its draws in the order the
schedule applies updates, so there the schedule decides which element gets which draw.)
The C engine is checked against the second graph elsewhere (tests/codegen, tests/qemu), so
together they show the C computes what the unscheduled training graph does.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.pipeline import Options, training_engine, unscheduled_training
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.training.trainer import Trainer

from ..sample_images import sample_images

STEPS = 2
# large enough that int8 weights updated in place move on every step
LR = 0.05
NUM_CLASSES = 10


def _train(graph, xs, labels):
    trainer = Trainer(graph, LR)
    losses = [trainer.step(x, label) for x, label in zip(xs, labels)]
    return losses, trainer.stored


def _assert_same_training(g, scheme_name: str, storage: str = "int8"):
    options = Options(num_classes=NUM_CLASSES, storage=storage)
    scheme = load_scheme(scheme_name)
    scheduled = training_engine(g, scheme, options).graph
    plain = unscheduled_training(g, scheme, options)[1]
    # the schedule differs from the plain graph (else the test shows nothing)
    assert [n.name for n in scheduled.nodes] != [n.name for n in plain.nodes]
    xs = np.stack([quantize_image(g, im) for im in sample_images(STEPS)])
    labels = [3, 7][:STEPS]
    plain_losses, plain_params = _train(plain, xs, labels)
    sched_losses, sched_params = _train(scheduled, xs, labels)
    assert np.array(sched_losses, np.float32).tobytes() == np.array(plain_losses, np.float32).tobytes()
    assert sorted(sched_params) == sorted(plain_params)
    moved = 0
    for name, value in plain_params.items():
        np.testing.assert_array_equal(sched_params[name].view(np.uint8), value.view(np.uint8), err_msg=name)
        moved += int(np.any(value != scheduled.tensors[name].data.astype(value.dtype)))
    # the comparison means something only if training changed parameters
    assert moved >= 1


PAPER_CASES = [("mcunet-5fps", "paper-mcunet-5fps"), ("mbv2-w0.35", "paper-mbv2-w0.35"),
               ("proxyless-w0.3", "paper-proxyless-w0.3"), ("mcunet-5fps", "sparse_49kb"),
               ("mcunet-5fps", "last-layer"), ("mcunet-5fps", "bias-only")]


@pytest.mark.parametrize("model, scheme", PAPER_CASES)
def test_paper_model_schedule_trains_like_the_unscheduled_graph(paper_models_dir, model, scheme):
    _assert_same_training(load_model(f"{paper_models_dir}/{model}.pkl"), scheme)


def test_float32_master_schedule_trains_like_the_unscheduled_graph(paper_models_dir):
    _assert_same_training(load_model(f"{paper_models_dir}/mcunet-5fps.pkl"), "sparse_49kb", storage="float32")


@pytest.mark.parametrize("scheme", ["full", "sparse_49kb", "paper-mcunet-5fps"])
def test_example_model_schedule_trains_like_the_unscheduled_graph(example_models, scheme):
    _assert_same_training(load_model(example_models["mcunet-5fps"]["int8"]), scheme)


def test_the_trainer_applies_updates_where_the_engine_does(example_models):
    """The engine applies a fused update inside its weight gradient's loop, so the reference
    trainer hands out stochastic rounding's draws in that order too, even where the schedule
    lists another update between the gradient and its SGD_UPDATE node."""
    g = load_model(example_models["mcunet-5fps"]["int8"])
    sched = training_engine(g, load_scheme("sparse_49kb"), Options(num_classes=NUM_CLASSES, rounding="stochastic")).graph
    producer = next(n for n in sched.nodes if n.attrs.get("fused_update"))
    update = sched.node(producer.attrs["fused_update"])
    later = [n for n in sched.nodes[sched.nodes.index(update) + 1:] if n.op == OpKind.SGD_UPDATE]
    other = later[0]
    sched.nodes.remove(other)
    sched.nodes.insert(sched.nodes.index(producer) + 1, other)   # listed before `update` now
    order = [n.name for n in Trainer(sched, LR).updates]
    assert order.index(update.name) < order.index(other.name)
