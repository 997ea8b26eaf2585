"""Build step that pyproject.toml cannot express: ship the repo-level data folders in the wheel.

`templates/` and `runtime_c/` live at the repo root, beside the package, because they are
edited and tested as C and Jinja, not as Python.  A wheel copies them to
`tinyengine_compiler/_data/`, where `tinyengine_compiler.resources` looks first.  Editable
installs skip the copy: they read the source tree directly.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA_FOLDERS = ("templates", "runtime_c", "examples/stm32f746")   # the last: the bench-m7 firmware
BUILD_JUNK = shutil.ignore_patterns("__pycache__", "*.o", "*.so", "*.a", "*.elf", "build")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for folder in DATA_FOLDERS:
            target = Path(self.build_lib) / "tinyengine_compiler" / "_data" / folder
            shutil.copytree(ROOT / folder, target, dirs_exist_ok=True, ignore=BUILD_JUNK)


setup(cmdclass={"build_py": BuildPyWithData})
