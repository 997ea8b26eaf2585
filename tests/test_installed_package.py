"""The tool as a user installs it: the wheel and the sdist, each in a fresh virtualenv.

The package is built from a copy of the source files (`python -m build`: the sdist first, then
the wheel from the sdist, so the sdist must carry everything the wheel needs), then installed
into a virtualenv outside the repo and run from a working folder that holds no checkout.  The
virtualenv sees the test environment's site-packages for the dependencies (onnx, onnxruntime,
numpy, ...) but the tool itself must come from the venv (checked); that every third-party module
the package imports is a declared dependency is checked on its own.  The main job runs with the installed
`tte`; the folders `tte compile` and `tte example-firmware` write must equal, byte for byte, the
ones the checkout writes.
"""

from __future__ import annotations

import ast
import filecmp
import importlib.metadata
import os
import re
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image

from .sample_images import sample_images

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPILE_ARGS = ("--update", "sparse_49kb", "--num-classes", "10")


# Without git, what a copy leaves out: .gitignore's patterns, and .git itself.
UNTRACKED = (".git", ".venv", "__pycache__", "*.py[co]", "*.egg-info", "build", "dist", "_data", ".pytest_cache",
             ".deps-installed", ".benchmarks", "out", "*.o", "*.elf", "models")


def _copy_sources(dest: Path) -> None:
    """Copy the files a clean clone has (tracked, or new and not ignored) to `dest`."""
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        shutil.copytree(REPO_ROOT, dest, ignore=shutil.ignore_patterns(*UNTRACKED))
        return
    # safe.directory: the checkout may belong to another user than the one running the tests
    proc = subprocess.run(["git", "-c", "safe.directory=*", "ls-files", "-z", "--cached", "--others",
                           "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    for name in (f for f in proc.stdout.split("\0") if f and (REPO_ROOT / f).is_file()):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, dest / name)


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "TTE_DEBUG")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_clean_env())
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc.stdout


