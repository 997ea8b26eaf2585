"""Run a firmware on QEMU's Cortex-M7 (mps2-an500) and count its instructions.

`run_qemu()` starts `qemu-system-arm -M mps2-an500 -cpu cortex-m7` with semihosting on and the
insncount plugin loaded.  Semihosting file I/O uses paths relative to `workdir` (QEMU runs
there), so a test writes the inputs into `workdir`, runs the guest and reads the outputs back.
Inputs go through files only: reading the semihosting console (":tt") returned no bytes from
QEMU 7.2's stdin when tried, so stdin is /dev/null.
The guest's semihosting console output is `QemuRun.stdout`; its `main()` return value is
`QemuRun.exit_code`.  A guest that does not exit within `timeout_s` is killed (that one
process, by its pid) and `QemuTimeoutError` is raised.

Instruction counts: the guest places `BENCH_MARK(n)` (tte_bench.h; `dbg #n`, n = 0..15); the
plugin records (n, instructions retired before that marker) each time one executes, and
`segment_counts()` turns the list into named segments.  These are retired *instructions*,
not cycles: QEMU models no pipeline, caches or flash wait states.  Given the firmware's
function list (`firmware.write_function_list`), the plugin also counts per function, segment by
segment (`QemuRun.function_counts`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import QemuTimeoutError, TargetError
from .firmware import HARNESS_DIR

PLUGIN_SOURCE = HARNESS_DIR / "insncount.c"
QEMU = "qemu-system-arm"
QEMU_ARGS = ("-M", "mps2-an500", "-cpu", "cortex-m7", "-display", "none", "-serial", "none",
             "-monitor", "none", "-chardev", "stdio,id=tte_sh",
             "-semihosting-config", "enable=on,target=native,chardev=tte_sh")


@dataclass(frozen=True)
class QemuRun:
    """One guest run: exit status, console text, markers [(n, retired before it)], total retired."""

    exit_code: int
    stdout: str
    marks: list[tuple[int, int]] = field(default_factory=list)
    total: int | None = None
    stderr: str = ""
    # with a function list: per segment, {function: instructions}; entry k is what ran before
    # marks[k] (since the previous mark), the last one what ran after the last mark
    function_counts: list[dict[str, int]] = field(default_factory=list)

    def segments(self, names: Mapping[int, str] | None = None) -> dict[str, int]:
        return segment_counts(self.marks, names)


def build_plugin(out_dir: str | Path) -> Path:
    """Compile m7/insncount.c with the host gcc into `out_dir`; reuse it while the source is unchanged.

    The file name carries a hash of the source, and the library is renamed into place, so
    parallel callers sharing `out_dir` never load a half-written file.
    """
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise TargetError("no host C compiler (gcc or cc) on PATH to build the QEMU plugin")
    source = PLUGIN_SOURCE.read_bytes()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lib = out / f"libinsncount-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if lib.exists():
        return lib
    partial = out / f".{lib.name}.{os.getpid()}.tmp"
    proc = subprocess.run([gcc, "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-o", str(partial),
                           str(PLUGIN_SOURCE)], capture_output=True, text=True)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise TargetError(f"building the QEMU plugin failed: {proc.stderr.strip().splitlines()[0]}")
    os.replace(partial, lib)
    return lib


def run_qemu(elf: str | Path, *, workdir: str | Path, timeout_s: float = 120, plugin: str | Path | None = None,
             count: bool = True, exact: bool = False, functions: str | Path | None = None) -> QemuRun:
    """Run `elf` on QEMU mps2-an500 (Cortex-M7) in `workdir` and return what it did.

    plugin: a built insncount library; by default one is built (once) next to the ELF.
    count: False runs without the plugin (marks empty, total None).
    exact: count per instruction (slower) instead of per translation block; see insncount.c.
    functions: a function list (`firmware.write_function_list`) to count per function as well;
    not with exact.
    Raises QemuTimeoutError after timeout_s, TargetError when QEMU itself reports an error.
    """
    if functions is not None and (exact or not count):
        raise TargetError("per-function counts need the plugin in its block mode (count=True, exact=False)")
    qemu = shutil.which(QEMU)
    if qemu is None:
        raise TargetError(f"{QEMU} not found on PATH (Debian/Ubuntu: apt-get install qemu-system-arm)")
    elf = Path(elf).resolve()
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tte-qemu-") as tmp:
        counts_file = Path(tmp) / "insncount.txt"
        cmd = [qemu, *QEMU_ARGS]
        if count:
            lib = Path(plugin) if plugin is not None else build_plugin(elf.parent)
            funcs = f",funcs={Path(functions).resolve()}" if functions is not None else ""
            cmd += ["-plugin", f"{Path(lib).resolve()},out={counts_file},mode={'insn' if exact else 'tb'}{funcs}"]
        cmd += ["-kernel", str(elf)]
        proc = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise QemuTimeoutError(f"QEMU run of {elf.name} did not finish within {timeout_s:g} s; "
                                   f"killed it (pid {proc.pid})", pid=proc.pid) from None
        stderr = err.decode("utf-8", "replace")
        qemu_errors = [ln for ln in stderr.splitlines() if ln.startswith(f"{QEMU}:")]
        if qemu_errors:
            raise TargetError(f"QEMU failed on {elf.name}: {qemu_errors[0]}")
        marks, total, per_function = _parse_counts(counts_file.read_text() if counts_file.exists() else "")
    return QemuRun(exit_code=proc.returncode, stdout=out.decode("utf-8", "replace"), marks=marks,
                   total=total, stderr=stderr, function_counts=per_function if functions is not None else [])


def segment_counts(marks: Sequence[tuple[int, int]], names: Mapping[int, str] | None = None) -> dict[str, int]:
    """Instructions between consecutive markers, summed per segment, in first-seen order.

    The segment from marker a to the next marker b (whatever b is) counts the instructions from
    a's `dbg` up to, not including, b's.  It is called names[a] when a is in `names`, else
    "a->b".  A segment that runs several times (a training loop) sums its runs.  Example:
    marks [(1, 100), (2, 150), (1, 160), (2, 230)], names {1: "forward"} gives
    {"forward": 120, "2->1": 10}.
    """
    names = names or {}
    segments: dict[str, int] = {}
    for (a, start), (b, end) in zip(marks, marks[1:]):
        key = names.get(a, f"{a}->{b}")
        segments[key] = segments.get(key, 0) + end - start
    return segments


def _parse_counts(text: str) -> tuple[list[tuple[int, int]], int | None, list[dict[str, int]]]:
    """(marks, total, per-function counts of each segment) from the plugin's output."""
    marks, total, per_function, segment = [], None, [], {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "mark":
            marks.append((int(fields[1]), int(fields[2])))
            per_function.append(segment)
            segment = {}
        elif len(fields) == 3 and fields[0] == "func":
            segment[fields[1]] = segment.get(fields[1], 0) + int(fields[2])
        elif len(fields) == 2 and fields[0] == "total":
            total = int(fields[1])
    per_function.append(segment)
    return marks, total, per_function
