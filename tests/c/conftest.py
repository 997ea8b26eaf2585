"""Fixtures of the C kernel tests: one compiled runtime per session.

Tests skip (with the reason) when no C compiler is installed.  When TTE_C_SANITIZE=1 (set by
test_sanitizers.py for its child pytest run) the library is built with ASan and UBSan.
"""

from __future__ import annotations

import os

import pytest

from . import build
from .tte_ctypes import Runtime


@pytest.fixture(scope="session")
def runtime(tmp_path_factory) -> Runtime:
    if build.CC is None:
        pytest.skip("no C compiler (cc/gcc) on PATH")
    sanitize = os.environ.get("TTE_C_SANITIZE") == "1"
    return Runtime(build.build_library(tmp_path_factory.mktemp("tte_c"), sanitize=sanitize))
