"""Fixtures of the Cortex-M7 harness tests.

Tests that build firmware need arm-none-eabi-gcc (with newlib); tests that run it also need
qemu-system-arm and a host gcc for the plugin.  Each skips with the missing tool's name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinyengine_compiler.targets import build_plugin

FIRMWARE = Path(__file__).resolve().parent / "firmware"

needs_arm_gcc = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None,
    reason="arm-none-eabi-gcc not on PATH (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
needs_qemu = pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None or (shutil.which("gcc") or shutil.which("cc")) is None,
    reason="qemu-system-arm or a host gcc (for the plugin) not on PATH (apt-get install qemu-system-arm gcc)")


@pytest.fixture(scope="session")
def plugin(tmp_path_factory) -> Path:
    """The insncount plugin, built once per session."""
    if shutil.which("qemu-system-arm") is None or (shutil.which("gcc") or shutil.which("cc")) is None:
        pytest.skip("qemu-system-arm or a host gcc not on PATH")
    return build_plugin(tmp_path_factory.mktemp("plugin"))
