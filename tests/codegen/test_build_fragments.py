"""The two build fragments of a compiled folder, tte.mk and tte.cmake, say the same thing.

A firmware built with Make sees TTE_SRCS, TTE_INC_DIRS, TTE_CFLAGS (and TTE_CMSIS_NN_SRCS);
one built with CMake sees TTE_SOURCES, TTE_INCLUDE_DIRS, TTE_C_FLAGS (and TTE_CMSIS_NN_SOURCES).
Both are read the way a build reads them, by make and by a CMake configure, and must list the
same files, directories and flags in the same order.  (tests/qemu/test_example_firmware.py
links a whole firmware both ways and compares the images.)  Every generated file names the
compiler's version and the C runtime's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tinyengine_compiler import __version__
from tinyengine_compiler.compile import compile_inference
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.resources import runtime_version

from .test_cmsis_backend import CMSIS_NN_ROOT, _make_vars

needs_make_and_cmake = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("make") is None,
                                          reason="cmake or make not on PATH (apt-get install cmake make)")
PAIRS = {"TTE_SRCS": "TTE_SOURCES", "TTE_INC_DIRS": "TTE_INCLUDE_DIRS", "TTE_CFLAGS": "TTE_C_FLAGS",
         "TTE_CMSIS_NN_SRCS": "TTE_CMSIS_NN_SOURCES"}


def _cmake_vars(out: Path, cmsis_nn_root: str) -> dict[str, list[str]]:
    """The TTE_* lists after include(tte.cmake), from a CMake configure for the host."""
    probe = out.parent / f"{out.name}-cmake-probe"
    probe.mkdir()
    dump = probe / "vars.txt"
    lines = "".join(f'"{name}=${{{name}}}\\n"' for name in PAIRS.values())
    (probe / "CMakeLists.txt").write_text(
        f"cmake_minimum_required(VERSION 3.16)\nproject(probe C)\ninclude({out}/tte.cmake)\n"
        f"file(WRITE {dump} {lines})\n")
    proc = subprocess.run(["cmake", "-S", str(probe), "-B", str(probe / "build"), f"-DCMSIS_NN_ROOT={cmsis_nn_root}"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pairs = (line.split("=", 1) for line in dump.read_text().splitlines())
    return {k: [v for v in value.split(";") if v] for k, value in pairs}


def _same_lists(out: Path, cmsis_nn_root: str = "") -> None:
    make, cmake = _make_vars(out, cmsis_nn_root), _cmake_vars(out, cmsis_nn_root)
    for make_name, cmake_name in PAIRS.items():
        assert [os.path.normpath(v) for v in make.get(make_name, [])] == \
               [os.path.normpath(v) for v in cmake[cmake_name]], make_name


@needs_make_and_cmake
def test_tte_cmake_lists_what_tte_mk_lists(example_models, tmp_path):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    compile_inference(g, tmp_path / "portable")
    _same_lists(tmp_path / "portable")
    mk = (tmp_path / "portable" / "tte.mk").read_text()
    assert "TTE_CFLAGS := -std=c99 -ffp-contract=off -fno-fast-math" in mk


def _fake_cmsis_nn(root: Path) -> Path:
    """A CMSIS-NN tree of empty files: what the fragments pick from it is a matter of names."""
    for name in ("Include/arm_nnfunctions.h", "Source/ConvolutionFunctions/arm_convolve_s8.c",
                 "Source/ConvolutionFunctions/arm_convolve_s16.c", "Source/ConvolutionFunctions/arm_convolve_f32.c",
                 "Source/BasicMathFunctions/arm_elementwise_add_s8.c", "Source/NNSupportFunctions/arm_nn_vec_f16.c",
                 "Source/ActivationFunctions/arm_relu_q7.c", "Source/SoftmaxFunctions/arm_softmax_s8.c",
                 "Source/FullyConnectedFunctions/arm_fully_connected_s8.c"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    return root


@needs_make_and_cmake
def test_tte_cmake_lists_what_tte_mk_lists_for_cmsis_nn(example_models, tmp_path):
    root = CMSIS_NN_ROOT or str(_fake_cmsis_nn(tmp_path / "cmsis-nn"))
    g = load_model(example_models["mcunet-5fps"]["int8"])
    compile_inference(g, tmp_path / "cmsis", Options(kernels="cmsis_nn"))
    _same_lists(tmp_path / "cmsis", root)
    if not CMSIS_NN_ROOT:   # the integer sources of the five families, in name order
        assert [Path(p).name for p in _make_vars(tmp_path / "cmsis", root)["TTE_CMSIS_NN_SRCS"]] == [
            "arm_relu_q7.c", "arm_elementwise_add_s8.c", "arm_convolve_s16.c", "arm_convolve_s8.c",
            "arm_fully_connected_s8.c"]


def test_every_generated_file_names_the_compiler_and_runtime_versions(example_models, tmp_path):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    compile_inference(g, tmp_path / "out")
    stamp = f"tinyengine-compiler {__version__} (C runtime {runtime_version()})"
    for name in ("tte_model.c", "tte_model.h", "tte_weights.c", "tte_weights.h", "tte.mk", "tte.cmake"):
        head = (tmp_path / "out" / name).read_text().splitlines()[:3]
        assert any(stamp in line for line in head), name
