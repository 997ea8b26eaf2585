"""Compile runtime_c/ with the host gcc for the C tests.

`build_library()` compiles every `runtime_c/src/ref/*.c` and the cores they share
(`runtime_c/src/shared/*.c`), plus the test-only shims beside
this file) into one shared library.  With `sanitize=True` it adds AddressSanitizer and
UBSan, which only load into a Python process started with the sanitizer runtime in
LD_PRELOAD; `sanitizer_env()` gives that environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime_c"
INCLUDE = RUNTIME / "include"
REF_SOURCES = sorted((RUNTIME / "src" / "ref").glob("*.c"))
SHARED_SOURCES = sorted((RUNTIME / "src" / "shared").glob("*.c"))
SHIMS = sorted(Path(__file__).resolve().parent.glob("shim_*.c"))

CC = shutil.which("cc") or shutil.which("gcc")
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion"]
# float32 training kernels are bit-exact with the numpy reference only without FMA contraction
# and fast-math (docs/numerics.md, "Training numerics")
FLOAT = ["-ffp-contract=off", "-fno-fast-math"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def build_library(out_dir: Path, *, sanitize: bool = False, opt: str = "-O2") -> Path:
    """Compile the reference kernels and the test shims into `out_dir/libtte*.so`."""
    name = "libtte_asan.so" if sanitize else "libtte.so"
    out = out_dir / name
    flags = WARNINGS + FLOAT + [opt, "-fPIC", "-shared", f"-I{INCLUDE}"] + (SANITIZE if sanitize else [])
    cmd = [CC, *flags, *map(str, REF_SOURCES + SHARED_SOURCES + SHIMS), "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def sanitizer_env() -> dict[str, str] | None:
    """Environment that lets a Python child load an ASan/UBSan library, or None if unsupported."""
    if CC is None:
        return None
    libasan = subprocess.run([CC, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    if not os.path.isabs(libasan) or not os.path.exists(libasan):
        return None
    env = dict(os.environ)
    env.update({
        "LD_PRELOAD": libasan,
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:halt_on_error=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
        "PYTHONMALLOC": "malloc",  # every Python/numpy buffer gets ASan red zones
        "TTE_C_SANITIZE": "1",
    })
    return env
