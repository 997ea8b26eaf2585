"""SRAM of one training step of the compiled engines: the memory section of docs/BENCHMARKS.md.
Run `python -m benchmarks.memory` from the repository root; a model missing from
../shared/models is skipped with a note.  Rewrites only its own section of docs/BENCHMARKS.md
(`benchmarks/doc.py`).

Every figure is memory.json's, the engine `tte compile` writes for the same arguments (and
`tte plan --json` prints): what the generated C allocates, nothing else.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.pipeline import Options, training_engine
from tinyengine_compiler.scheme import load_scheme

from .doc import write_section

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "models"
# The paper's measured peak memory (KB), Figure 9: full update w/o reorder, sparse w/o reorder,
# sparse with reorder.
PAPER_KB = {"mbv2-w0.35": (2939, 335, 141), "proxyless-w0.3": (2745, 326, 135),
            "mcunet-5fps": (3650, 560, 173)}
KB = 1024


def _runs(model: str):
    """(label, scheme, reorder, classes, the paper's figure for it)."""
    full, sparse, reordered = PAPER_KB[model]
    yield "full, w/o reorder", "full", False, None, full
    yield "sparse, w/o reorder", f"paper-{model}", False, None, sparse
    yield "sparse + reorder", f"paper-{model}", True, None, reordered
    yield "sparse + reorder, 10 classes", f"paper-{model}", True, 10, reordered
    yield "auto, 10 classes", "auto", True, 10, reordered
    if model == "mcunet-5fps":
        yield "sparse_49kb, 10 classes", "sparse_49kb", True, 10, None


def _kb(n: int) -> str:
    return f"{n / KB:.1f}"


def _row(g, model: str, label: str, scheme: str, reorder: bool, classes: int | None, paper: int | None) -> str:
    s = training_engine(g, load_scheme(scheme), Options(num_classes=classes, reorder=reorder)).summary
    rest = s["other_static_bytes"] + s["stack_bytes"]
    vs = "-" if paper is None else f"{s['peak_sram_bytes'] / KB / paper:.2f}"
    budget = "" if s["peak_sram_bytes"] <= 256 * KB else " --budget 8MB"   # else plan exits 1 after printing
    cmd = (f"`tte plan {model}.pkl --update {scheme}{'' if reorder else ' --no-reorder'}"
           f"{f' --num-classes {classes}' if classes else ''}{budget} --json`")
    label = f"{label} ({s['scheme'].removeprefix('auto: ')})" if scheme == "auto" else label
    return (f"| {model} | {label} | {_kb(s['arena_bytes'])} | {_kb(s['trainable_bytes'])} | {_kb(rest)} | "
            f"{_kb(s['peak_sram_bytes'])} | {'-' if paper is None else paper} | {vs} | {cmd} |")


FAMILY_SIZE = 96


def family_lines() -> list[str]:
    """The example families (examples/families.py) at 96 px, built in a temporary folder."""
    from examples.families import FAMILIES, build

    lines = ["### Other families", "",
             f"The SqueezeNet-, ShuffleNetV2- and MobileNetV3-like models of `examples/families.py` at "
             f"{FAMILY_SIZE}x{FAMILY_SIZE}, seeded weights, a new 4-class head; `python -m examples.families` "
             "builds them into examples/models.  `auto` is the default scheme: the paper's recipe by position, "
             "the largest candidate under `--budget 256KB` (docs/sparse_update.md).", "",
             "| model | scheme | arena KB | trained KB | static + stack KB | total KB | command |",
             "|---|---|---:|---:|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as folder:
        for family, paths in build(folder, FAMILY_SIZE, FAMILIES).items():
            g = load_model(paths["int8"])
            for scheme in ("last-layer", "auto", "full"):
                s = training_engine(g, load_scheme(scheme), Options(num_classes=4)).summary
                budget = "" if s["peak_sram_bytes"] <= 256 * KB else " --budget 8MB"
                lines.append(f"| {family} | {s['scheme']} | {_kb(s['arena_bytes'])} | {_kb(s['trainable_bytes'])} | "
                             f"{_kb(s['other_static_bytes'] + s['stack_bytes'])} | {_kb(s['peak_sram_bytes'])} | "
                             f"`tte plan examples/models/{family}-{FAMILY_SIZE}-int8.onnx --update {scheme} "
                             f"--num-classes 4{budget} --json` |")
    return lines + [""]


def memory_section() -> str:
    lines = ["## Memory: the SRAM of one training step, as compiled", "",
             "Regenerate with `python -m benchmarks.memory` (from the repository root).  Every figure is the "
             "memory.json of the engine `tte compile` writes for the command's arguments (`tte plan --json` "
             "prints the same file): input 1x3x128x128, batch 1, trained weights int8 and biases int32 "
             "(the default `--storage int8`), the model's 1000-class head unless stated.  KB = 1024 B.", "",
             "- arena: activations, saved state, gradients, kernel scratch, input and label, in the one "
             "static arena;",
             "- trained: the trained parameters as the C stores them in SRAM (a partly trained 1x1 conv "
             "keeps only its trained input channels; the rest stays in Flash);",
             "- static + stack: the engine's other static state (the SGD parameters) and its worst-case "
             "stack on the Cortex-M7;",
             "- total: all three, memory.json `peak_sram_bytes`, what `--budget` gates.", "",
             "`vs paper` = our total / the paper's figure (Figure 9), which counts the training memory of "
             "activations and gradients: ours counts everything in SRAM (the trained parameters, the "
             "static state and the stack too).", "",
             "| model | scheme | arena KB | trained KB | static + stack KB | total KB | paper KB | vs paper | command |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    notes = []
    for model in PAPER_KB:
        path = MODELS / f"{model}.pkl"
        if not path.is_file():
            notes.append(f"- {model}: skipped, {path} is absent.")
            continue
        g = load_model(str(path))
        lines += [_row(g, model, *run) for run in _runs(model)]
    lines += ["", *notes, *([""] if notes else []), *family_lines(), *ACCOUNTING]
    return "\n".join(lines) + "\n"


ACCOUNTING = [
    "### What the schedule does",
    "",
    "- **Trained parameters.**  With a 1000-class head the classifier alone is 112-160 KB of int8 "
    "weights, updated in place in SRAM; the 10-class rows show a new small head (`--num-classes 10`), "
    "the on-device setting.",
    "- **Masks and kept channels.**  The ReLU/clamp backward reads a packed 1-bit mask of each trained "
    "layer's output; a partial-channel weight update keeps only the trained input channels of its "
    "saved input.",
    "- **Fused update.**  With reorder, each conv and fully connected weight gradient is made and "
    "applied one block of output channels at a time, the block as large as the arena has room for at "
    "that step; without reorder every gradient is held, float32, until all updates run (for the "
    "1000-class heads the classifier's gradient alone is 437-625 KB), which is why our 'w/o reorder' "
    "rows exceed the paper's.",
    "- **Frozen prefix.**  Expand+depthwise pairs that backward never reads run fused, two expanded "
    "channels at a time; depthwise convs whose input dies run in place; the first conv writes its "
    "64 KB output over the rows of its 48 KB input it has finished with (66.7 KB for both).  The "
    "floor is then the first block's 1x1 projection (its 64 KB input and 32 KB output), about 97 KB: "
    "lowering it needs a pixel-ordered in-place pointwise kernel and a planner that places two "
    "buffers at a fixed distance, neither done yet.",
]


def main() -> None:
    sys.stdout.write(write_section("memory", memory_section()))


if __name__ == "__main__":
    main()
