"""`tte example-firmware`: its Make and CMake builds link the same image, and it trains on QEMU.

The folder is written by `tte example-firmware` and built around a `tte compile` folder of the
example MCUNet-5FPS (sparse_49kb, 10 classes) twice: with its Makefile (through the engine's
tte.mk) and with its CMakeLists.txt (through tte.cmake, with the ARM toolchain file).  The two
ELFs must have the same sections and sizes and the same loadable bytes.  The CMake image then
trains two steps on QEMU within its default stack reserve, and its losses and trained
parameters must equal the portable C built for the host.  With CMSIS_NN_ROOT set, the same for
`--kernels cmsis_nn` (both builds then compile the CMSIS-NN sources the engine calls).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyengine_compiler.cbuild import is_cmsis_nn_checkout
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.targets.bench import HARNESS_STACK_BYTES
from tinyengine_compiler.targets.host import engine_from_folder
from tinyengine_compiler.targets.qemu import run_qemu

from ..sample_images import sample_images
from .conftest import needs_arm_gcc, needs_qemu

LR = 0.01
LABELS = [3, 7]
REPO_ROOT = Path(__file__).resolve().parents[2]
CMSIS_NN_ROOT = os.environ.get("CMSIS_NN_ROOT", "")
BACKENDS = ["portable", "cmsis_nn"]


def _tte(*args: str, cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "tinyengine_compiler.cli", *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def example(tmp_path_factory, example_models):
    """(work folder with fw/ and the portable out-portable/, the model path)."""
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None or shutil.which("cmake") is None:
        pytest.skip("needs arm-none-eabi-gcc, make and cmake (apt-get install gcc-arm-none-eabi make cmake)")
    root = tmp_path_factory.mktemp("example_firmware")
    model = example_models["mcunet-5fps"]["int8"]
    written = _tte("example-firmware", "-o", "fw", cwd=root)
    assert "harness/startup.c" in written and "CMakeLists.txt" in written
    _tte("compile", model, "--update", "sparse_49kb", "--num-classes", "10", "-o", "out-portable", cwd=root)
    return root, model


@pytest.fixture(scope="module", params=BACKENDS)
def builds(request, example):
    """(compiled folder, the Make ELF, the CMake ELF) of one kernel backend."""
    root, model = example
    backend = request.param
    if backend == "cmsis_nn":
        if not is_cmsis_nn_checkout(CMSIS_NN_ROOT):
            pytest.skip("CMSIS_NN_ROOT is not set to a CMSIS-NN checkout: the cmsis_nn example build is not checked")
        _tte("compile", model, "--update", "sparse_49kb", "--num-classes", "10", "--kernels", backend,
             "-o", f"out-{backend}", cwd=root)
    out, fw = root / f"out-{backend}", root / "fw"
    _run(["make", "-C", str(fw), f"TTE_OUT={out}", f"BUILD={root / ('make-' + backend)}",
          f"CMSIS_NN_ROOT={CMSIS_NN_ROOT}"], root)
    _run(["cmake", "-S", str(fw), "-B", str(root / f"cmake-{backend}"),
          f"-DCMAKE_TOOLCHAIN_FILE={fw / 'arm-none-eabi.cmake'}", f"-DTTE_OUT={out}",
          f"-DCMSIS_NN_ROOT={CMSIS_NN_ROOT}"], root)
    _run(["cmake", "--build", str(root / f"cmake-{backend}"), "-j", "2"], root)
    return out, root / f"make-{backend}" / "firmware.elf", root / f"cmake-{backend}" / "firmware.elf"


def _sections(elf: Path) -> list[tuple[str, ...]]:
    proc = subprocess.run(["arm-none-eabi-size", "-A", "-d", str(elf)], capture_output=True, text=True, check=True)
    return [tuple(line.split()) for line in proc.stdout.splitlines() if line.startswith((".", "Total"))]


def _image(elf: Path, tmp_path: Path) -> bytes:
    image = tmp_path / f"{elf.parent.name}.bin"
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(image)], check=True)
    return image.read_bytes()


@needs_arm_gcc
def test_make_and_cmake_link_the_same_image(builds, tmp_path):
    out, make_elf, cmake_elf = builds
    sections = _sections(make_elf)
    assert sections == _sections(cmake_elf)
    names = [s[0] for s in sections]
    assert {".text", ".rodata", ".bss", "._stack_reserve"} <= set(names), names
    assert _image(make_elf, tmp_path) == _image(cmake_elf, tmp_path)
    # the image holds the engine's static RAM as memory.json reports it (main.c holds none)
    memory = json.loads((out / "memory.json").read_text())
    sizes = {s[0]: int(s[1]) for s in sections}
    assert sizes.get(".data", 0) + sizes[".bss"] == memory["data_bss_bytes"]
    # both builds reserve, by default, the stack `tte bench-m7` reserves: the engine's worst case
    # plus the harness's frames, rounded up to 8 B
    assert sizes["._stack_reserve"] == -(-(memory["stack_bytes"] + HARNESS_STACK_BYTES) // 8) * 8


@needs_arm_gcc
@needs_qemu
def test_the_cmake_firmware_trains_as_the_host_build(builds, example, tmp_path):
    _, _, cmake_elf = builds
    root, model = example
    g = load_model(model)
    xs = np.stack([quantize_image(g, im) for im in sample_images(len(LABELS))])
    work = tmp_path / "io"
    work.mkdir()
    (work / "inputs.bin").write_bytes(xs.tobytes())
    (work / "labels.bin").write_bytes(np.asarray(LABELS, np.int32).tobytes())
    (work / "lr.bin").write_bytes(np.float32(LR).tobytes())
    run = run_qemu(cmake_elf, workdir=work, timeout_s=300, count=False)
    assert run.exit_code == 0, run.stdout[-500:]
    host = engine_from_folder(str(root / "out-portable"), str(tmp_path / "host"))
    expected = [float(host.train_step(x, y, LR)) for x, y in zip(xs, LABELS)]
    assert np.frombuffer((work / "losses.bin").read_bytes(), np.float32).tolist() == expected
    assert (work / "result.bin").read_bytes() == host.get_trainable()
