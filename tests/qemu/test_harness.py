"""The Cortex-M7 target harness: build, size, link limits, precision check, QEMU runs, counts.

Expected values come from the sources: instruction counts are derived by hand from the
assembly loop in firmware/hello.c, the RAM overflow from the array size and the stack
reserve, the round trip from a Python reimplementation of the guest's transform.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tinyengine_compiler.errors import TteError
from tinyengine_compiler.targets import (DoublePrecisionError, FirmwareTooLargeError, QemuTimeoutError,
                                         assert_single_precision, build_firmware, run_qemu, segment_counts)

from .conftest import FIRMWARE, needs_arm_gcc, needs_qemu

HELLO_LOOP_N = 100000   # LOOP_N in firmware/hello.c


def _build(name, out_dir, **kw):
    return build_firmware([FIRMWARE / f"{name}.c"], [], out_dir, **kw)


# ---- pure helpers: no tools needed ----

def test_segment_counts_names_and_sums_repeated_segments():
    marks = [(1, 100), (2, 150), (1, 160), (2, 230)]
    assert segment_counts(marks, {1: "forward"}) == {"forward": 120, "2->1": 10}
    assert segment_counts(marks) == {"1->2": 120, "2->1": 10}
    assert segment_counts([(1, 5)]) == {}


# ---- building ----

@needs_arm_gcc
def test_sizes_follow_the_documented_definitions(tmp_path):
    fw = _build("big_static", tmp_path, defines=["BIG_KB=100"], stack_bytes=8192)
    assert 100 * 1024 <= fw.bss_bytes < 100 * 1024 + 64      # the array, plus at most a few words
    assert fw.stack_bytes == 8192
    assert fw.flash_bytes == fw.text_bytes + fw.data_bytes
    assert fw.ram_bytes == fw.data_bytes + fw.bss_bytes + fw.stack_bytes
    assert 0 < fw.text_bytes < 4096                          # startup + main, no printf


@needs_arm_gcc
def test_330kb_static_array_fails_at_link_time_with_one_line(tmp_path):
    with pytest.raises(FirmwareTooLargeError) as info:
        _build("big_static", tmp_path, defines=["BIG_KB=330"])
    message = str(info.value)
    assert isinstance(info.value, TteError) and "\n" not in message
    assert message.startswith("firmware does not fit the STM32F746: RAM overflowed by ")
    assert "(320 KB available)" in message
    overflow = int(message.split("overflowed by ")[1].split()[0])
    assert 26 * 1024 <= overflow < 26 * 1024 + 64            # 330 KB + 16 KB stack - 320 KB


@needs_arm_gcc
def test_stack_reserve_counts_against_ram(tmp_path):
    _build("big_static", tmp_path / "fits", defines=["BIG_KB=300"], stack_bytes=16384)   # 316 KB
    with pytest.raises(FirmwareTooLargeError, match=r"RAM overflowed by \d+ bytes"):
        _build("big_static", tmp_path / "too", defines=["BIG_KB=300"], stack_bytes=32768)  # 332 KB


@needs_arm_gcc
def test_real_board_script_puts_vectors_at_flash_0x08000000(tmp_path):
    fw = _build("hello", tmp_path, board="stm32f746")
    nm = subprocess.run(["arm-none-eabi-nm", str(fw.elf)], capture_output=True, text=True, check=True).stdout
    symbols = {line.split()[2]: int(line.split()[0], 16) for line in nm.splitlines() if len(line.split()) == 3}
    assert symbols["tte_vectors"] == 0x08000000
    assert symbols["_estack"] == 0x20000000 + 320 * 1024


@needs_arm_gcc
def test_compile_error_is_one_line(tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { int unused; return 0; }\n")   # -Werror=unused-variable
    with pytest.raises(TteError) as info:
        build_firmware([bad], [], tmp_path)
    assert "\n" not in str(info.value) and "unused" in str(info.value)


@needs_arm_gcc
def test_double_is_caught_and_float_passes(tmp_path):
    assert_single_precision(_build("precision", tmp_path / "f32").elf)
    soft = _build("precision", tmp_path / "f64", defines=["USE_DOUBLE"])          # fpv5-sp: libgcc calls
    with pytest.raises(DoublePrecisionError, match=r"soft-double helpers .*__aeabi_dmul.*called from .*main"):
        assert_single_precision(soft.elf)
    hard = _build("precision", tmp_path / "dp", defines=["USE_DOUBLE"], extra_cflags=["-mfpu=fpv5-d16"])
    with pytest.raises(DoublePrecisionError, match=r"\d+ \.f64 instructions \(in main\)"):
        assert_single_precision(hard.elf)


# ---- running ----

@needs_arm_gcc
@needs_qemu
def test_hello_runs_and_counts_are_exact_and_deterministic(tmp_path, plugin):
    fw = _build("hello", tmp_path)
    runs = [run_qemu(fw.elf, workdir=tmp_path, plugin=plugin, timeout_s=30) for _ in range(2)]
    first = runs[0]
    assert first.exit_code == 42, first.stdout + first.stderr
    assert first.stdout == "hello from cortex-m7\ndata bss fpu ok\n"
    assert [m for m, _ in first.marks] == [1, 2, 3, 4]
    assert runs[1].marks == first.marks and runs[1].total == first.total
    seg = first.segments({1: "asm_loop", 3: "c_loop"})
    # dbg #1 + ldr + (subs, bne) per iteration; dbg #2 ends the segment
    assert seg["asm_loop"] == 2 + 2 * HELLO_LOOP_N
    # 1000 iterations of store + add + compare + branch (4), plus dbg and loop setup (<= 8)
    assert 4 * 1000 <= seg["c_loop"] <= 4 * 1000 + 8
    assert first.total > first.marks[-1][1]


@needs_arm_gcc
@needs_qemu
def test_exact_mode_agrees_with_block_mode_on_markers(tmp_path, plugin):
    fw = _build("hello", tmp_path)
    fast = run_qemu(fw.elf, workdir=tmp_path, plugin=plugin, timeout_s=30)
    exact = run_qemu(fw.elf, workdir=tmp_path, plugin=plugin, timeout_s=30, exact=True)
    assert exact.marks == fast.marks


@needs_arm_gcc
@needs_qemu
@pytest.mark.parametrize("n_bytes", [1, 1000, 4096])
def test_semihosting_file_round_trip(tmp_path, plugin, n_bytes):
    fw = _build("roundtrip", tmp_path / "build")
    data = os.urandom(n_bytes)
    work = tmp_path / "work"
    work.mkdir()
    (work / "in.bin").write_bytes(data)
    run = run_qemu(fw.elf, workdir=work, plugin=plugin, timeout_s=30)
    assert run.exit_code == 0, run.stdout
    assert run.stdout == f"wrote {n_bytes} bytes\n"
    assert (work / "out.bin").read_bytes() == bytes(b ^ 0x5A for b in reversed(data))


@needs_arm_gcc
@needs_qemu
def test_float_firmware_computes_its_dot_product(tmp_path, plugin):
    run = run_qemu(_build("precision", tmp_path).elf, workdir=tmp_path, plugin=plugin, timeout_s=30)
    assert run.exit_code == 0


@needs_arm_gcc
@needs_qemu
def test_guest_that_never_exits_is_killed_at_the_timeout(tmp_path, plugin):
    fw = _build("forever", tmp_path)
    start = time.monotonic()
    with pytest.raises(QemuTimeoutError) as info:
        run_qemu(fw.elf, workdir=tmp_path, plugin=plugin, timeout_s=1.5)
    assert time.monotonic() - start < 10
    assert "\n" not in str(info.value) and "1.5 s" in str(info.value)
    with pytest.raises(ProcessLookupError):   # reaped: the pid no longer exists
        os.kill(info.value.pid, 0)


@needs_arm_gcc
@needs_qemu
def test_fault_is_reported_and_exits_131(tmp_path, plugin):
    run = run_qemu(_build("fault", tmp_path).elf, workdir=tmp_path, plugin=plugin, timeout_s=30)
    assert run.exit_code == 128 + 3
    assert "*** UsageFault CFSR=0x02000000" in run.stdout   # CFSR.DIVBYZERO (bit 25)


@needs_arm_gcc
@pytest.mark.parametrize("opt", ["-O0", "-Os", "-O3"])
def test_harness_builds_warning_free_at_every_level(tmp_path, opt):
    assert build_firmware([FIRMWARE / "hello.c"], [], tmp_path, opt=opt).text_bytes > 0
