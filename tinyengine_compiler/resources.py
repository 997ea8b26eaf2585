"""Where every non-Python file the tool reads is, installed or not: the one place that knows.

Two kinds of files:
- package data, inside the package folder in a checkout and in a wheel alike: the M7 firmware
  harness (`targets/m7/`), the host test driver (`targets/host/`) and the kernels' stack table
  (`codegen/stack_usage.json`);
- repo-level folders, `templates/`, `runtime_c/` and `examples/stm32f746/`, which are edited and
  tested as C and Jinja beside the package.  In a source checkout (and an editable install)
  they are read where they are; a wheel carries copies under `tinyengine_compiler/_data/`
  (setup.py's build step puts them there, MANIFEST.in puts them in the sdist).  The packaged copy
  wins when present, so an installed tool never reads a stray checkout.

Nothing else in the package computes a path from `__file__`; tests/test_resources.py checks it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .errors import TteError

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_DATA_DIR = PACKAGE_DIR / "_data"
SOURCE_ROOT = PACKAGE_DIR.parent
# The repo-level folders a wheel carries; setup.py's DATA_FOLDERS must list the same.
DATA_FOLDERS = ("templates", "runtime_c", "examples/stm32f746")


def data_dir(folder: str) -> Path:
    """The installed copy of repo folder `folder` (one of DATA_FOLDERS) if there is one, else the source tree's."""
    if folder not in DATA_FOLDERS:
        raise ValueError(f"{folder!r} is not a packaged data folder ({', '.join(DATA_FOLDERS)})")
    for candidate in (PACKAGED_DATA_DIR / folder, SOURCE_ROOT / folder):
        if candidate.is_dir():
            return candidate
    raise TteError(f"the {folder}/ folder is missing from the installation ({PACKAGE_DIR}); reinstall the package")


def templates_dir() -> Path:
    """The Jinja templates of the generated C, build fragments and reports."""
    return data_dir("templates")


def runtime_c_dir() -> Path:
    """The hand-written C runtime: include/ and src/."""
    return data_dir("runtime_c")


def example_firmware_dir() -> Path:
    """examples/stm32f746: the firmware `tte bench-m7` links (main.c), its Make and CMake builds."""
    return data_dir("examples/stm32f746")


def harness_dir() -> Path:
    """The bare-metal M7 harness: startup.c, semihosting, markers, linker scripts, the QEMU plugin."""
    return PACKAGE_DIR / "targets" / "m7"


def host_driver_dir() -> Path:
    """The host-side driver that `tte simulate` and the tests link with a compiled folder."""
    return PACKAGE_DIR / "targets" / "host"


def stack_table_path() -> Path:
    """codegen/stack_usage.json: each runtime kernel's worst-case stack (targets/stack.py writes it)."""
    return PACKAGE_DIR / "codegen" / "stack_usage.json"


@lru_cache(maxsize=1)
def runtime_version() -> str:
    """The C runtime's version: TTE_RUNTIME_VERSION in runtime_c/include/tte_types.h."""
    header = runtime_c_dir() / "include" / "tte_types.h"
    found = re.search(r'^#define TTE_RUNTIME_VERSION "([^"]+)"', header.read_text(), re.MULTILINE)
    if found is None:
        raise TteError(f"{header} defines no TTE_RUNTIME_VERSION; reinstall the package")
    return found.group(1)
