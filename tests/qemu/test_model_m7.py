"""Generated inference C on the Cortex-M7 (QEMU) against the int8 reference executor, bit for bit.

The host tests (tests/c, tests/codegen) run the kernels' plain-C path; on the M7 the kernels
use the DSP instructions of runtime_c/include/internal/tte_dsp.h (__ARM_FEATURE_DSP), so only this
test checks that path.  The firmware reads input.bin and writes logits.bin by semihosting.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinyengine_compiler.compile import compile_inference
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.reference.interp import run_graph
from tinyengine_compiler.targets import build_firmware, run_qemu

from ..sample_images import sample_images
from .conftest import FIRMWARE, needs_arm_gcc, needs_qemu


@needs_arm_gcc
@needs_qemu
@pytest.mark.parametrize("opt", ["-O2", "-Ofast"])
def test_mcunet_logits_on_m7_equal_reference(example_models, tmp_path, opt):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    out = tmp_path / "out"
    compile_inference(g, out)
    sources = [*out.glob("*.c"), *(out / "runtime" / "src").glob("*.c"), FIRMWARE / "model_io.c"]
    fw = build_firmware(sources, [out, out / "runtime" / "include"], tmp_path / "build", opt=opt, name="model")
    for i, image in enumerate(sample_images(2)):
        x = quantize_image(g, image)
        x.astype(np.int8).tofile(tmp_path / "input.bin")
        run = run_qemu(fw.elf, workdir=tmp_path, timeout_s=120, count=False)
        assert run.exit_code == 0, (i, run.stdout, run.stderr)
        got = np.fromfile(tmp_path / "logits.bin", np.int8)
        np.testing.assert_array_equal(got, run_graph(g, x).reshape(-1))
