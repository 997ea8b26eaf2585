"""Instructions, Flash and RAM of the generated training engines on the Cortex-M7 (QEMU): the
`m7` section of docs/BENCHMARKS.md.  Run `python -m benchmarks.m7`.

Every figure is `tte bench-m7`'s (targets/bench.py), the build the QEMU tests prove bit-exact
(tests/qemu/test_train_m7.py: -Ofast, `tte bench-m7`'s default, and -O2, both with
-fno-fast-math -ffp-contract=off): the engine linked
with examples/stm32f746/main.c for the F746, one `tte_infer` and one `tte_train_step` on QEMU
mps2-an500, instructions counted by the insncount plugin between markers, the stack measured
by painting.  Device RAM = data + bss + the measured stack.

First MCUNet-5FPS with TinyEngine's demo scheme `sparse_49kb` and a 10-class head (the
configuration of TinyEngine's STM32F746 training demo), then the paper's three schemes with
10-class heads against the goals of the memory-truth issue (0.9x the paper's figures), and
where the instructions go, by function (with the CMSIS-NN kernels too where CMSIS_NN_ROOT is
set).  The
models come from ../shared/models, else the example models the repo builds (same layers,
synthetic weights, so the same counts and sizes).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from tinyengine_compiler.cbuild import is_cmsis_nn_checkout
from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.targets.bench import bench_m7

from .doc import ROOT, write_section

MODELS = ROOT.parent / "shared" / "models"
CMSIS_NN_ROOT = os.environ.get("CMSIS_NN_ROOT", "")
PAPER_SCHEMES = ("mbv2-w0.35", "proxyless-w0.3", "mcunet-5fps")
# TinyEngine's demo on the same QEMU and plugin at -Ofast (figures given to the project):
# RAM = 230,580 B data + bss + 21,880 B measured stack = 246.5 KB
TINYENGINE = {"infer": 63.7e6, "train": 106.0e6, "ram": 230580 + 21880, "flash_kb": 664}
# The paper's sparse + reorder memory (KB, Figure 9) and the goal: 0.9x of it
PAPER_KB = {"mbv2-w0.35": 141, "proxyless-w0.3": 135, "mcunet-5fps": 173}
GOAL = 0.9
KB = 1024


def _model_path(tmp: Path, name: str) -> tuple[str, str]:
    paper = MODELS / f"{name}.pkl"
    if paper.is_file():
        return str(paper), f"the paper's {name}.pkl"
    from examples.build_models import build
    build(str(tmp / "models"), [name])
    return str(tmp / "models" / f"{name}-int8.onnx"), f"the example {name} (synthetic weights)"


def measure(path: str, scheme: str, opt: str, tmp: Path, kernels: str = "portable") -> dict:
    """`tte bench-m7 MODEL --update SCHEME --num-classes 10 --steps 1 --opt OPT --kernels K --json`."""
    g = load_model(path)
    out = tmp / f"{Path(path).stem}-{scheme}{opt}-{kernels}"
    engine = compile_training(g, load_scheme(scheme), str(out), Options(num_classes=10, kernels=kernels))
    x = quantize_image(g, np.random.default_rng(0).integers(0, 256, g.tensors[g.inputs[0]].shape[1:], np.uint8))
    r = bench_m7(out, x[None], [0], 0.01, opt=opt, timeout_s=900)
    return {**r, "reported": engine.summary["peak_sram_bytes"]}


def _cmd(name: str, scheme: str, opt: str, kernels: str = "portable") -> str:
    backend = f" --kernels {kernels}" if kernels != "portable" else ""
    return f"`tte bench-m7 {name}.pkl --update {scheme} --num-classes 10 --opt {opt}{backend} --json`"


def _kernel_table(runs: list[tuple[str, dict]], top: int = 12) -> list[str]:
    """The functions that retire the most instructions in a training step, per run, beside their
    share of an inference (`tte bench-m7 --json`'s instr_by_kernel)."""
    heads = " | ".join(f"{label}: step M | infer M" for label, _ in runs)
    lines = [f"| function | {heads} |", "|---|" + "---:|---:|" * len(runs)]
    names: list[str] = []
    for _, m in runs:
        names += [n for n in list(m["instr_by_kernel"]["train_step"])[:top] if n not in names]
    for name in names:
        cells = []
        for _, m in runs:
            step, infer = (m["instr_by_kernel"][w].get(name, 0) for w in ("train_step", "infer"))
            cells.append(f"{step / 1e6:.2f} ({step / m['instr_train_step']:.0%}) | {infer / 1e6:.2f}")
        lines.append(f"| `{name}` | {' | '.join(cells)} |")
    return lines


def main() -> None:
    te = TINYENGINE
    with tempfile.TemporaryDirectory(prefix="tte-m7-") as folder:
        tmp = Path(folder)
        path, source = _model_path(tmp, "mcunet-5fps")
        demo = [(opt, measure(path, "sparse_49kb", opt, tmp)) for opt in ("-O2", "-Ofast")]
        cmsis = [("-Ofast", measure(path, "sparse_49kb", "-Ofast", tmp, "cmsis_nn"))] if is_cmsis_nn_checkout(CMSIS_NN_ROOT) else []
        papers = []
        for name in PAPER_SCHEMES:
            p, _ = _model_path(tmp, name)
            papers.append((name, measure(p, f"paper-{name}", "-Ofast", tmp)))
    lines = ["## Cortex-M7: MCUNet-5FPS, TinyEngine's demo scheme (sparse_49kb, 10 classes)", "",
             f"Regenerate with `python -m benchmarks.m7`.  Model: {source}.  Instructions retired in one "
             "`tte_infer` and one `tte_train_step`, counted exactly by the QEMU plugin (a proxy for "
             "cycles, not cycles), in the builds the QEMU tests prove bit-exact (`-fno-fast-math` on "
             "every build).  Flash = text + data.  Device RAM = data + bss + the stack measured by "
             "painting; `reported` is memory.json's `peak_sram_bytes` for the same arguments (data + "
             "bss + the worst-case stack), what `tte plan` prints and `--budget` gates.  KB = 1024 B.", "",
             "| build | instr / inference | instr / training step | forward / backward / update | Flash KB | "
             "device RAM KB (data + bss + stack) | reported KB | command |",
             "|---|---:|---:|---|---:|---:|---:|---|"]
    for opt, m in demo:
        lines.append(f"| {opt} | {m['instr_infer'] / 1e6:.1f} M ({m['instr_infer'] / te['infer']:.2f}x) | "
                     f"{m['instr_train_step'] / 1e6:.1f} M ({m['instr_train_step'] / te['train']:.2f}x) | "
                     f"{m['instr_forward'] / 1e6:.1f} / {m['instr_backward'] / 1e6:.1f} / "
                     f"{m['instr_update'] / 1e6:.2f} M | {m['flash_bytes'] / KB:.1f} "
                     f"({m['flash_bytes'] / KB / te['flash_kb']:.2f}x) | {m['device_ram_bytes'] / KB:.1f} "
                     f"({m['device_ram_bytes'] / te['ram']:.2f}x): {m['data_bytes'] + m['bss_bytes']} + "
                     f"{m['stack_used_bytes']} B | {m['reported'] / KB:.1f} | {_cmd('mcunet-5fps', 'sparse_49kb', opt)} |")
    demo_ram = demo[1][1]["device_ram_bytes"]
    lines += [f"| TinyEngine demo, -Ofast | {te['infer'] / 1e6:.1f} M | {te['train'] / 1e6:.1f} M | - | "
              f"{te['flash_kb']} | {te['ram'] / KB:.1f}: 230580 + 21880 B | - | - |", "",
              "Ratios are ours / TinyEngine's (below 1 is better).  TinyEngine's figures were given to the "
              "project (its public demo built and run on the same QEMU and plugin at -Ofast), not measured "
              "here.  The firmware holds no buffer of its own: the image goes into the engine's input slot "
              "(`tte_input()`), the logits are read from its output slot (`tte_output()`), so its data + bss "
              "is the engine's `TTE_RAM_BYTES` plus the harness's fixed overhead "
              "(`harness_ram_bytes`, 0 B here).", "",
              f"Goal: `sparse_49kb` in at most half of TinyEngine's RAM, {te['ram'] / 2 / KB:.1f} KB: "
              f"**{demo_ram / KB:.1f} KB at -Ofast, {'met' if demo_ram <= te['ram'] / 2 else 'not met'}**.", "",
              "### Where the instructions go (sparse_49kb, -Ofast)", "",
              "Instructions by function in one training step and one inference (`tte bench-m7 --json`, "
              "`instr_by_kernel`: the QEMU plugin charges each translation block to the function that "
              "holds it; static helpers inlined into a kernel count as the kernel).  TinyEngine's own "
              "per-layer breakdown was not given to the project, so there is no column for it."
              + (f"  With `--kernels cmsis_nn` (CMSIS-NN from `CMSIS_NN_ROOT`, bit-exact with the portable "
                 f"kernels, tests/codegen/test_cmsis_backend.py) the same step takes "
                 f"{cmsis[0][1]['instr_train_step'] / 1e6:.1f} M and an inference "
                 f"{cmsis[0][1]['instr_infer'] / 1e6:.1f} M, against {demo[1][1]['instr_train_step'] / 1e6:.1f} M "
                 f"and {demo[1][1]['instr_infer'] / 1e6:.1f} M with the portable kernels; device RAM "
                 f"{cmsis[0][1]['device_ram_bytes'] / KB:.1f} KB (CMSIS-NN's im2col scratch is in the arena); "
                 f"{_cmd('mcunet-5fps', 'sparse_49kb', '-Ofast', 'cmsis_nn')}.  The portable kernels are "
                 f"the faster ones for every op CMSIS-NN takes over here (the 1x1 convolutions, the first "
                 f"3x3 convolution, the adds): compare the two columns' functions below, whose sums are "
                 f"the two inference figures." if cmsis else
                 "  Set `CMSIS_NN_ROOT` to add the `--kernels cmsis_nn` build."), "",
              *_kernel_table([("portable", demo[1][1]), *[("cmsis_nn", m) for _, m in cmsis]]), "",
              "### The paper's schemes (10-class heads, -Ofast)", "",
              f"Goal: device RAM at most {GOAL}x the paper's sparse + reorder figure (Figure 9).  The paper's "
              "figure counts activations and gradients; ours counts everything the firmware holds: the "
              "arena, the trained parameters, the other static state and the measured stack.  The paper "
              "reports 373, 443 and 546 ms per training step for its three models on a real STM32F746 at "
              "216 MHz; instruction counts are a proxy for time, not cycles.", "",
              "| model | scheme | Flash KB | device RAM KB | reported KB | paper KB | goal KB | met | "
              "instr/infer | instr/train step (fwd / bwd / upd, M) | command |",
              "|---|---|---:|---:|---:|---:|---:|---|---:|---|---|"]
    for name, m in papers:
        goal = GOAL * PAPER_KB[name]
        ram = m["device_ram_bytes"] / KB
        lines.append(f"| {name} | paper-{name} | {m['flash_bytes'] / KB:.1f} | {ram:.1f} | "
                     f"{m['reported'] / KB:.1f} | {PAPER_KB[name]} | {goal:.0f} | {'yes' if ram <= goal else 'no'} | "
                     f"{m['instr_infer'] / 1e6:.1f} M | {m['instr_train_step'] / 1e6:.1f} M "
                     f"({m['instr_forward'] / 1e6:.1f} / {m['instr_backward'] / 1e6:.1f} / "
                     f"{m['instr_update'] / 1e6:.2f}) | {_cmd(name, f'paper-{name}', '-Ofast')} |")
    sys.stdout.write(write_section("m7", "\n".join(lines)))


if __name__ == "__main__":
    main()
