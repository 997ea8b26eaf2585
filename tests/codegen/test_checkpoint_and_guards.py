"""A device's training never takes in what it cannot trust: checkpoints and refused steps.

tte_get_trainable writes a checkpoint, a header then the trained parameters.  Its layout is
checked word by word against the format (struct and zlib, not the compiler's own code), and
tte_set_trainable refuses, before copying anything, a checkpoint that is truncated, from another
compiled model of the same size, bit-flipped in its parameters or its header, or whose float32
masters hold NaN.  tte_train_step refuses a label past the head and a rate that is NaN,
infinite or negative, with a status and no parameter changed.  After every refusal the
engine's checkpoint is byte for byte what it was.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace

import numpy as np
import pytest

from tinyengine_compiler.codegen.context import graph_sha256
from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.targets.host import HostEngine, build_host_library

from ..sample_images import sample_images

HEADER = 24
# tte_model.h's statuses
STEP_OK, STEP_BAD_LABEL, STEP_BAD_LR, STEP_NONFINITE_LOSS = 0, 1, 2, 3
CHECKPOINT_OK, BAD_SIZE, FOREIGN, CORRUPT, NONFINITE = 0, -1, -2, -3, -4


def _engine(g, tmp_path, name, storage="int8", qas=True, momentum=0.0):
    scheme = replace(load_scheme("sparse_49kb"), weight_storage=storage, momentum=momentum)
    compiled = compile_training(g, scheme, str(tmp_path / name), Options(num_classes=10, qas=qas))
    ctx = compiled.context
    engine = HostEngine(build_host_library(str(tmp_path / name), str(tmp_path / f"{name}-build")),
                        ctx["input"]["bytes"], ctx["output"]["bytes"], ctx["trainable_bytes"])
    return engine, compiled.graph, ctx


@pytest.fixture(scope="module")
def model(example_models):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    return g, [quantize_image(g, im) for im in sample_images(3)]


def _trained(engine, xs):
    for i, x in enumerate(xs):
        engine.train_step(x, i, 0.05)
    return engine.get_checkpoint()


def test_the_checkpoint_is_the_documented_header_then_the_parameters(model, tmp_path):
    g, xs = model
    engine, sched, ctx = _engine(g, tmp_path, "a")
    blob = _trained(engine, xs)
    payload = blob[HEADER:]
    magic, version_and_size, model_hash, length, crc, reserved = struct.unpack("<6I", blob[:HEADER])
    assert blob[:4] == b"TTE1" and magic == 0x31455454
    assert version_and_size == 1 | HEADER << 16 and reserved == 0
    assert model_hash == int(graph_sha256(sched)[:8], 16) and model_hash == int(ctx["source_sha256"][:8], 16)
    assert length == len(payload) == ctx["trainable_bytes"]
    assert crc == zlib.crc32(payload)
    assert payload == engine.get_trainable()


def test_refused_checkpoints_leave_the_parameters_as_they_were(model, tmp_path):
    g, xs = model
    engine, _, _ = _engine(g, tmp_path, "a")
    good = _trained(engine, xs)
    other, _, _ = _engine(g, tmp_path, "b", qas=False)   # another compiled model, the same size
    foreign = _trained(other, xs)
    assert len(foreign) == len(good) and foreign[8:12] != good[8:12]
    engine.init()
    fresh = engine.get_checkpoint()
    payload_bit = bytearray(good)
    payload_bit[HEADER + len(good[HEADER:]) // 2] ^= 0x10
    hash_bit = bytearray(good)
    hash_bit[9] ^= 0x01
    cases = [(good[:-1], BAD_SIZE), (good + b"\0", BAD_SIZE), (foreign, FOREIGN), (bytes(payload_bit), CORRUPT),
             (bytes(hash_bit), FOREIGN), (b"TTE0" + good[4:], FOREIGN)]
    for blob, status in cases:
        assert engine.set_checkpoint(blob) == status
        assert engine.get_checkpoint() == fresh
    assert engine.set_checkpoint(good) == CHECKPOINT_OK and engine.get_checkpoint() == good


def test_a_checkpoint_with_a_nan_master_is_refused(model, tmp_path):
    g, xs = model
    engine, _, ctx = _engine(g, tmp_path, "f32", storage="float32")
    good = _trained(engine, xs)
    payload = bytearray(good[HEADER:])
    # the last float of the first float32 master (the checkpoint holds the tensors in order)
    offsets = np.cumsum([0] + [t["bytes"] for t in ctx["trainables"]])
    first = next(i for i, t in enumerate(ctx["trainables"]) if t["master"])
    at = int(offsets[first + 1]) - 4
    payload[at:at + 4] = struct.pack("<f", float("nan"))
    poisoned = good[:16] + struct.pack("<I", zlib.crc32(bytes(payload))) + good[20:HEADER] + bytes(payload)
    engine.init()
    fresh = engine.get_checkpoint()
    assert engine.set_checkpoint(poisoned) == NONFINITE
    assert engine.get_checkpoint() == fresh


@pytest.mark.parametrize("storage", ["int8", "float32"])
@pytest.mark.parametrize("which", ["first", "last"])
def test_a_checkpoint_with_a_nan_velocity_is_refused(model, tmp_path, storage, which):
    """With momentum the payload holds each trained element's velocity after the parameters: a
    NaN or infinity there would stop its parameter for good, so the checkpoint is refused, beside
    int8 parameters or float32 masters, at the first or the last float of the velocities."""
    g, xs = model
    engine, _, ctx = _engine(g, tmp_path, "m", storage=storage, momentum=0.9)
    good = _trained(engine, xs)
    payload = bytearray(good[HEADER:])
    params = sum(t["bytes"] for t in ctx["trainables"])
    assert len(payload) == params + sum(t["velocity"]["bytes"] for t in ctx["trainables"])
    at = params if which == "first" else len(payload) - 4
    payload[at:at + 4] = struct.pack("<f", float("nan") if which == "first" else float("inf"))
    poisoned = good[:16] + struct.pack("<I", zlib.crc32(bytes(payload))) + good[20:HEADER] + bytes(payload)
    engine.init()
    fresh = engine.get_checkpoint()
    assert engine.set_checkpoint(poisoned) == NONFINITE
    assert engine.get_checkpoint() == fresh
    assert engine.set_checkpoint(good) == CHECKPOINT_OK


@pytest.mark.parametrize("label, lr, status", [(0, float("nan"), STEP_BAD_LR), (0, float("inf"), STEP_BAD_LR),
                                               (0, -0.01, STEP_BAD_LR), (10, 0.01, STEP_BAD_LABEL),
                                               (-1, 0.01, STEP_BAD_LABEL)])
def test_a_refused_step_changes_no_parameter(model, tmp_path, label, lr, status):
    g, xs = model
    engine, _, _ = _engine(g, tmp_path, "a")
    before = _trained(engine, xs[:2])
    got, _ = engine.step(xs[2], label, lr)
    assert got == status
    assert engine.get_checkpoint() == before
    got, loss = engine.step(xs[2], 9, 0.0)    # a step of rate 0 runs and changes nothing either
    assert got == STEP_OK and np.isfinite(loss) and engine.get_checkpoint() == before
    got, loss = engine.step(xs[2], 9, 0.01)   # the engine goes on
    assert got == STEP_OK and np.isfinite(loss) and engine.get_checkpoint() != before


@pytest.mark.parametrize("storage, momentum", [("int8", 0.0), ("float32", 0.0), ("int8", 0.9)])
def test_a_huge_rate_saturates_the_parameters_and_every_checkpoint_stays_loadable(model, tmp_path, storage, momentum):
    """lr = 1e30 is finite, so the step runs: biases stop at +-2^30 and masters at +-2^15 (the
    limits of tte_train_common.h), bit for bit with the reference trainer, clean under ASan and
    UBSan (no int32 accumulator overflows on the next forward), and the checkpoint loads."""
    from tinyengine_compiler.codegen.context import checkpoint_bytes
    from tinyengine_compiler.targets.host import train_sanitized
    from tinyengine_compiler.training.trainer import Trainer

    g, xs = model
    name = f"{storage}-{momentum}"
    engine, sched, _ = _engine(g, tmp_path, name, storage=storage, momentum=momentum)
    labels = [3, 7, 1]
    losses, checkpoint = train_sanitized(str(tmp_path / name), np.stack(xs), labels, 1e30)
    trainer = Trainer(sched, 1e30)
    assert losses.tolist() == [np.float32(trainer.step(x, y)) for x, y in zip(xs, labels)]
    assert checkpoint == checkpoint_bytes(sched, trainer.stored, trainer.draws, trainer.velocity)
    assert engine.set_checkpoint(checkpoint) == CHECKPOINT_OK


def test_a_non_finite_loss_stops_the_step_before_any_gradient(model, tmp_path):
    """An int8 forward cannot make a non-finite loss by itself, so the generated check is
    exercised by a copy of the engine whose loss read is poisoned with NaN."""
    g, xs = model
    engine, _, ctx = _engine(g, tmp_path, "a")
    source = tmp_path / "a" / "tte_model.c"
    check = "    if (!tte_finite_(loss_value)) {"
    assert source.read_text().count(check) == 1
    source.write_text(source.read_text().replace(check, '    loss_value = __builtin_nanf("");\n' + check))
    poisoned = HostEngine(build_host_library(str(tmp_path / "a"), str(tmp_path / "poisoned-build")),
                          ctx["input"]["bytes"], ctx["output"]["bytes"], ctx["trainable_bytes"])
    before = poisoned.get_checkpoint()
    status, _ = poisoned.step(xs[0], 1, 0.05)
    assert status == STEP_NONFINITE_LOSS   # (the loss written before the poison is the real one)
    assert poisoned.get_checkpoint() == before


def test_a_zero_rate_step_keeps_the_papers_dead_channel_biases(paper_models_dir, tmp_path):
    """The paper's MCUNet holds biases near -2^31 (dead channels), beyond the +-2^30 an update
    may move a bias to: a step must leave them, and at rate 0 every parameter, as they are."""
    from tinyengine_compiler.training.trainer import Trainer

    g = load_model(f"{paper_models_dir}/mcunet-5fps.pkl")
    engine, sched, _ = _engine(g, tmp_path, "paper")
    before = engine.get_checkpoint()
    x = quantize_image(g, sample_images(1)[0])
    status, _ = engine.step(x, 4, 0.0)
    assert status == STEP_OK and engine.get_checkpoint() == before
    trainer = Trainer(sched, 0.0)
    stored = {k: np.array(v, copy=True) for k, v in trainer.stored.items()}
    assert any(np.min(v) < -(1 << 30) for v in stored.values() if v.dtype == np.int32)
    trainer.step(x, 4)
    assert all(np.array_equal(trainer.stored[k], v) for k, v in stored.items())
