"""Peak SRAM of one training step for the paper's three models: the memory section of
docs/BENCHMARKS.md.  Run `python -m benchmarks.memory` from the repository root; a model
missing from ../shared/models is skipped with a note.  Rewrites only its own section of
docs/BENCHMARKS.md (`benchmarks/doc.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tinyengine_compiler.frontend import load_model

from .doc import write_section
from tinyengine_compiler.report.plan import plan_memory
from tinyengine_compiler.training.config import load_scheme

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "models"
# The paper's measured peak memory (KB), Figure 9: full update w/o reorder, sparse w/o reorder,
# sparse with reorder.
PAPER_KB = {"mbv2-w0.35": (2939, 335, 141), "proxyless-w0.3": (2745, 326, 135),
            "mcunet-5fps": (3650, 560, 173)}
STORAGE = "int8"
RUNS = (("full", "full", True), ("sparse", "paper", True), ("sparse + reorder", "paper", False))


def _row(g, model: str, label: str, update: str, no_reorder: bool, paper_kb: int | None,
         num_classes: int | None = None) -> tuple[str, dict]:
    s = plan_memory(g, load_scheme(update), num_classes=num_classes, reorder=not no_reorder,
                    storage=STORAGE, verify=True).summary
    kb = lambda n: f"{n / 1024:.1f}"
    ratio = s["arena_bytes"] / s["lower_bound_bytes"]
    paper = "-" if paper_kb is None else f"{paper_kb}"
    vs = "-" if paper_kb is None else f"{s['arena_bytes'] / 1024 / paper_kb:.2f}"
    cmd = (f"`tte plan {model}.pkl --update {update}{' --no-reorder' if no_reorder else ''}"
           f"{f' --num-classes {num_classes}' if num_classes else ''} --storage {STORAGE}`")
    return (f"| {model} | {label} | {kb(s['arena_bytes'])} | {kb(s['trainable_bytes'])} | "
            f"{kb(s['peak_sram_bytes'])} | {ratio:.3f} | {paper} | {vs} | {cmd} |"), s


def memory_section() -> str:
    lines = ["## Memory: peak SRAM of one training step", "",
             "Regenerate with `python -m benchmarks.memory` (from the repository root).  Input "
             "1x3x128x128, batch 1, trained weights stored int8 (`--storage int8`), biases int32, "
             "1000-class classifier unless stated.  KB = 1024 B.  arena = activations, saved state, "
             "gradients, scratch, input and label, planned by the best of the planners; "
             "trainable = trained parameters, updated in place in SRAM; peak = arena + trainable.  "
             "`arena/lb` = arena / lower bound.  `vs paper` = our arena / the paper's figure "
             "(see the accounting notes below for why the arena is the comparable number).", "",
             "| model | scheme | arena KB | trainable KB | peak KB | arena/lb | paper KB | vs paper | command |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    notes, gains = [], []
    for model, paper in PAPER_KB.items():
        path = MODELS / f"{model}.pkl"
        if not path.is_file():
            notes.append(f"- {model}: skipped, {path} is absent.")
            continue
        g = load_model(str(path))
        arenas = []
        for (label, scheme, no_reorder), paper_kb in zip(RUNS, paper):
            update = "full" if scheme == "full" else f"paper-{model}"
            line, s = _row(g, model, label, update, no_reorder, paper_kb)
            lines.append(line)
            arenas.append(s["arena_bytes"])
        gains.append(f"- {model}: reorder gain (sparse w/o reorder / with reorder, arena) "
                     f"{arenas[1] / arenas[2]:.2f}x; paper {paper[1] / paper[2]:.2f}x.")
        if model == "mcunet-5fps":
            line, _ = _row(g, model, "sparse_49kb, 10 classes", "sparse_49kb", False, None, 10)
            demo = line
    if "demo" in locals():
        lines.append(demo)
    lines += ["", *gains, *notes, "", *ACCOUNTING]
    return "\n".join(lines) + "\n"


ACCOUNTING = [
    "### Where our accounting differs from the paper's",
    "",
    "- **Trained parameters.**  The paper's bars count the training memory of activations and "
    "gradients; the trained weights are updated in place where they live.  We report them "
    "apart (`trainable`): with a 1000-class head the classifier alone is 112-160 KB of int8 "
    "weights, so `peak` exceeds the paper's figures while `arena` is the comparable number.  "
    "The sparse_49kb row (10 classes, the TinyEngine STM32F746 demo, about 252 KB of RAM on "
    "the device including the runtime and stack) shows a small head.",
    "- **Masks.**  Like the paper's estimate, the ReLU/clamp backward reads a packed 1-bit mask "
    "of each trained layer's output (made in the forward pass), not the int8 output.",
    "- **Kept channels.**  A partial-channel weight update keeps only the trained input "
    "channels of its saved input (gathered when the forward pass produces it).",
    "- **Fused update.**  With reorder, each weight gradient is made and applied one output "
    "channel at a time (the gradient is never whole); without reorder every gradient is held, "
    "float32, until all updates run: for the 1000-class heads the classifier's gradient alone "
    "is 375-625 KB (e.g. MbV2 1000x112x4 = 437.5 KB), which is why our 'sparse' rows exceed "
    "the paper's 'w/o reorder' bars and our reorder gain exceeds its 2.4-3.2x.",
    "- **Frozen prefix.**  Expand+depthwise pairs that backward never reads run fused, two "
    "expanded channels at a time; depthwise convs whose input dies run in place.  The peak of "
    "the sparse schemes is then the first conv (input 48 KB + output 64 KB), i.e. inference.",
    "- **Full update** trains every weight and bias, stored int8; its gradients are float32.",
]


def main() -> None:
    sys.stdout.write(write_section("memory", memory_section()))


if __name__ == "__main__":
    main()
