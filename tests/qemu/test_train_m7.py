"""Training on the emulated STM32F746: examples/stm32f746/main.c + `tte compile` output on QEMU.

Three SGD steps of the firmware (targets/bench.py: link in 1 MB / 320 KB, run on QEMU) against
the numpy reference trainer and the same C built for the host: every loss (float32), the
inference before training and every trained parameter byte must be equal.  The instruction
counts of two runs must be identical, and the firmware must use no double-precision code.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from tinyengine_compiler.codegen.context import trained_bytes
from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.targets.bench import HARNESS_RAM_BYTES, HARNESS_STACK_BYTES, bench_m7
from tinyengine_compiler.targets.host import HostEngine, build_host_library
from tinyengine_compiler.training.trainer import Trainer

from ..sample_images import sample_images
from .conftest import needs_arm_gcc, needs_qemu

LR = 0.01
LABELS = [1, 2, 3]
RAM_BYTES, FLASH_BYTES = 320 * 1024, 1024 * 1024
# -Ofast (with -fno-fast-math, targets/firmware.py) is the headline build of docs/BENCHMARKS.md
CASES = [("mcunet-5fps", "paper-mcunet-5fps", "int8", "-Ofast"), ("mbv2-w0.35", "paper-mbv2-w0.35", "int8", "-Ofast"),
         ("proxyless-w0.3", "paper-proxyless-w0.3", "int8", "-Ofast"),
         ("mcunet-5fps", "sparse_49kb", "int8", "-Ofast"),    # TinyEngine's demo scheme
         ("mcunet-5fps", "sparse_49kb", "int8", "-O2"),
         ("mcunet-5fps", "sparse_49kb", "float32", "-O2"),   # the same with float32 master weights
         ("mcunet-5fps", "sparse_49kb", "float32", "-Ofast"),
         ("mcunet-5fps", "sparse_49kb", "int8-stochastic", "-Ofast"),   # int8 in place, stochastic rounding
         ("mcunet-5fps", "sparse_49kb", "int8-stochastic-sgdm", "-Ofast"),   # and momentum, biases at half the rate
         # and a step clip that scales rows and their velocities (tte compile --step-clip)
         ("mcunet-5fps", "sparse_49kb", "int8-stochastic-sgdm-clip", "-Ofast")]
DEVICE_BUDGET = 256 * 1024


def _compiled(paper_models_dir, tmp_path, model, scheme, storage="int8"):
    """The engine of `scheme` with trained weights stored `storage`: int8, float32, or
    int8-stochastic (int8 in place, its steps rounded stochastically), int8-stochastic-sgdm (and
    SGD with momentum 0.9, biases at half the rate), int8-stochastic-sgdm-clip (and a step clip of
    0.02)."""
    g = load_model(f"{paper_models_dir}/{model}.pkl")
    storage, *more = storage.split("-")
    scheme = replace(load_scheme(scheme), weight_storage=storage,
                     rounding="stochastic" if "stochastic" in more else "nearest",
                     **(dict(momentum=0.9, bias_lr_scale=0.5) if "sgdm" in more else {}),
                     **(dict(step_clip=0.02) if "clip" in more else {}))
    compiled = compile_training(g, scheme, str(tmp_path / "out"), Options(num_classes=10))
    ctx, sched = compiled.context, compiled.graph
    xs = np.stack([quantize_image(g, im) for im in sample_images(len(LABELS))])
    return ctx, sched, xs


def _bench(tmp_path, xs, plugin, **kw):
    return bench_m7(tmp_path / "out", xs, LABELS, LR, plugin=plugin, strict_precision=True, timeout_s=120, **kw)


@needs_arm_gcc
@needs_qemu
@pytest.mark.parametrize("model, scheme, storage, opt", CASES)
def test_three_steps_on_m7_equal_reference_and_host(paper_models_dir, tmp_path, plugin, model, scheme, storage, opt):
    ctx, sched, xs = _compiled(paper_models_dir, tmp_path, model, scheme, storage)
    got = _bench(tmp_path, xs, plugin, opt=opt)
    assert got["ram_bytes"] <= RAM_BYTES and got["flash_bytes"] <= FLASH_BYTES
    # the firmware's RAM is what memory.json reports, plus the harness's fixed overhead; the
    # measured stack stays within the reported worst case, and everything within 256 KB
    memory = json.loads((tmp_path / "out" / "memory.json").read_text())
    assert got["data_bytes"] + got["bss_bytes"] == memory["data_bss_bytes"] + HARNESS_RAM_BYTES
    assert got["harness_ram_bytes"] == HARNESS_RAM_BYTES
    assert 0 < got["stack_used_bytes"] <= got["stack_worst_case_bytes"] == memory["stack_bytes"] + HARNESS_STACK_BYTES
    if storage.startswith("int8"):
        assert got["device_ram_bytes"] <= DEVICE_BUDGET

    trainer = Trainer(sched, LR)
    np.testing.assert_array_equal(got["logits"], trainer._forward(xs[0], None)[sched.outputs[0]].reshape(-1))
    assert got["losses"] == [float(np.float32(trainer.step(x, y))) for x, y in zip(xs, LABELS)]
    assert got["trained"] == trained_bytes(sched, trainer.stored, trainer.draws, trainer.velocity)

    host = HostEngine(build_host_library(str(tmp_path / "out"), str(tmp_path / "host")), ctx["input"]["bytes"],
                      ctx["output"]["bytes"], ctx["trainable_bytes"])
    assert got["losses"] == [float(host.train_step(x, y, LR)) for x, y in zip(xs, LABELS)]
    assert got["trained"] == host.get_trainable()

    for step in got["steps"]:
        assert step["forward"] + step["backward"] + step["update"] == step["train_step"]
        assert min(step["forward"], step["backward"], step["update"]) > 0
    assert not got["double_precision"]


@needs_arm_gcc
@needs_qemu
def test_instruction_counts_are_identical_over_two_runs(paper_models_dir, tmp_path, plugin):
    _, _, xs = _compiled(paper_models_dir, tmp_path, "mcunet-5fps", "sparse_49kb")
    first, second = (_bench(tmp_path, xs, plugin, build_dir=tmp_path / f"build{i}") for i in range(2))
    keys = ["instr_infer", "instr_train_step", "instr_forward", "instr_backward", "instr_update", "steps"]
    assert [first[k] for k in keys] == [second[k] for k in keys]


# ---- tte bench-m7 ----

def _bench_cli(*args):
    from click.testing import CliRunner

    from tinyengine_compiler.cli import main
    return CliRunner().invoke(main, ["bench-m7", *args])


@needs_arm_gcc
@needs_qemu
def test_cli_json_has_one_line_with_the_documented_keys(paper_models_dir):
    r = _bench_cli(f"{paper_models_dir}/mcunet-5fps.pkl", "--update", "sparse_49kb", "--num-classes", "10",
                   "--steps", "2", "--json")
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    got = json.loads(lines[0])
    for key in ("flash_bytes", "ram_bytes", "instr_infer", "instr_train_step", "instr_forward", "instr_backward",
                "instr_update"):
        assert isinstance(got[key], int) and got[key] > 0, key
    assert got["instr_forward"] + got["instr_backward"] + got["instr_update"] == got["instr_train_step"]
    assert len(got["losses"]) == 2 and all(loss > 0 for loss in got["losses"])
    assert got["ram_bytes"] <= RAM_BYTES and got["flash_bytes"] <= FLASH_BYTES
    assert set(got["instr_by_kernel"]) == {"infer", "train_step"}
    assert sum(got["instr_by_kernel"]["train_step"].values()) > 0.99 * got["instr_train_step"]


@needs_arm_gcc
def test_cli_plan_over_320kb_fails_at_link_time_with_one_line(paper_models_dir):
    # past --budget the compile stops first (same verdict as tte plan); with the budget raised,
    # the linker is the gate
    r = _bench_cli(f"{paper_models_dir}/mcunet-5fps.pkl", "--update", "full", "--num-classes", "10", "--json")
    assert r.exit_code == 1 and r.output.startswith("error: needs ") and "budget 262144 B" in r.output
    r = _bench_cli(f"{paper_models_dir}/mcunet-5fps.pkl", "--update", "full", "--num-classes", "10",
                   "--budget", "4MB", "--json")
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert len(lines) == 1, r.output
    assert lines[0].startswith("error: firmware does not fit the STM32F746: RAM overflowed by ")
    assert lines[0].endswith("bytes (320 KB available)")
