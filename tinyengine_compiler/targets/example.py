"""`tte example-firmware`: write the minimal STM32F746 firmware folder a user starts from.

Takes a folder that does not exist (or is empty); guarantees that afterwards it holds, or on
any failure that it still does not hold, examples/stm32f746 (README.md, main.c, Makefile,
CMakeLists.txt, arm-none-eabi.cmake) and, in harness/, the bare-metal harness that its builds
link for QEMU (startup.c, tte_semihost.h, tte_bench.h, the linker scripts).  It is the same
folder from a checkout and from an installed wheel, so the README needs no source tree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import ConfigError
from ..folders import replace_folder
from ..resources import example_firmware_dir, harness_dir

# insncount.c is the QEMU plugin's source, built for the host by `tte bench-m7`: no firmware file.
HARNESS_FILES = ("startup.c", "tte_semihost.h", "tte_bench.h", "stm32f746_qemu.ld", "stm32f746.ld",
                 "stm32f746_sections.ld")


def write_example_firmware(out_dir: str | Path) -> list[str]:
    """Write the example firmware into `out_dir`; returns the files written, relative to it."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} already exists and is not an empty folder; choose a new one, "
                          "so that no edited file is overwritten")
    example = example_firmware_dir()
    names = sorted(p.name for p in example.iterdir() if p.is_file())
    written = names + [f"harness/{name}" for name in HARNESS_FILES]

    def fill(folder: Path) -> None:
        for name in names:
            shutil.copyfile(example / name, folder / name)
        (folder / "harness").mkdir()
        for name in HARNESS_FILES:
            shutil.copyfile(harness_dir() / name, folder / "harness" / name)

    try:
        replace_folder(out, fill)
    except OSError as e:
        raise ConfigError(f"cannot write {out}: {e.strerror or type(e).__name__}") from None
    return written
