"""Train a `tte compile` output folder for K steps on the emulated STM32F746 and measure it.

`bench_m7(out_dir, inputs, labels, lr)` links the folder with examples/stm32f746/main.c and the
harness (startup, linker script with the F746's 1 MB / 320 KB and a stack reserve), checks the
image has no double-precision code, runs it on QEMU (with a timeout) and returns the sizes, the
instruction counts, the losses and the trained parameters (see `bench_m7`).

Instruction counts come from markers (main.c's header lists them).  tte_model.c is compiled
with TTE_PHASE_MARK(n) defined as a marker, so the generated step reports where its forward
(4), backward (5) and update (6) phases start and where the last one ends (7).  Because reorder
puts each update right after its gradient, the phases alternate; each is summed over its runs.
The step's prologue (copying the input and label, setting the rate) is counted as forward and
its epilogue (reading the loss back) as update, so forward + backward + update is the whole step.

RAM: the engine's static state is its memory.json `data_bss_bytes` (TTE_RAM_BYTES); the
harness (main.c, startup.c, semihosting, newlib) adds HARNESS_RAM_BYTES of .data + .bss
whatever the model, since it holds no buffer of its own.  The stack is measured: startup.c
paints the free RAM before main() and reports the high-water mark (`stack_used_bytes`); a
run whose stack passes the reserve fails with one line (`StackOverflowError`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ..cbuild import CMSIS_NN_DEFINE, cmsis_nn_sources, is_cmsis_nn_checkout
from ..resources import example_firmware_dir
from .errors import DoublePrecisionError, StackOverflowError, TargetError
from .firmware import assert_single_precision, build_firmware, write_function_list
from .qemu import run_qemu

MARK_INFER, MARK_INFER_END, MARK_STEP, MARK_STEP_END = 1, 2, 8, 9
EXIT_STACK_OVERFLOW = 128 + 5   # startup.c TTE_EXIT_STACK_OVERFLOW
# .data + .bss of the harness beside the engine's TTE_RAM_BYTES: it holds no buffer and links
# no libc state, so none; tests/qemu/test_train_m7.py checks it on every engine it runs.
HARNESS_RAM_BYTES = 0
# The frames above the engine's entry points: Reset_Handler (24 B) and main (at most 80 B, -O3)
# over the optimization levels (arm-none-eabi-gcc -fstack-usage; tests/qemu/test_stack.py checks
# it; examples/stm32f746's Makefile and CMakeLists.txt add the same figure).
HARNESS_STACK_BYTES = 104
PHASES = {4: "forward", 5: "backward", 6: "update", 7: "update"}   # 7: after the last phase
PHASE_MARK_DEFINE = 'TTE_PHASE_MARK(n)=__asm__ volatile("dbg #" #n ::: "memory")'
# The optimization level of `tte bench-m7` and docs/BENCHMARKS.md, and the one the QEMU tests
# prove bit-exact for every scheme: targets/firmware.py adds -fno-fast-math -ffp-contract=off, so
# the float32 backward is never reassociated, while the int8 kernels (no float) get all of -Ofast.
BENCH_OPT = "-Ofast"


def firmware_main() -> Path:
    """examples/stm32f746/main.c (the packaged copy in an installed wheel)."""
    return example_firmware_dir() / "main.c"


def bench_m7(out_dir: str | Path, inputs: np.ndarray, labels, lr: float, *, opt: str = BENCH_OPT,
             build_dir: str | Path | None = None, timeout_s: float = 600, stack_bytes: int | None = None,
             plugin: str | Path | None = None, strict_precision: bool = True,
             cmsis_nn_root: str | Path | None = None) -> dict:
    """Build, size, run: one tte_infer and len(inputs) tte_train_steps of the engine in `out_dir`.

    inputs: (K, ...) int8, each TTE_INPUT_BYTES; labels: K ints; lr: the SGD rate (float32).
    Returns {"text_bytes", "data_bytes", "bss_bytes", "stack_bytes" (the reserve), "flash_bytes",
    "ram_bytes" (data + bss + reserve), "stack_used_bytes" (measured high-water mark),
    "stack_worst_case_bytes" (memory.json's stack_bytes + HARNESS_STACK_BYTES),
    "device_ram_bytes" (data + bss + measured stack), "engine_ram_bytes" (memory.json
    data_bss_bytes), "harness_ram_bytes" (data + bss - engine_ram_bytes),
    "instr_infer", "instr_train_step", "instr_forward", "instr_backward", "instr_update" (ints:
    the first step's counts), "steps" (the same four counts per step), "instr_by_kernel"
    ({"infer": {function: instructions}, "train_step": ...}: the inference and the first step
    by function, most first; see `by_function`), "losses" (K float32),
    "logits" (int8, the inference before training), "trained" (bytes: the trained tensors, tte_trainable_tensor's, a checkpoint without its header),
    "double_precision" (see below)}.
    An engine compiled with --kernels cmsis_nn (memory.json "kernels") links the CMSIS-NN sources
    of `cmsis_nn_root` (default: $CMSIS_NN_ROOT) as its tte.mk does.
    stack_bytes is the stack reserve the link checks; by default the engine's worst case plus the
    harness's frames, so that a run whose stack passes its bound fails (StackOverflowError).
    The image is checked with assert_single_precision before it runs: strict_precision raises
    its DoublePrecisionError, otherwise its message is returned as "double_precision" (None when
    the image is single precision) and the run goes on.
    Raises FirmwareTooLargeError when the image does not fit, StackOverflowError when the stack
    passes the reserve, TargetError when the run fails otherwise.
    """
    out = Path(out_dir)
    memory = json.loads((out / "memory.json").read_text())
    if stack_bytes is None:   # reserve the worst case: a bound that is wrong then overflows, and fails
        stack_bytes = -(-(memory["stack_bytes"] + HARNESS_STACK_BYTES) // 8) * 8
    xs = np.ascontiguousarray(inputs, dtype=np.int8)
    ys = np.ascontiguousarray(labels, dtype=np.int32).reshape(-1)
    if len(xs) == 0 or len(xs) != len(ys):
        raise TargetError(f"bench_m7 needs K > 0 inputs and as many labels, got {len(xs)} and {len(ys)}")
    sources = [*sorted(out.glob("*.c")), *sorted((out / "runtime" / "src").glob("*.c")), firmware_main()]
    include_dirs, defines = [out, out / "runtime" / "include"], [PHASE_MARK_DEFINE]
    if memory.get("kernels") == "cmsis_nn":
        root = Path(cmsis_nn_root or os.environ.get("CMSIS_NN_ROOT", ""))
        if not is_cmsis_nn_checkout(root):
            raise TargetError(f"{out} calls CMSIS-NN (--kernels cmsis_nn): set CMSIS_NN_ROOT to a CMSIS-NN checkout")
        sources += cmsis_nn_sources(root)
        include_dirs.append(root / "Include")
        defines.append(CMSIS_NN_DEFINE[len("-D"):])
    with tempfile.TemporaryDirectory(prefix="tte-bench-m7-") as tmp:
        build = Path(build_dir) if build_dir is not None else Path(tmp) / "build"
        work = Path(tmp) / "io"
        fw = build_firmware(sources, include_dirs, build, opt=opt, defines=defines, stack_bytes=stack_bytes,
                            name="train")
        try:
            assert_single_precision(fw.elf)
            double_precision = None
        except DoublePrecisionError as e:
            if strict_precision:
                raise
            double_precision = str(e)
        work.mkdir()
        (work / "inputs.bin").write_bytes(xs.tobytes())
        (work / "labels.bin").write_bytes(ys.tobytes())
        (work / "lr.bin").write_bytes(np.float32(lr).tobytes())
        functions = write_function_list(fw.elf, Path(tmp) / "functions.txt")
        run = run_qemu(fw.elf, workdir=work, timeout_s=timeout_s, plugin=plugin, functions=functions)
        if run.exit_code == EXIT_STACK_OVERFLOW:
            console = " ".join(run.stdout.split())
            raise StackOverflowError(f"the firmware overflowed its stack on QEMU: "
                                     f"{console[console.find('stack overflow'):][:200]}")
        if run.exit_code != 0:
            console = " ".join(run.stdout.split())[-300:]
            raise TargetError(f"the firmware exited with {run.exit_code} on QEMU: {console or 'no output'}")
        losses = np.frombuffer((work / "losses.bin").read_bytes(), np.float32)
        logits = np.frombuffer((work / "logits.bin").read_bytes(), np.int8)
        trained = (work / "result.bin").read_bytes()
        stack_used = int(np.frombuffer((work / "stack.bin").read_bytes(), np.uint32)[0])
    steps = step_counts(run.marks)
    if len(losses) != len(xs) or len(steps) != len(xs):
        raise TargetError(f"the firmware ran {len(steps)} steps and wrote {len(losses)} losses for {len(xs)} inputs")
    infer = [end - start for (a, start), (b, end) in zip(run.marks, run.marks[1:])
             if a == MARK_INFER and b == MARK_INFER_END]
    engine_ram = memory["data_bss_bytes"]
    return {"text_bytes": fw.text_bytes, "data_bytes": fw.data_bytes, "bss_bytes": fw.bss_bytes,
            "stack_bytes": fw.stack_bytes, "flash_bytes": fw.flash_bytes, "ram_bytes": fw.ram_bytes,
            "stack_used_bytes": stack_used, "device_ram_bytes": fw.data_bytes + fw.bss_bytes + stack_used,
            "stack_worst_case_bytes": memory["stack_bytes"] + HARNESS_STACK_BYTES,
            "engine_ram_bytes": engine_ram, "harness_ram_bytes": fw.data_bytes + fw.bss_bytes - engine_ram,
            "double_precision": double_precision, "instr_infer": infer[0], **{f"instr_{k}": v for k, v in steps[0].items()},
            "steps": steps, "instr_by_kernel": by_function(run.marks, run.function_counts),
            "losses": losses.tolist(), "logits": logits, "trained": trained}


def by_function(marks, function_counts) -> dict[str, dict[str, int]]:
    """{"infer": ..., "train_step": ...}: {function: instructions} of the first inference (markers
    1 .. 2) and the first training step (8 .. 9), most first.

    The kernels' figures are exact.  The plugin charges a block whole when it starts, so the
    function that holds the markers (main, the generated step) may gain or lose the few
    instructions of a block at each marker: the sums differ from instr_infer / instr_train_step
    by at most a block per marker."""
    windows = {}
    for name, start, end in (("infer", MARK_INFER, MARK_INFER_END), ("train_step", MARK_STEP, MARK_STEP_END)):
        first = next(i for i, (n, _) in enumerate(marks) if n == start)
        last = next(i for i, (n, _) in enumerate(marks) if n == end and i > first)
        total: dict[str, int] = {}
        for segment in function_counts[first + 1:last + 1]:
            for function, count in segment.items():
                total[function] = total.get(function, 0) + count
        windows[name] = dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))
    return windows


def step_counts(marks) -> list[dict[str, int]]:
    """Per training step (markers 8 .. 9): {"train_step", "forward", "backward", "update"}.

    Inside a step the segment from a phase marker to the next marker belongs to that phase, and
    the prologue (8 to the first phase marker) to the forward phase.  A step without phase
    markers (tte_model.c built without TTE_PHASE_MARK) counts as forward only.
    """
    steps, current = [], None
    for (a, start), (_, end) in zip(marks, marks[1:]):
        if a == MARK_STEP:
            current = {"train_step": 0, "forward": 0, "backward": 0, "update": 0}
            steps.append(current)
        elif a == MARK_STEP_END or current is None:
            current = None
            continue
        current["train_step"] += end - start
        current[PHASES.get(a, "forward")] += end - start
    return steps
