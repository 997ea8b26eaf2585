"""`tte plan` reports what `tte compile` writes: the same memory.json, byte for byte, and the
same verdict for any budget, with the same defaults.  The memory figures themselves are checked
against the linker and the emulator in tests/qemu/test_train_m7.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main

CASES = [("mcunet-5fps", "sparse_49kb", ["--num-classes", "10"]),
         ("mcunet-5fps", "paper-mcunet-5fps", ["--num-classes", "10"]),
         ("mbv2-w0.35", "paper-mbv2-w0.35", ["--num-classes", "10"]),
         ("proxyless-w0.3", "paper-proxyless-w0.3", ["--num-classes", "10", "--storage", "float32", "--budget", "1MB"]),
         ("mcunet-5fps", "paper-mcunet-5fps", ["--budget", "1MB"])]   # the 1000-class head


def _run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("model, scheme, extra", CASES, ids=lambda v: v if isinstance(v, str) else "-".join(v))
def test_plan_prints_the_memory_json_compile_writes(paper_models_dir, tmp_path, model, scheme, extra):
    args = [f"{paper_models_dir}/{model}.pkl", "--update", scheme, *extra]
    plan = _run("plan", *args, "--json")
    assert plan.exit_code == 0, plan.output
    compiled = _run("compile", *args, "-o", str(tmp_path / "out"))
    assert compiled.exit_code == 0, compiled.output
    written = (tmp_path / "out" / "memory.json").read_text()
    assert json.loads(plan.stdout) == json.loads(written)
    planned = _run("plan", *args, "-o", str(tmp_path / "plan"))
    assert (tmp_path / "plan" / "memory.json").read_text() == written
    memory = json.loads(written)
    # the C allocates what the report counts: TTE_ARENA_BYTES and TTE_RAM_BYTES
    header = (tmp_path / "out" / "tte_model.h").read_text()
    assert f"#define TTE_ARENA_BYTES {memory['arena_bytes']}u" in header
    assert f"#define TTE_RAM_BYTES {memory['data_bss_bytes']}u" in header
    assert memory["peak_sram_bytes"] == memory["data_bss_bytes"] + memory["stack_bytes"]
    assert memory["data_bss_bytes"] == (memory["arena_bytes"] + memory["trainable_bytes"]
                                        + memory["other_static_bytes"])
    assert planned.exit_code == 0


@pytest.mark.parametrize("model, scheme, extra", CASES[:2], ids=lambda v: v if isinstance(v, str) else "-".join(v))
def test_plan_and_compile_give_the_same_verdict_for_every_budget(paper_models_dir, tmp_path, model, scheme,
                                                                 extra):
    args = [f"{paper_models_dir}/{model}.pkl", "--update", scheme, *extra]
    peak = json.loads(_run("plan", *args, "--json").stdout)["peak_sram_bytes"]
    for budget, ok in ((peak - 1, False), (peak, True), (256 * 1024, peak <= 256 * 1024)):
        plan = _run("plan", *args, "--budget", str(budget))
        out = tmp_path / f"out{budget}"
        compiled = _run("compile", *args, "--budget", str(budget), "-o", str(out))
        assert (plan.exit_code, compiled.exit_code) == ((0, 0) if ok else (1, 1)), (budget, plan.output)
        assert out.exists() == ok
    # without --budget both gate on the same default, 256KB
    assert (_run("plan", *args).exit_code == 0) == (_run("compile", *args, "-o", str(tmp_path / "d")).exit_code == 0)
