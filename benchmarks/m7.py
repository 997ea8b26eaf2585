"""Instructions, Flash and RAM of the generated MCUNet-5FPS training engine on the Cortex-M7
(QEMU): the `m7` section of docs/BENCHMARKS.md.  Run `python -m benchmarks.m7`.

The model is the paper's MCUNet-5FPS from ../shared/models (else the example model the repo
builds: same layers, synthetic weights, so the same counts) with TinyEngine's demo scheme
`sparse_49kb` and a new 10-class head, the configuration of TinyEngine's STM32F746 training
demo.  `tte compile`'s engine is built with arm-none-eabi-gcc for the F746 and run on QEMU
mps2-an500 with the insncount plugin, which counts the instructions retired between markers
around one `tte_infer` and one `tte_train_step`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from dataclasses import replace

from tinyengine_compiler.codegen.context import PHASE_BACKWARD, PHASE_END, PHASE_FORWARD, PHASE_UPDATE
from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.training.config import load_scheme
from tinyengine_compiler.targets import FirmwareTooLargeError, build_firmware, run_qemu, segment_counts

from .doc import ROOT, write_section

MODELS = ROOT.parent / "shared" / "models"
PAPER_SCHEMES = ("mbv2-w0.35", "proxyless-w0.3", "mcunet-5fps")
FIRMWARE = Path(__file__).resolve().parent / "m7" / "step_bench.c"
# tte_model.c marks the phases of a training step with TTE_PHASE_MARK(n): make them markers.
PHASE_MARKER = 'TTE_PHASE_MARK(n)=__asm__ volatile("dbg #" #n ::: "memory")'
# TinyEngine's demo on the same QEMU and plugin at -Ofast (figures given to the project)
TINYENGINE = {"infer": 63.7e6, "train": 106.0e6, "ram_kb": 252.3, "flash_kb": 664}


def _model_path(tmp: Path, name: str = "mcunet-5fps") -> tuple[str, str]:
    paper = MODELS / f"{name}.pkl"
    if paper.is_file():
        return str(paper), f"the paper's {name}.pkl"
    from examples.build_models import build
    build(str(tmp / "models"), [name])
    return str(tmp / "models" / f"{name}-int8.onnx"), f"the example {name} (synthetic weights)"


def measure(opt: str, out: Path, tmp: Path) -> dict:
    fw = build_firmware([*out.glob("*.c"), *(out / "runtime" / "src").glob("*.c"), FIRMWARE],
                        [out, out / "runtime" / "include"], tmp / f"build{opt}", opt=opt, name="step",
                        defines=[PHASE_MARKER])
    run = run_qemu(fw.elf, workdir=tmp, timeout_s=600)
    counts = segment_counts(run.marks, {1: "infer", 3: "prologue", PHASE_FORWARD: "forward",
                                        PHASE_BACKWARD: "backward", PHASE_UPDATE: "update", PHASE_END: "epilogue"})
    counts["train"] = sum(counts[k] for k in ("prologue", "forward", "backward", "update", "epilogue"))
    return {**counts, "flash": fw.flash_bytes, "ram": fw.ram_bytes, "static": fw.data_bytes + fw.bss_bytes}


def _compiled(path: str, scheme: str, out: Path):
    return compile_training(load_model(path), replace(load_scheme(scheme), weight_storage="int8"), str(out),
                            num_classes=10)


def paper_rows(tmp: Path) -> list[str]:
    """One row per paper model with its paper scheme (10 classes), -Ofast."""
    rows = []
    for name in PAPER_SCHEMES:
        path, _ = _model_path(tmp, name)
        plan, ctx, _ = _compiled(path, f"paper-{name}", tmp / name)
        planned = (plan.arena_bytes + ctx["trainable_bytes"]) / 1024
        try:
            m = measure("-Ofast", tmp / name, tmp)
        except FirmwareTooLargeError as e:
            rows.append(f"| {name} | paper-{name} | - | - | {planned:.1f} | - | {e} |")
            continue
        rows.append(f"| {name} | paper-{name} | {m['flash'] / 1024:.1f} | {m['static'] / 1024:.1f} | "
                    f"{(plan.arena_bytes + ctx['trainable_bytes']) / 1024:.1f} | {m['infer'] / 1e6:.1f} M | "
                    f"{m['train'] / 1e6:.1f} M ({m['forward'] / 1e6:.1f} / {m['backward'] / 1e6:.1f} / "
                    f"{m['update'] / 1e6:.2f}) |")
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tte-m7-") as folder:
        tmp = Path(folder)
        path, source = _model_path(tmp)
        plan, ctx, _ = _compiled(path, "sparse_49kb", tmp / "out")
        rows = [(opt, measure(opt, tmp / "out", tmp)) for opt in ("-O2", "-Ofast")]
        papers = paper_rows(tmp)
    te = TINYENGINE
    lines = ["## Cortex-M7: MCUNet-5FPS, TinyEngine's demo scheme (sparse_49kb, 10 classes)", "",
             f"Regenerate with `python -m benchmarks.m7`.  Model: {source}.  Instructions retired in one "
             "`tte_infer` and one `tte_train_step`, counted exactly by the QEMU plugin (a proxy for "
             "cycles, not cycles).  Flash = text + data; RAM = data + bss + the linker script's 16 KB "
             f"stack reserve.  Planned: arena {plan.arena_bytes} B + trained parameters "
             f"{ctx['trainable_bytes']} B.", "",
             "| build | instr / inference | instr / training step | forward / backward / update | Flash KB | RAM KB |",
             "|---|---:|---:|---|---:|---:|"]
    for opt, m in rows:
        lines.append(f"| {opt} | {m['infer'] / 1e6:.1f} M ({m['infer'] / te['infer']:.2f}x) | "
                     f"{m['train'] / 1e6:.1f} M ({m['train'] / te['train']:.2f}x) | "
                     f"{m['forward'] / 1e6:.1f} / {m['backward'] / 1e6:.1f} / {m['update'] / 1e6:.2f} M | "
                     f"{m['flash'] / 1024:.1f} "
                     f"({m['flash'] / 1024 / te['flash_kb']:.2f}x) | {m['ram'] / 1024:.1f} "
                     f"({m['ram'] / 1024 / te['ram_kb']:.2f}x) |")
    lines += [f"| TinyEngine demo, -Ofast | {te['infer'] / 1e6:.1f} M | {te['train'] / 1e6:.1f} M | - | "
              f"{te['flash_kb']} | {te['ram_kb']} (230.6 static + 21.7 stack) |", "",
              "Ratios are ours / TinyEngine's (below 1 is better).  TinyEngine's figures were given to the "
              "project (its public demo built and run on the same QEMU and plugin), not measured here.  "
              "The firmware writes the image into the engine's arena (`tte_input()`): no buffer of its own.", "",
              "### The paper's schemes (10-class heads, -Ofast)", "",
              "ram (static) = data + bss of the firmware; planned peak = arena + "
              "trained parameters.  The paper reports 373, 443 and 546 ms per training step for its three models "
              "on a real STM32F746 at 216 MHz; instruction counts are a proxy for time, not cycles.", "",
              "| model | scheme | flash KB | ram (static) KB | planned peak KB | instr/infer | "
              "instr/train step (fwd / bwd / upd, M) |",
              "|---|---|---:|---:|---:|---:|---|", *papers]
    sys.stdout.write(write_section("m7", "\n".join(lines)))


if __name__ == "__main__":
    main()
