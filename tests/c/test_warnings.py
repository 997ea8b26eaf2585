"""runtime_c/ compiles clean under strict warnings and keeps to the STYLE rules for kernels.

Warnings: -std=c99 -pedantic -Wall -Wextra -Werror plus -Wdouble-promotion -Wconversion
(implicit narrowing and sign changes), -Wshadow, -Wstrict-prototypes,
-Wmissing-prototypes (every public function is declared in a header), -Wvla, -Wcast-qual,
-Wundef, at -O2 so that flow-dependent warnings fire too.
Text rules (comments stripped): no double; no float in the int8 forward path (the float32
training kernels, tte_<backward op>_*.c, and header text after a "TRAINING (float32)" banner
may use float); no heap, no printf, no mutable statics, no #if in the reference kernels, one
kernel per file named after the file.
With arm-none-eabi-gcc on PATH, each kernel also cross-compiles for the Cortex-M7 with the
same warnings and owns no .data or .bss.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tinyengine_compiler.ir.ops import BACKWARD_OPS

from . import build

STRICT = ["-std=c99", "-pedantic", "-O2", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion",
          "-Wconversion", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wvla",
          "-Wcast-qual", "-Wundef"]
HEADERS = sorted(build.INCLUDE.glob("**/*.h"))   # the API and include/internal
TRAINING_FILES = tuple(f"tte_{op.value.lower()}_" for op in BACKWARD_OPS)  # float32 kernels
TRAINING_BANNER = "TRAINING (float32)"
C_FILES = build.REF_SOURCES
# the cores several kernels share, compiled once (runtime_c/src/shared): held to the same rules
# as a kernel's file, but for the one-kernel-a-file layout
COMPILED = C_FILES + build.SHARED_SOURCES
ALL_FILES = HEADERS + COMPILED


def _forward_code(path) -> str:
    """The int8 forward part of a file, without comments: empty for a training kernel, the
    text before the comment holding the TRAINING banner for a header."""
    if path.suffix == ".c" and path.name.startswith(TRAINING_FILES):
        return ""
    text = path.read_text()
    cut = text.find(TRAINING_BANNER)
    return _strip(text if cut < 0 else text[: text.rfind("/*", 0, cut)])


def _code(path) -> str:
    """The file's text without comments or string literals."""
    return _strip(path.read_text())


def _strip(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def _compile(args, tmp_path):
    if build.CC is None:
        pytest.skip("no C compiler (cc/gcc) on PATH")
    proc = subprocess.run([build.CC, *STRICT, f"-I{build.INCLUDE}", *args], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("src", COMPILED, ids=lambda p: p.name)
def test_kernel_compiles_with_strict_warnings(src, tmp_path):
    _compile(["-c", str(src), "-o", str(tmp_path / "k.o")], tmp_path)


@pytest.mark.parametrize("header", HEADERS, ids=lambda p: p.name)
def test_header_is_self_contained(header, tmp_path):
    tu = tmp_path / "tu.c"
    name = header.relative_to(build.INCLUDE).as_posix()   # "tte_types.h", "internal/tte_checks.h"
    tu.write_text(f'#include "{name}"\n#include "{name}"\ntypedef int tte_unused_t;\n')
    _compile(["-c", str(tu), "-o", str(tmp_path / "h.o")], tmp_path)


def test_runtime_exists():
    assert C_FILES and HEADERS and build.SHARED_SOURCES


@pytest.mark.parametrize("src", ALL_FILES, ids=lambda p: p.name)
def test_no_float_heap_io_or_mutable_statics(src):
    code = _code(src)
    for word in ("double", "malloc", "calloc", "realloc", "free", "printf", "fprintf",
                 "puts", "stdio"):
        assert not re.search(rf"\b{word}\b", code), f"{src.name} uses {word}"
    assert not re.search(r"\bfloat\b", _forward_code(src)), f"{src.name} uses float in the int8 path"
    for line in code.splitlines():
        s = line.strip()
        if s.startswith("static") and "(" not in s:
            assert s.startswith("static const") or s.startswith("static inline"), f"{src.name}: {s}"


@pytest.mark.parametrize("src", C_FILES, ids=lambda p: p.name)
def test_one_documented_kernel_per_file(src):
    text = src.read_text()
    code = _code(src)
    head = text[: text.index("*/")]
    assert f"Title:       {src.name}" in head and "Description:" in head and "Layout:" in head
    assert "Quantization" in head
    assert not re.search(r"^\s*#\s*(if|ifdef|ifndef)\b", code, re.M), "no #if in reference kernels"
    public = re.findall(r"^(?:tte_status|int32_t)\s+(tte_\w+)\s*\(", code, re.M) + \
        [f"{name}_scratch_bytes" for name in re.findall(r"^TTE_NO_SCRATCH\((tte_\w+)\)", code, re.M)]
    kernel = src.stem
    assert sorted(public) == sorted([kernel, f"{kernel}_scratch_bytes"])
    header = (build.INCLUDE / "tte_kernels.h").read_text()
    for name in public:
        assert re.search(rf"\b{name}\s*\(", header), f"{name} is not declared in tte_kernels.h"
    # inputs are const: every pointer parameter but the output
    sig = code[code.index(f"tte_status {kernel}("): code.index("{", code.index(f"tte_status {kernel}("))]
    params = [p.strip() for p in sig[sig.index("(") + 1: sig.rindex(")")].split(",")]
    for p in params:
        if "*" in p and not p.startswith("const") and not p.endswith(("output", "_inout")):
            pytest.fail(f"{kernel}: non-const pointer parameter {p!r}")


@pytest.mark.parametrize("src", COMPILED, ids=lambda p: p.name)
def test_cortex_m7_build_has_no_data_or_bss(src, tmp_path):
    """Cross-compile for the STM32F746's core; a kernel owns no RAM (no statics, no tables)."""
    arm_cc, arm_size = shutil.which("arm-none-eabi-gcc"), shutil.which("arm-none-eabi-size")
    if arm_cc is None or arm_size is None:
        pytest.skip("arm-none-eabi-gcc / arm-none-eabi-size not on PATH")
    obj = tmp_path / "k.o"
    cmd = [arm_cc, "-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16", *STRICT,
           f"-I{build.INCLUDE}", "-c", str(src), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    sizes = subprocess.run([arm_size, "-B", str(obj)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(v) for v in sizes.splitlines()[1].split()[:3])
    assert text > 0 and data == 0 and bss == 0, sizes
