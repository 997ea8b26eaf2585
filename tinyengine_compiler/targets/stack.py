"""Worst-case stack of C code on the Cortex-M7, from the compiler's own call graph.

`worst_case_stack(sources, ...)` compiles the sources with arm-none-eabi-gcc
`-fstack-usage -fcallgraph-info=su` and returns, for every function, the most stack a call of
it can use: its own frame plus the deepest chain of calls below it.  A call to a libc leaf
(memcpy, memset, memmove) counts LIBC_LEAF_BYTES; any other call outside the sources, an
indirect call, a dynamic frame or recursion is an error, since no bound would be honest.

`kernel_table()` does this for every portable runtime kernel at each optimization level the
firmware may use and keeps the largest: the table `codegen/stack_usage.json` that
`codegen/stack_usage.py` reads to report an engine's worst-case stack without an ARM compiler.
`cmsis_table(root)` does the same for the CMSIS-NN adapters, through the CMSIS-NN sources at
`root` that they call.  Regenerate after changing a kernel:

    python -m tinyengine_compiler.targets.stack        # rewrites codegen/stack_usage.json
    CMSIS_NN_ROOT=... python -m tinyengine_compiler.targets.stack   # and the cmsis_nn part

tests/qemu/test_stack.py checks the table against a fresh measurement, and the measured
(painted) stack of the QEMU runs against the figure memory.json reports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..cbuild import CMSIS_NN_DEFINE, cmsis_nn_sources
from ..resources import runtime_c_dir, stack_table_path
from .errors import TargetError
from .firmware import CC, CPU_FLAGS, _tool

OPT_LEVELS = ("-O2", "-Os", "-O3", "-Ofast")
# newlib-nano's memcpy / memset / memmove on the M7 push at most a few registers
LIBC_LEAF_BYTES = 32
LIBC_LEAVES = frozenset({"memcpy", "memset", "memmove"})
TABLE = stack_table_path()

_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
_BYTES = re.compile(r"\\n(\d+) bytes \((static|dynamic[^)]*)\)")


def worst_case_stack(sources: Sequence[str | Path], include_dirs: Sequence[str | Path], opt: str,
                     extra_flags: Sequence[str] = ()) -> dict[str, int]:
    """Function name -> worst-case stack bytes of a call to it (see the module docstring)."""
    cc = _tool(CC)
    with tempfile.TemporaryDirectory(prefix="tte-stack-") as tmp:
        for i, src in enumerate(sources):
            cmd = [cc, *CPU_FLAGS, opt, "-std=c99", "-ffp-contract=off", "-fstack-usage", "-fcallgraph-info=su",
                   *(f"-I{d}" for d in include_dirs), *extra_flags, "-c", str(src), "-o", f"{tmp}/{i}.o"]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
            if proc.returncode != 0:
                raise TargetError(f"{CC} failed on {src}: {proc.stderr.strip().splitlines()[0]}")
        frames, calls = _parse_call_graphs(sorted(Path(tmp).glob("*.ci")))
    return {name: _depth(name, frames, calls, ()) for name in frames if not _is_local(name)}


def _parse_call_graphs(files) -> tuple[dict[str, int], dict[str, set[str]]]:
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    for f in files:
        text = f.read_text()
        for title, label in _NODE.findall(text):
            m = _BYTES.search(label)
            if m is None:
                continue   # an external declaration
            if m.group(2) != "static":
                raise TargetError(f"{title}: a {m.group(2)} stack frame has no static bound")
            frames[title] = int(m.group(1))
        for src, dst in _EDGE.findall(text):
            calls.setdefault(src, set()).add(dst)
    return frames, calls


def _is_local(title: str) -> bool:
    return ":" in title   # a static function: "<file>:<name>"


def _depth(name: str, frames: dict[str, int], calls: dict[str, set[str]], chain: tuple[str, ...]) -> int:
    if name in chain:
        raise TargetError(f"recursion through {' -> '.join(chain + (name,))}: no static stack bound")
    if name not in frames:
        callee = name.split(":")[-1]
        if callee in LIBC_LEAVES:
            return LIBC_LEAF_BYTES
        raise TargetError(f"{chain[-1] if chain else '?'} calls {callee}, whose stack is unknown")
    below = [_depth(c, frames, calls, chain + (name,)) for c in calls.get(name, ())]
    return frames[name] + max(below, default=0)


def _table(sources, include_dirs, flags: Sequence[str], keep, opt_levels) -> dict[str, int]:
    table: dict[str, int] = {}
    for opt in opt_levels:
        for name, n in worst_case_stack(sources, include_dirs, opt, flags).items():
            if keep(name):
                table[name] = max(table.get(name, 0), n)
    return dict(sorted(table.items()))


def kernel_table(opt_levels: Sequence[str] = OPT_LEVELS) -> dict[str, int]:
    """Portable kernel symbol -> its worst-case stack, the largest over `opt_levels`; through the
    shared cores (runtime_c/src/shared) the kernels call."""
    runtime = runtime_c_dir()
    kernels = sorted((runtime / "src" / "ref").glob("*.c"))
    names = {p.stem for p in kernels}
    return _table([*kernels, *sorted((runtime / "src" / "shared").glob("*.c"))], [runtime / "include"], (),
                  lambda n: n in names, opt_levels)


def cmsis_table(cmsis_nn_root: str | Path, opt_levels: Sequence[str] = OPT_LEVELS) -> dict[str, int]:
    """CMSIS-NN adapter symbol -> its worst-case stack through the CMSIS-NN functions it calls
    (the integer sources tte.mk builds, with its flags)."""
    runtime, root = runtime_c_dir(), Path(cmsis_nn_root)
    adapters = sorted((runtime / "src" / "cmsis").glob("*.c"))
    cmsis = cmsis_nn_sources(root)
    names = {p.stem for p in adapters}
    return _table([*adapters, *cmsis], [runtime / "include", runtime / "src" / "cmsis", root / "Include"],
                  (CMSIS_NN_DEFINE,), lambda n: n in names, opt_levels)


def main() -> None:
    old = json.loads(TABLE.read_text()) if TABLE.is_file() else {}
    root = os.environ.get("CMSIS_NN_ROOT")
    table = {"comment": "Worst-case stack bytes of each kernel call on the Cortex-M7 (arm-none-eabi-gcc "
                        f"{' / '.join(OPT_LEVELS)}, the largest): python -m tinyengine_compiler.targets.stack; "
                        "cmsis_nn: the CMSIS-NN adapters with the CMSIS-NN they call (CMSIS_NN_ROOT set)",
             "opt_levels": list(OPT_LEVELS), "kernels": kernel_table(),
             "cmsis_nn": cmsis_table(root) if root else old.get("cmsis_nn", {})}
    TABLE.write_text(json.dumps(table, indent=1) + "\n")
    sys.stdout.write(f"wrote {TABLE} ({len(table['kernels'])} portable kernels, "
                     f"{len(table['cmsis_nn'])} CMSIS-NN adapters)\n")


if __name__ == "__main__":
    main()
