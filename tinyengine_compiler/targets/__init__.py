"""Targets: build firmware for the STM32F746 (Cortex-M7) and run it on QEMU.

    firmware.py  build_firmware() -> Firmware (sizes), assert_single_precision()
    qemu.py      build_plugin(), run_qemu() -> QemuRun (exit code, console, marks), segment_counts()
    bench.py     bench_m7(): train a `tte compile` folder K steps on QEMU with
                 examples/stm32f746/main.c: sizes, instructions per phase, losses, weights
    errors.py    TargetError and its subclasses (all TteError)
    m7/          the C side: startup.c, tte_semihost.h, tte_bench.h (BENCH_MARK), the linker
                 scripts (stm32f746_qemu.ld for QEMU, stm32f746.ld for the chip) and the
                 insncount.c QEMU plugin.  Package data: ship it with the wheel.

Nothing here imports the compiler's other stages: a target only sees C files.
"""

from .errors import DoublePrecisionError, FirmwareTooLargeError, QemuTimeoutError, TargetError
from .firmware import HARNESS_DIR, Firmware, assert_single_precision, build_firmware
from .qemu import QemuRun, build_plugin, run_qemu, segment_counts

__all__ = ["HARNESS_DIR", "DoublePrecisionError", "Firmware", "FirmwareTooLargeError", "QemuRun",
           "QemuTimeoutError", "TargetError", "assert_single_precision", "build_firmware", "build_plugin",
           "run_qemu", "segment_counts"]
