"""Every data file the tool reads is found through `tinyengine_compiler.resources`.

An installed wheel has no repo around it, so a path computed from a module's `__file__`
elsewhere works from a checkout and fails for a user (tests/test_installed_package.py shows the
failure end to end; this test names the line).  setup.py and MANIFEST.in must ship every folder
that resources reads.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tinyengine_compiler import resources

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = REPO_ROOT / "tinyengine_compiler"


def test_no_module_but_resources_computes_paths_from_its_own_location():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "resources.py" or "_data" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "__file__" in line:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "find data files through tinyengine_compiler.resources:\n" + "\n".join(offenders)


def test_setup_and_manifest_ship_the_folders_resources_reads():
    tree = ast.parse((REPO_ROOT / "setup.py").read_text())
    shipped = next(ast.literal_eval(node.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                   and any(getattr(t, "id", None) == "DATA_FOLDERS" for t in node.targets))
    assert tuple(shipped) == resources.DATA_FOLDERS
    grafts = re.findall(r"^graft (\S+)$", (REPO_ROOT / "MANIFEST.in").read_text(), re.MULTILINE)
    assert set(grafts) == set(resources.DATA_FOLDERS)


def test_every_resource_exists():
    for folder in resources.DATA_FOLDERS:
        assert resources.data_dir(folder).is_dir()
    assert (resources.templates_dir() / "tte.cmake.j2").is_file()
    assert (resources.runtime_c_dir() / "include" / "tte_types.h").is_file()
    assert (resources.example_firmware_dir() / "main.c").is_file()
    assert (resources.harness_dir() / "startup.c").is_file()
    assert (resources.host_driver_dir() / "tte_host_main.c").is_file()
    assert resources.stack_table_path().is_file()
    with pytest.raises(ValueError, match="not a packaged data folder"):
        resources.data_dir("tests")


def test_version_names_the_compiler_and_the_runtime():
    from tinyengine_compiler import __version__

    header = (resources.runtime_c_dir() / "include" / "tte_types.h").read_text()
    runtime = re.search(r'#define TTE_RUNTIME_VERSION "(\d+\.\d+\.\d+)"', header).group(1)
    r = subprocess.run([sys.executable, "-m", "tinyengine_compiler.cli", "--version"], capture_output=True, text=True)
    assert r.returncode == 0
    assert r.stdout.strip() == f"tte {__version__} (tinyengine-compiler), C runtime {runtime}"
