"""Where the repo-level `templates/` and `runtime_c/` folders are, installed or not.

In a source checkout (and an editable install) they sit next to the package folder.  A wheel
built by `pip install .` carries copies inside the package, under `tinyengine_compiler/_data/`
(setup.py's build step puts them there).  The packaged copy wins when present, so an installed
tool never reads a stray checkout.
"""

from __future__ import annotations

from pathlib import Path

from .errors import TteError

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_DATA_DIR = PACKAGE_DIR / "_data"
SOURCE_ROOT = PACKAGE_DIR.parent
DATA_FOLDERS = ("templates", "runtime_c")


def data_dir(folder: str) -> Path:
    """The installed copy of repo folder `folder` if there is one, else the source tree's."""
    for candidate in (PACKAGED_DATA_DIR / folder, SOURCE_ROOT / folder):
        if candidate.is_dir():
            return candidate
    raise TteError(f"the {folder}/ folder is missing from the installation ({PACKAGE_DIR}); reinstall the package")


def templates_dir() -> Path:
    """The Jinja templates of the generated C (and reports)."""
    return data_dir("templates")


def runtime_c_dir() -> Path:
    """The hand-written C runtime: include/ and src/."""
    return data_dir("runtime_c")
