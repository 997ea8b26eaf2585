"""Instructions, Flash and RAM of one generated MCUNet-5FPS inference on the Cortex-M7 (QEMU):
the `m7-inference` section of docs/BENCHMARKS.md.  Run `python -m benchmarks.m7_inference`.

The model is the paper's MCUNet-5FPS from ../shared/models (else the example model the repo
builds: same layers, synthetic weights, so the same counts) with a new 10-class head, as in
TinyEngine's STM32F746 training demo.  The engine is the inference engine
(`compile.compile_inference`: unfused layers, the arena planned for inference); the firmware is built with
arm-none-eabi-gcc for the F746 and run on QEMU mps2-an500 with the insncount plugin, which
counts the instructions retired between two markers around `tte_infer`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tinyengine_compiler.compile import compile_inference
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.passes.replace_classifier import replace_classifier
from tinyengine_compiler.targets import build_firmware, run_qemu, segment_counts

from .doc import ROOT, write_section

PAPER_MODEL = ROOT.parent / "shared" / "models" / "mcunet-5fps.pkl"
FIRMWARE = Path(__file__).resolve().parent / "m7" / "infer_bench.c"
TINYENGINE = {"instr": 63.7e6, "ram_kb": 252.3, "flash_kb": 664}   # the demo's figures, -Ofast


def _model_path(tmp: Path) -> tuple[str, str]:
    if PAPER_MODEL.is_file():
        return str(PAPER_MODEL), "the paper's mcunet-5fps.pkl"
    from examples.build_models import build
    build(str(tmp / "models"), ["mcunet-5fps"])
    return str(tmp / "models" / "mcunet-5fps-int8.onnx"), "the example MCUNet-5FPS (synthetic weights)"


def measure(opt: str, out: Path, tmp: Path) -> dict:
    fw = build_firmware([*out.glob("*.c"), *(out / "runtime" / "src").glob("*.c"), FIRMWARE],
                        [out, out / "runtime" / "include"], tmp / f"build{opt}", opt=opt, name="infer")
    run = run_qemu(fw.elf, workdir=tmp, timeout_s=300)
    return {"instr": segment_counts(run.marks, {1: "infer"})["infer"], "flash": fw.flash_bytes, "ram": fw.ram_bytes}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tte-m7-") as folder:
        tmp = Path(folder)
        path, source = _model_path(tmp)
        g = replace_classifier(load_model(path), 10, seed=0)
        plan, _ = compile_inference(g, str(tmp / "out"))
        rows = [(opt, measure(opt, tmp / "out", tmp)) for opt in ("-O2", "-Ofast")]
    lines = ["## Cortex-M7: one MCUNet-5FPS inference (10 classes)", "",
             f"Regenerate with `python -m benchmarks.m7_inference`.  Model: {source}.  Instructions "
             "retired in `tte_infer`, counted exactly by the QEMU plugin (a proxy for cycles, not "
             "cycles); Flash = text + data; RAM = data + bss + the 16 KB stack reserve of the "
             "linker script.  Arena planned for inference, layers unfused "
             f"({plan.arena_bytes / 1024:.1f} KB).", "",
             "| build | instr / inference | vs TinyEngine (63.7 M) | Flash KB | RAM KB |",
             "|---|---:|---:|---:|---:|"]
    for opt, m in rows:
        lines.append(f"| {opt} | {m['instr'] / 1e6:.1f} M | {m['instr'] / TINYENGINE['instr']:.2f}x | "
                     f"{m['flash'] / 1024:.1f} | {m['ram'] / 1024:.1f} |")
    lines += ["", "TinyEngine's own demo on the same QEMU and plugin, -Ofast: 63.7 M instructions an "
              "inference, 106.0 M a training step, about 252 KB of RAM (230.6 KB static + 21.7 KB "
              "stack) and 664 KB of Flash (figures given to the project, not measured here)."]
    sys.stdout.write(write_section("m7-inference", "\n".join(lines)))


if __name__ == "__main__":
    main()
