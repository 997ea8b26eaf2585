"""Build a bare-metal Cortex-M7 (STM32F746) firmware image with arm-none-eabi-gcc.

`build_firmware()` compiles and links C sources together with the harness in `m7/`
(startup.c, tte_semihost.h, tte_bench.h, the linker scripts).  The linker scripts give the
STM32F746's limits, 1 MB of flash and 320 KB of SRAM, and reserve the stack after .bss, so a
firmware whose static data plus stack do not fit fails *at link time* with a one-line
`FirmwareTooLargeError`.

Size figures (bytes, from `arm-none-eabi-size`):
    text_bytes   code, constants, vectors: everything read-only that lives in flash
    data_bytes   initialised variables: stored in flash, copied to RAM at reset
    bss_bytes    zero-initialised variables (RAM), *without* the stack reserve
    stack_bytes  the stack reserve (`stack_bytes=` argument, the `_Min_Stack_Size` symbol)
    flash_bytes  = text_bytes + data_bytes
    ram_bytes    = data_bytes + bss_bytes + stack_bytes   (no heap: nothing calls malloc)

`assert_single_precision()` rejects an image containing double-precision arithmetic, in
hardware (`.f64` VFP instructions) or in software (libgcc's soft-double helpers, which is what
`double` compiles to with the STM32F746's single-precision FPU, -mfpu=fpv5-sp-d16).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..resources import harness_dir
from .errors import DoublePrecisionError, FirmwareTooLargeError, TargetError

HARNESS_DIR = harness_dir()
STARTUP_C = HARNESS_DIR / "startup.c"
LINKER_SCRIPTS = {"qemu": HARNESS_DIR / "stm32f746_qemu.ld", "stm32f746": HARNESS_DIR / "stm32f746.ld"}
REGION_BYTES = {"FLASH": 1024 * 1024, "RAM": 320 * 1024}

CC, SIZE, OBJDUMP, NM = "arm-none-eabi-gcc", "arm-none-eabi-size", "arm-none-eabi-objdump", "arm-none-eabi-nm"
CPU_FLAGS = ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16")
# -fno-fast-math after the optimization level: -Ofast's fast-math would let GCC reassociate
# the float32 backward, which must equal the reference bit for bit (docs/numerics.md)
C_FLAGS = ("-fno-fast-math", "-ffp-contract=off", "-std=c99", "-Wall", "-Wextra", "-Werror",
           "-ffunction-sections", "-fdata-sections")
LINK_FLAGS = ("-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections")

_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")
_SOFT_DOUBLE = re.compile(
    r"^__aeabi_(?:c?d[a-z0-9]+|[a-z]*2d)$"
    r"|^__(?:add|sub|mul|div|neg|eq|ne|lt|le|gt|ge|unord|cmp)df[23]$"
    r"|^__extendsfdf2$|^__truncdfsf2$|^__fix(?:uns)?df[sd]i$|^__float(?:un)?[sd]idf$")


@dataclass(frozen=True)
class Firmware:
    """A linked image and its size figures (bytes; see the module docstring)."""

    elf: Path
    map_file: Path
    text_bytes: int
    data_bytes: int
    bss_bytes: int
    stack_bytes: int

    @property
    def flash_bytes(self) -> int:
        return self.text_bytes + self.data_bytes

    @property
    def ram_bytes(self) -> int:
        return self.data_bytes + self.bss_bytes + self.stack_bytes


def build_firmware(sources: Sequence[str | Path], include_dirs: Sequence[str | Path], out_dir: str | Path, *,
                   opt: str = "-O2", defines: Sequence[str] = (), stack_bytes: int = 16384,
                   board: str = "qemu", name: str = "firmware",
                   extra_cflags: Sequence[str] = ()) -> Firmware:
    """Compile and link `sources` plus the harness startup into `out_dir/<name>.elf`.

    include_dirs: searched after `m7/` (which provides tte_semihost.h and tte_bench.h).
    defines: "NAME" or "NAME=VALUE", passed as -D.
    stack_bytes: the stack reserve checked at link time (a multiple of 8).
    board: "qemu" links flash at 0x0 (QEMU mps2-an500); "stm32f746" at 0x08000000 (the chip).
    extra_cflags: appended last, so they override the defaults (tests use -mfpu=fpv5-d16).
    Raises FirmwareTooLargeError when a memory region overflows, TargetError on any other failure.
    """
    if board not in LINKER_SCRIPTS:
        raise TargetError(f"unknown board '{board}' (known: {', '.join(sorted(LINKER_SCRIPTS))})")
    if stack_bytes < 0 or stack_bytes % 8:
        raise TargetError(f"stack_bytes must be a non-negative multiple of 8, got {stack_bytes}")
    cc = _tool(CC)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    elf, map_file = out / f"{name}.elf", out / f"{name}.map"
    cmd = [cc, *CPU_FLAGS, opt, *C_FLAGS,
           *(f"-I{d}" for d in [HARNESS_DIR, *include_dirs]), *(f"-D{d}" for d in defines), *extra_cflags,
           f"-T{LINKER_SCRIPTS[board]}", f"-L{HARNESS_DIR}", *LINK_FLAGS,
           f"-Wl,--defsym=_Min_Stack_Size={stack_bytes}", f"-Wl,-Map={map_file}",
           "-o", str(elf), *map(str, sources), str(STARTUP_C), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise _link_error(proc.stderr) or TargetError(f"{CC} failed: {_first_error(proc.stderr)}")
    text, data, bss = _berkeley_sizes(elf)
    reserve = _section_sizes(elf).get("._stack_reserve", 0)
    return Firmware(elf=elf, map_file=map_file, text_bytes=text, data_bytes=data,
                    bss_bytes=bss - reserve, stack_bytes=reserve)


def write_function_list(elf: str | Path, path: str | Path) -> Path:
    """Write `elf`'s functions as "<start hex> <size> <name>" lines (`nm -S`), for the QEMU
    plugin's per-function counts (qemu.run_qemu(functions=...)); returns `path`."""
    proc = subprocess.run([_tool(NM), "--defined-only", "-S", "-n", str(elf)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TargetError(f"{NM} failed on {elf}: {_first_error(proc.stderr)}")
    lines = [f"{start} {int(size, 16)} {name}\n" for start, size, kind, name in
             (line.split() for line in proc.stdout.splitlines() if len(line.split()) == 4) if kind in "Tt"]
    Path(path).write_text("".join(lines))
    return Path(path)


def assert_single_precision(elf: str | Path) -> None:
    """Raise DoublePrecisionError if `elf` contains double-precision float code.

    Looks at `arm-none-eabi-objdump -d` for `.f64` VFP instructions and for linked soft-double
    helpers (__aeabi_dmul, __aeabi_f2d, __muldf3, ...), naming the functions that use them.
    """
    proc = subprocess.run([_tool(OBJDUMP), "-d", str(elf)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TargetError(f"{OBJDUMP} failed on {elf}: {_first_error(proc.stderr)}")
    f64_users: dict[str, int] = {}
    helpers: list[str] = []
    callers: set[str] = set()
    function = "?"
    for line in proc.stdout.splitlines():
        header = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if header:
            function = header.group(1)
            if _SOFT_DOUBLE.match(function):
                helpers.append(function)
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        mnemonic = fields[2].strip()
        if ".f64" in mnemonic:
            f64_users[function] = f64_users.get(function, 0) + 1
        call = re.search(r"<([^>+]+)>", line)
        if mnemonic in ("bl", "b.w", "b", "blx") and call and _SOFT_DOUBLE.match(call.group(1)) \
                and not _SOFT_DOUBLE.match(function):
            callers.add(function)
    problems = []
    if f64_users:
        problems.append(f"{sum(f64_users.values())} .f64 instructions (in {_names(f64_users)})")
    if helpers:
        problems.append(f"soft-double helpers {_names(helpers)}"
                        + (f" called from {_names(sorted(callers))}" if callers else ""))
    if problems:
        raise DoublePrecisionError(f"{Path(elf).name} uses double precision, which the STM32F746 FPU "
                                   f"lacks: {'; '.join(problems)}")


def _names(items, limit: int = 4) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise TargetError(f"{name} not found on PATH (Debian/Ubuntu: apt-get install gcc-arm-none-eabi "
                          "libnewlib-arm-none-eabi)")
    return path


def _link_error(stderr: str) -> FirmwareTooLargeError | None:
    overflows = _OVERFLOW.findall(stderr)
    if not overflows:
        return None
    parts = [f"{region} overflowed by {int(n)} bytes ({REGION_BYTES.get(region, 0) // 1024} KB available)"
             for region, n in dict(overflows).items()]
    return FirmwareTooLargeError(f"firmware does not fit the STM32F746: {'; '.join(parts)}")


def _first_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if re.search(r": (?:fatal )?error: |undefined reference|ld: cannot ", ln):
            return ln
    return lines[0] if lines else "no message"


def _berkeley_sizes(elf: Path) -> tuple[int, int, int]:
    """(text, data, bss) as `size -B` counts them; bss includes every ALLOC-only section."""
    proc = subprocess.run([_tool(SIZE), "-B", "-d", str(elf)], capture_output=True, text=True, check=True)
    text, data, bss = proc.stdout.splitlines()[1].split()[:3]
    return int(text), int(data), int(bss)


def _section_sizes(elf: Path) -> dict[str, int]:
    proc = subprocess.run([_tool(SIZE), "-A", "-d", str(elf)], capture_output=True, text=True, check=True)
    sizes = {}
    for line in proc.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0].startswith(".") and fields[1].isdigit():
            sizes[fields[0]] = int(fields[1])
    return sizes
