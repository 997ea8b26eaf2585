"""Build and run a `tte compile` output folder on the host, so every test can run the real C.

`build_host_library(out_dir)` compiles the folder's sources (as `tte.mk` lists them: the
generated files plus the copied runtime) with the flags the firmware uses
(`-std=c99 -Wall -Wextra -Werror -ffp-contract=off`) into a shared library, and `HostEngine`
calls it through ctypes.  `run_sanitized(out_dir, inputs)` builds a standalone driver with
AddressSanitizer and UBSan instead and runs it in a child process, which needs no preloading;
`train_sanitized` does the same for training steps.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..codegen.context import CHECKPOINT_HEADER_BYTES
from ..errors import TteError
from ..resources import host_driver_dir

HOST_DIR = host_driver_dir()
FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"]


def _compiler() -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise TteError("no host C compiler (cc or gcc) on PATH")
    return cc


def _sources(out: Path) -> list[str]:
    return [str(p) for p in sorted(out.glob("*.c")) + sorted((out / "runtime" / "src").glob("*.c"))]


def _compile(out: Path, extra: list[str], target: Path) -> Path:
    cmd = [_compiler(), *FLAGS, *extra, f"-I{out}", f"-I{out / 'runtime' / 'include'}", *_sources(out), "-o", str(target)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        first = next((l for l in proc.stderr.splitlines() if "error" in l), proc.stderr.strip()[:300])
        raise TteError(f"host build of {out} failed: {first}")
    return target


def build_host_library(out_dir: str, build_dir: str | None = None) -> Path:
    out = Path(out_dir)
    folder = Path(build_dir or tempfile.mkdtemp(prefix="tte-host-"))
    folder.mkdir(parents=True, exist_ok=True)
    return _compile(out, ["-fPIC", "-shared"], folder / "libtte_model.so")


class HostEngine:
    """The compiled engine in this process: init(), infer(), arena_size(), and for a training
    engine step() / train_step(), get_checkpoint() / set_checkpoint() (tte_get_trainable /
    tte_set_trainable) and get_trainable() (the checkpoint's trained parameters)."""

    def __init__(self, library: Path, input_bytes: int, output_bytes: int, trainable_bytes: int = 0):
        self.lib = ctypes.CDLL(str(library))
        self.lib.tte_arena_size.restype = ctypes.c_size_t
        self.input_bytes, self.output_bytes, self.trainable_bytes = input_bytes, output_bytes, trainable_bytes
        if trainable_bytes:
            self.lib.tte_train_step.restype = ctypes.c_int
            self.lib.tte_train_step.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_float,
                                                ctypes.POINTER(ctypes.c_float)]
            self.lib.tte_get_trainable.restype = ctypes.c_size_t
            self.lib.tte_set_trainable.restype = ctypes.c_int
        self.init()

    def init(self) -> None:
        self.lib.tte_init()

    def arena_size(self) -> int:
        return int(self.lib.tte_arena_size())

    def infer(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.int8)
        if x.size != self.input_bytes:
            raise ValueError(f"input has {x.size} bytes, the engine takes {self.input_bytes}")
        logits = np.zeros(self.output_bytes, np.int8)
        self.lib.tte_infer(x.ctypes.data_as(ctypes.c_void_p), logits.ctypes.data_as(ctypes.c_void_p))
        return logits

    def step(self, x: np.ndarray, label: int, lr: float) -> tuple[int, np.float32]:
        """(tte_train_step's status, the loss it wrote; NaN when it wrote none)."""
        x = np.ascontiguousarray(x, dtype=np.int8)
        loss = ctypes.c_float(float("nan"))
        status = self.lib.tte_train_step(x.ctypes.data_as(ctypes.c_void_p), int(label), float(lr), ctypes.byref(loss))
        return int(status), np.float32(loss.value)

    def train_step(self, x: np.ndarray, label: int, lr: float) -> np.float32:
        """The loss of one step; TteError if tte_train_step refused it."""
        status, loss = self.step(x, label, lr)
        if status != 0:
            raise TteError(f"tte_train_step returned status {status}")
        return loss

    def get_checkpoint(self) -> bytes:
        """What tte_get_trainable writes: the header, then the trained parameters."""
        n = CHECKPOINT_HEADER_BYTES + self.trainable_bytes
        buf = ctypes.create_string_buffer(n)
        if self.lib.tte_get_trainable(buf, ctypes.c_size_t(n)) != n:
            raise TteError("tte_get_trainable wrote less than TTE_CHECKPOINT_BYTES")
        return buf.raw

    def set_checkpoint(self, data: bytes) -> int:
        """tte_set_trainable's status (0: restored)."""
        return int(self.lib.tte_set_trainable(ctypes.c_char_p(data), ctypes.c_size_t(len(data))))

    def get_trainable(self) -> bytes:
        """The trained parameters, a checkpoint without its header."""
        return self.get_checkpoint()[CHECKPOINT_HEADER_BYTES:]


def engine_from_folder(out_dir: str, build_dir: str | None = None) -> HostEngine:
    """Build a `tte compile` folder for the host and load it; sizes come from its tte_model.h."""
    header = Path(out_dir) / "tte_model.h"
    if not header.is_file():
        raise TteError(f"{out_dir}: not a `tte compile` output folder (no tte_model.h)")
    sizes = dict(re.findall(r"#define (TTE_\w+_BYTES) (\d+)u", header.read_text()))
    return HostEngine(build_host_library(out_dir, build_dir), int(sizes["TTE_INPUT_BYTES"]),
                      int(sizes["TTE_OUTPUT_BYTES"]), int(sizes.get("TTE_TRAINABLE_BYTES", 0)))


def _run_driver(out: Path, args: list[str], files: dict[str, bytes], result: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="tte-asan-") as tmp:
        exe = _compile(out, SANITIZE + [str(HOST_DIR / "tte_host_main.c")], Path(tmp) / "tte_host_main")
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        proc = subprocess.run([str(exe), *args], cwd=tmp, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or "runtime error" in proc.stderr:
            raise TteError(f"sanitized host run failed ({proc.returncode}): {proc.stderr.strip()[:2000]}")
        return (Path(tmp) / result).read_bytes()


def run_sanitized(out_dir: str, inputs: np.ndarray, output_bytes: int) -> np.ndarray:
    """Logits of every input, from the ASan/UBSan-built driver; any sanitizer report is an error."""
    data = _run_driver(Path(out_dir), ["inputs.bin", "logits.bin"],
                       {"inputs.bin": np.ascontiguousarray(inputs, dtype=np.int8).tobytes()}, "logits.bin")
    return np.frombuffer(data, dtype=np.int8).reshape(len(inputs), output_bytes)


def train_sanitized(out_dir: str, inputs: np.ndarray, labels: list[int], lr: float) -> tuple[np.ndarray, bytes]:
    """(losses, the checkpoint after them) of one training step per input, from the ASan/UBSan driver."""
    data = _run_driver(Path(out_dir), ["inputs.bin", "losses.bin", "labels.bin", repr(float(lr))],
                       {"inputs.bin": np.ascontiguousarray(inputs, dtype=np.int8).tobytes(),
                        "labels.bin": np.asarray(labels, dtype=np.int32).tobytes()}, "losses.bin")
    n = len(labels) * 4
    return np.frombuffer(data[:n], dtype=np.float32), data[n:]