def _install(artifact: Path, where: Path) -> Path:
    """A fresh virtualenv at `where` with `artifact` installed; returns its bin/ folder.

    The dependencies come from the environment running the tests (a .pth file lists its
    site-packages, whether it is the system's or a virtualenv), so nothing is downloaded; the
    tool itself only from `artifact`.  No pip inside (Debian's python3 has no ensurepip without
    python3-venv): this interpreter's pip installs into it, building an sdist without isolation.
    """
    venv.EnvBuilder(with_pip=False).create(where)
    bin_dir = where / "bin"
    purelib = _run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   where).strip()
    outer = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
    (Path(purelib) / "outer-dependencies.pth").write_text("".join(f"{d}\n" for d in outer if os.path.isdir(d)))
    _run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "-q", "--no-deps",
          "--no-build-isolation", str(artifact)], where)
    located = _run([str(bin_dir / "python"), "-c", "import tinyengine_compiler; print(tinyengine_compiler.__file__)"],
                   where.parent)
    assert Path(located.strip()).is_relative_to(where), f"the tool came from {located.strip()}, not the venv"
    return bin_dir


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """{"wheel": .whl, "sdist": .tar.gz}, built from a copy of the source files."""
    try:
        import build  # noqa: F401  (the `python -m build` front end)
    except ImportError:
        pytest.skip("the `build` package is not installed (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("package")
    src = root / "src"
    _copy_sources(src)
    # --no-isolation: setuptools and wheel from the test extra, so the build needs no index
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(root / "dist"), str(src)], root)
    wheels, sdists = sorted((root / "dist").glob("*.whl")), sorted((root / "dist").glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in (root / "dist").iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


@pytest.fixture(scope="module")
def checkout_outputs(tmp_path_factory, example_models) -> Path:
    """What the checkout's `tte compile` and `tte example-firmware` write, in <work>/out and <work>/fw."""
    work = tmp_path_factory.mktemp("checkout_work")
    shutil.copy2(example_models["mcunet-5fps"]["int8"], work / "model.onnx")
    tte = [sys.executable, "-m", "tinyengine_compiler.cli"]
    proc = subprocess.run([*tte, "compile", "model.onnx", *COMPILE_ARGS, "-o", "out"], cwd=work,
                          capture_output=True, text=True, env={**_clean_env(), "PYTHONPATH": str(REPO_ROOT)})
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([*tte, "example-firmware", "-o", "fw"], cwd=work, capture_output=True, text=True,
                          env={**_clean_env(), "PYTHONPATH": str(REPO_ROOT)})
    assert proc.returncode == 0, proc.stderr
    return work


def _same_tree(a: Path, b: Path) -> None:
    files_a = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    _, mismatch, errors = filecmp.cmpfiles(a, b, files_a, shallow=False)
    assert not mismatch and not errors, f"differ: {mismatch[:5]}{errors[:5]}"


@pytest.fixture(scope="module")
def wheel_bin(dists, tmp_path_factory) -> Path:
    """bin/ of a fresh virtualenv with the wheel installed."""
    return _install(dists["wheel"], tmp_path_factory.mktemp("wheel") / "venv")


def test_the_installed_wheel_runs_the_main_job_and_writes_what_the_checkout_writes(
        wheel_bin, checkout_outputs, example_models, tmp_path):
    tte = str(wheel_bin / "tte")
    work = tmp_path / "work"
    work.mkdir()
    model = example_models["mcunet-5fps"]["int8"]
    shutil.copy2(model, work / "model.onnx")
    image = sample_images(1)[0]
    np.save(work / "image.npy", image)
    np.save(work / "image-int8.npy", quantize_image(load_model(model), image)[None])
    assert "C runtime" in _run([tte, "--version"], work)
    assert "total (51 layers)" in _run([tte, "inspect", "model.onnx"], work)
    assert _run([tte, "run", "model.onnx", "--input", "image.npy"], work).startswith("1. class")
    _run([tte, "plan", "model.onnx", *COMPILE_ARGS, "-o", "plan"], work)
    assert {"memory.json", "memory.md", "memory.svg"} <= {p.name for p in (work / "plan").iterdir()}
    _run([tte, "compile", "model.onnx", *COMPILE_ARGS, "-o", "out"], work)
    _same_tree(work / "out", checkout_outputs / "out")
    assert (work / "plan" / "memory.json").read_bytes() == (work / "out" / "memory.json").read_bytes()
    _run([tte, "example-firmware", "-o", "fw"], work)
    _same_tree(work / "fw", checkout_outputs / "fw")
    if shutil.which("cc") or shutil.which("gcc"):
        assert '"logits"' in _run([tte, "simulate", "out", "--input", "image-int8.npy", "--json"], work)
    if shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm"):
        assert "instructions" in _run([tte, "bench-m7", "model.onnx", *COMPILE_ARGS, "--steps", "1"], work)


def test_the_installed_sdist_writes_what_the_checkout_writes(dists, checkout_outputs, example_models, tmp_path):
    bin_dir = _install(dists["sdist"], tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy2(example_models["mcunet-5fps"]["int8"], work / "model.onnx")
    _run([str(bin_dir / "tte"), "compile", "model.onnx", *COMPILE_ARGS, "-o", "out"], work)
    _same_tree(work / "out", checkout_outputs / "out")


def test_the_installed_wheel_converts_the_papers_models(wheel_bin, paper_models_dir, tmp_path):
    tte = str(wheel_bin / "tte")
    _run([tte, "import-paper-model", f"{paper_models_dir}/mcunet-5fps.pkl", "-o", "m.onnx"], tmp_path)
    assert "total (" in _run([tte, "inspect", "m.onnx"], tmp_path)


# Imported only where the feature needs it, with a one-line error naming the package when absent.
OPTIONAL_IMPORTS = {"sklearn": "tte train-sim --dataset digits", "PIL": "PNG and JPEG images"}


def _guarded(tree: ast.AST, node: ast.AST) -> bool:
    """Whether `node` sits in a try whose handlers catch ImportError."""
    for parent in ast.walk(tree):
        if isinstance(parent, ast.Try) and any(node is n for stmt in parent.body for n in ast.walk(stmt)):
            caught = [h.type for h in parent.handlers]
            if any(isinstance(t, ast.Name) and t.id in ("ImportError", "ModuleNotFoundError") for t in caught):
                return True
    return False


def test_every_third_party_module_the_package_imports_is_a_declared_dependency():
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].lower().replace("_", "-")
                for req in project["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for path in sorted((REPO_ROOT / "tinyengine_compiler").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                tops = [node.module.split(".")[0]]
            else:
                continue
            where = f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
            for top in tops:
                if top in sys.stdlib_module_names or top == "tinyengine_compiler":
                    continue
                if top in OPTIONAL_IMPORTS:
                    if not _guarded(tree, node):
                        problems.append(f"{where}: optional {top} imported without an ImportError guard")
                elif not {d.lower().replace("_", "-") for d in distributions.get(top, [])} & declared:
                    problems.append(f"{where}: {top} is not in pyproject.toml's dependencies")
    assert not problems, "\n".join(problems)
