"""Run every C kernel test again against an ASan + UBSan build of the runtime.

The sanitized library can only be loaded into a Python that starts with the sanitizer
runtime preloaded, so this test runs the other test files in a child pytest with
LD_PRELOAD=libasan and PYTHONMALLOC=malloc (every numpy buffer gets red zones).  Any
out-of-bounds access or undefined behaviour aborts the child; `-s` keeps the child from
capturing fd 2, so the sanitizer report reaches the assertion message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import build

HERE = Path(__file__).resolve().parent


@pytest.mark.skipif(os.environ.get("TTE_C_SANITIZE") == "1", reason="already inside the sanitized run")
def test_kernels_clean_under_asan_and_ubsan():
    if build.CC is None:
        pytest.skip("no C compiler (cc/gcc) on PATH")
    env = build.sanitizer_env()
    if env is None:
        pytest.skip("the C compiler has no libasan.so")
    files = [str(HERE / f) for f in ("test_kernels.py", "test_requant.py", "test_backward_kernels.py",
                                        "test_saved_state_kernels.py", "test_fused_kernels.py")]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-s", "-p", "no:cacheprovider", *files],
                          cwd=build.ROOT, env=env, capture_output=True, text=True, timeout=300)
    report = proc.stdout[-3000:] + "\n" + proc.stderr[:6000]  # the first sanitizer report
    assert proc.returncode == 0, report
    assert "passed" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1], report
