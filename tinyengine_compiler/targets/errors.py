"""Errors of the Cortex-M7 target harness: `TteError`s, so the CLI prints them as one line.

They live here rather than in `tinyengine_compiler/errors.py` only because this package was
written in parallel with that file; they may move there unchanged.
"""

from __future__ import annotations

from ..errors import TteError


class TargetError(TteError):
    """The cross toolchain or the emulator failed, or is not installed."""


class FirmwareTooLargeError(TargetError):
    """The link failed because static data, code or the stack reserve exceed the STM32F746."""


class DoublePrecisionError(TargetError):
    """The firmware contains double-precision float code (the STM32F746 FPU is single precision)."""


class QemuTimeoutError(TargetError):
    """The guest did not exit in time; the QEMU process was killed.  `pid` is the killed process."""

    def __init__(self, message: str, pid: int):
        super().__init__(message)
        self.pid = pid


class StackOverflowError(TargetError):
    """The firmware's stack grew past its reserve on the emulator (startup.c's painted stack)."""
