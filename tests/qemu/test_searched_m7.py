"""What `tte search` writes for a model that is not from the paper (the MobileNetV3-like family
model, 64 px) goes all the way to the emulated STM32F746: the scheme file compiles under the
budget it was searched for, at the SRAM the search reported, and trains there bit for bit with
the host C, in the RAM memory.json gives.  (The family model's weights are random, so every run
is at chance and the search keeps the classifier alone; tests/search checks the choice itself
against brute force.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.targets.bench import HARNESS_RAM_BYTES, bench_m7
from tinyengine_compiler.targets.host import engine_from_folder

from ..sample_images import sample_images
from .conftest import needs_arm_gcc, needs_qemu

CLASSES, LR, LABELS = 3, 0.05, [0, 2, 1]


@needs_arm_gcc
@needs_qemu
def test_a_searched_scheme_compiles_under_its_budget_and_trains_on_m7(family_models, tmp_path, plugin):
    Image = pytest.importorskip("PIL.Image", reason="PNG folders need Pillow (the test extra)")
    rng = np.random.default_rng(1)
    for c in range(CLASSES):
        (tmp_path / "images" / f"class{c}").mkdir(parents=True)
        for i in range(6):
            Image.fromarray((rng.random((48, 48, 3)) * 60 + 80 * c).astype(np.uint8)).save(
                tmp_path / "images" / f"class{c}" / f"{i}.png")
    model = family_models["mobilenetv3"]["int8"]
    scheme = tmp_path / "scheme.json"
    searched = CliRunner().invoke(main, ["search", model, "--dataset", str(tmp_path / "images"), "--num-classes",
                                         str(CLASSES), "--budget", "150KB", "--quick", "--jobs", "1",
                                         "--train-per-class", "3", "--val-per-class", "3", "--lr", str(LR),
                                         "-o", str(scheme)])
    assert searched.exit_code == 0, searched.output
    out = tmp_path / "engine"
    compiled = CliRunner().invoke(main, ["compile", model, "--update", str(scheme), "--num-classes", str(CLASSES),
                                         "--budget", "150KB", "-o", str(out)])
    assert compiled.exit_code == 0, compiled.output
    g = load_model(model)
    xs = np.stack([quantize_image(g, im) for im in sample_images(len(LABELS), g.tensors[g.inputs[0]].shape[1])])
    got = bench_m7(out, xs, LABELS, LR, plugin=plugin, strict_precision=True, timeout_s=120, opt="-Ofast")
    memory = json.loads((out / "memory.json").read_text())
    assert memory["peak_sram_bytes"] == int(searched.output.split("planned SRAM ")[1].split(" B")[0])
    assert got["data_bytes"] + got["bss_bytes"] == memory["data_bss_bytes"] + HARNESS_RAM_BYTES
    host = engine_from_folder(str(out), str(tmp_path / "host"))
    assert got["losses"] == [float(host.train_step(x, y, LR)) for x, y in zip(xs, LABELS)]
    assert got["trained"] == host.get_trainable()
