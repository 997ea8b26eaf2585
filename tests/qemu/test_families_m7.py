"""The tiny-vision families (examples/families.py, 64 px) training on the emulated STM32F746.

Each family's whole network trains (`full`, so every backward kernel it needs runs: CONCAT's and
channel shuffle's channel moves, max-pool, LUT and squeeze-excite MUL gradients) for three
steps at -Ofast; the losses, the inference before training and every trained byte must equal
the reference trainer's and the host C's, and the firmware's RAM must be memory.json's.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from examples.families import FAMILIES
from tinyengine_compiler.codegen.context import trained_bytes
from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.targets.bench import HARNESS_RAM_BYTES, HARNESS_STACK_BYTES, bench_m7
from tinyengine_compiler.targets.host import HostEngine, build_host_library
from tinyengine_compiler.training.trainer import Trainer

from ..sample_images import sample_images
from .conftest import needs_arm_gcc, needs_qemu

LR = 0.05
LABELS = [1, 2, 3]


@needs_arm_gcc
@needs_qemu
@pytest.mark.parametrize("family", FAMILIES)
def test_family_trains_on_m7_bit_exact(family_models, tmp_path, plugin, family):
    g = load_model(family_models[family]["int8"])
    out = tmp_path / "out"
    engine = compile_training(g, load_scheme("full"), str(out), Options(num_classes=4), budget_bytes=256 * 1024)
    xs = np.stack([quantize_image(g, im) for im in sample_images(len(LABELS), g.tensors[g.inputs[0]].shape[1])])
    got = bench_m7(out, xs, LABELS, LR, plugin=plugin, strict_precision=True, timeout_s=120, opt="-Ofast")
    memory = json.loads((out / "memory.json").read_text())
    assert got["data_bytes"] + got["bss_bytes"] == memory["data_bss_bytes"] + HARNESS_RAM_BYTES
    assert 0 < got["stack_used_bytes"] <= got["stack_worst_case_bytes"] == memory["stack_bytes"] + HARNESS_STACK_BYTES

    trainer = Trainer(engine.graph, LR)
    np.testing.assert_array_equal(got["logits"], trainer._forward(xs[0], None)[engine.graph.outputs[0]].reshape(-1))
    assert got["losses"] == [float(np.float32(trainer.step(x, y))) for x, y in zip(xs, LABELS)]
    assert got["trained"] == trained_bytes(engine.graph, trainer.stored)
    ctx = engine.context
    host = HostEngine(build_host_library(str(out), str(tmp_path / "host")), ctx["input"]["bytes"],
                      ctx["output"]["bytes"], ctx["trainable_bytes"])
    assert got["losses"] == [float(host.train_step(x, y, LR)) for x, y in zip(xs, LABELS)]
    assert got["trained"] == host.get_trainable()
