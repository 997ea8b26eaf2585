"""runtime_c stands on its own: `make -C runtime_c test` builds the portable kernels and their C
unit tests (runtime_c/tests/test_runtime.c, hand-worked cases and a naive convolution) with
-Wall -Wextra -Werror under ASan and UBSan, and runs them, with no Python involved."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from . import build


def test_make_runtime_c_test_passes(tmp_path):
    if build.CC is None or shutil.which("make") is None:
        pytest.skip("needs a C compiler (cc/gcc) and make on PATH")
    if build.sanitizer_env() is None:
        pytest.skip("the C compiler has no libasan.so")
    proc = subprocess.run(["make", "-C", str(build.ROOT / "runtime_c"), "test", f"CC={build.CC}",
                           f"BUILD={tmp_path}"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "runtime_c: all tests passed" in proc.stdout
