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
from tinyengine_compiler.targets.host import HostEngine, build_host_library
from tinyengine_compiler.training.config import load_scheme

from ..sample_images import sample_images

HEADER = 24
# tte_model.h's statuses
STEP_OK, STEP_BAD_LABEL, STEP_BAD_LR = 0, 1, 2
CHECKPOINT_OK, BAD_SIZE, FOREIGN, CORRUPT, NONFINITE = 0, -1, -2, -3, -4


def _engine(g, tmp_path, name, storage="int8", qas=True):
    scheme = replace(load_scheme("sparse_49kb"), weight_storage=storage)
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
    got, loss = engine.step(xs[2], 9, 0.01)   # the engine goes on
    assert got == STEP_OK and np.isfinite(loss) and engine.get_checkpoint() != before
