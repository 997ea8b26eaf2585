"""The worst-case stack that memory.json reports, against the compiler and the emulator.

* The per-kernel table (codegen/stack_usage.json) equals a fresh measurement of the kernels'
  call graphs (targets/stack.py); a changed kernel must regenerate it.
* A compiled engine's whole call graph, entry points included, stays within memory.json's
  stack_bytes at every optimization level; the harness's frames within HARNESS_STACK_BYTES.
* On QEMU a stack past its reserve is caught and reported as one line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.targets.bench import HARNESS_STACK_BYTES, bench_m7, firmware_main
from tinyengine_compiler.targets.errors import StackOverflowError
from tinyengine_compiler.targets.firmware import CPU_FLAGS, HARNESS_DIR, STARTUP_C
from tinyengine_compiler.targets.stack import OPT_LEVELS, TABLE, cmsis_table, kernel_table, worst_case_stack

from ..sample_images import sample_images
from .conftest import needs_arm_gcc, needs_qemu


@needs_arm_gcc
def test_the_kernel_table_equals_a_fresh_measurement():
    assert json.loads(TABLE.read_text())["kernels"] == kernel_table(), \
        "python -m tinyengine_compiler.targets.stack regenerates codegen/stack_usage.json"


@needs_arm_gcc
def test_the_cmsis_nn_table_equals_a_fresh_measurement():
    root = os.environ.get("CMSIS_NN_ROOT")
    if not root:
        pytest.skip("CMSIS_NN_ROOT is not set: point it at a CMSIS-NN checkout to measure its adapters' stack")
    assert json.loads(TABLE.read_text())["cmsis_nn"] == cmsis_table(root), \
        "CMSIS_NN_ROOT=... python -m tinyengine_compiler.targets.stack regenerates codegen/stack_usage.json"


@pytest.fixture(scope="module")
def engines(paper_models_dir, tmp_path_factory):
    """The paper's MCUNet under its paper scheme and TinyEngine's demo scheme, 10 classes."""
    g = load_model(f"{paper_models_dir}/mcunet-5fps.pkl")
    out = {}
    for scheme in ("paper-mcunet-5fps", "sparse_49kb"):
        folder = tmp_path_factory.mktemp(scheme)
        compile_training(g, load_scheme(scheme), str(folder), Options(num_classes=10))
        out[scheme] = folder
    return out


@needs_arm_gcc
@pytest.mark.parametrize("opt", OPT_LEVELS)
def test_the_engine_call_graph_stays_within_the_reported_stack(engines, opt):
    for folder in engines.values():
        sources = [*sorted(folder.glob("*.c")), *sorted((folder / "runtime" / "src").glob("*.c"))]
        depth = worst_case_stack(sources, [folder, folder / "runtime" / "include"], opt)
        reported = json.loads((folder / "memory.json").read_text())["stack_bytes"]
        for entry in ("tte_train_step", "tte_infer", "tte_init", "tte_set_trainable"):
            assert depth[entry] <= reported, (entry, opt)


@needs_arm_gcc
@pytest.mark.parametrize("opt", OPT_LEVELS)
def test_the_harness_frames_above_the_engine_fit_their_figure(engines, tmp_path, opt):
    folder = engines["sparse_49kb"]
    frames = {}
    for src in (firmware_main(), STARTUP_C):
        subprocess.run(["arm-none-eabi-gcc", *CPU_FLAGS, opt, "-std=c99", "-fstack-usage", f"-I{HARNESS_DIR}",
                        f"-I{folder}", "-c", str(src), "-o", str(tmp_path / f"{src.stem}.o")], check=True,
                       cwd=tmp_path)
        for line in (tmp_path / f"{src.stem}.su").read_text().splitlines():
            name, size = re.split(r"\t", line)[0].rsplit(":", 1)[1], int(line.split("\t")[1])
            frames[name] = size
    assert frames["Reset_Handler"] + frames["main"] <= HARNESS_STACK_BYTES


@needs_arm_gcc
@needs_qemu
def test_a_stack_past_its_reserve_is_one_line(paper_models_dir, engines, plugin):
    g = load_model(f"{paper_models_dir}/mcunet-5fps.pkl")
    xs = np.stack([quantize_image(g, im) for im in sample_images(1)])
    with pytest.raises(StackOverflowError, match=r"stack overflow: \d+ B used, the reserve is 1024 B"):
        bench_m7(Path(engines["sparse_49kb"]), xs, [1], 0.01, plugin=plugin, stack_bytes=1024, timeout_s=120)
