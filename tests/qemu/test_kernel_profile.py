"""`tte bench-m7`'s instructions by function (instr_by_kernel), on the example MCUNet-5FPS.

The plugin charges each translation block to the function that holds it.  Checked against the
marker counts, which do not depend on the function list: each window's functions add up to its
marker count within a block per marker, backward kernels run only in the training step, and the
first training step's forward runs the inference's hottest kernel exactly as often, on the same
input, as the inference did.  With CMSIS_NN_ROOT set, the `--kernels cmsis_nn` build that
benchmarks/m7.py measures trains bit-exact with the portable one on QEMU.
"""

from __future__ import annotations

import os

import numpy as np
import pytest


from tinyengine_compiler.cbuild import is_cmsis_nn_checkout
from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.targets.bench import bench_m7

from ..sample_images import sample_images
from .conftest import needs_arm_gcc, needs_qemu

# How far a window's function sum may be from its marker count: the plugin charges a block
# whole when it starts, so the block around each marker may land on its other side (3
# instructions in all on this engine's step, which has about a hundred phase markers).
SLOP = 1000


@needs_arm_gcc
@needs_qemu
def test_instructions_by_function_add_up_to_the_marker_counts(example_models, tmp_path, plugin):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    compile_training(g, load_scheme("sparse_49kb"), str(tmp_path / "out"), Options(num_classes=10))
    x = quantize_image(g, sample_images(1)[0])
    got = bench_m7(tmp_path / "out", x[None], [1], 0.01, plugin=plugin, timeout_s=300)
    infer, step = got["instr_by_kernel"]["infer"], got["instr_by_kernel"]["train_step"]
    assert abs(sum(infer.values()) - got["instr_infer"]) <= SLOP
    assert abs(sum(step.values()) - got["instr_train_step"]) <= SLOP
    # most first, and the gradient kernels only where there is a backward pass
    assert list(step.values()) == sorted(step.values(), reverse=True)
    grads = [name for name in step if "grad" in name]
    assert grads and not any("grad" in name for name in infer)
    hottest = next(iter(infer))
    assert step[hottest] == infer[hottest] and infer[hottest] > 0.2 * got["instr_infer"]


@needs_arm_gcc
@needs_qemu
def test_the_cmsis_nn_build_trains_bit_exact_with_the_portable_one(example_models, tmp_path, plugin):
    """What benchmarks/m7.py's cmsis_nn rows measure: `tte bench-m7 --kernels cmsis_nn` at -Ofast."""
    root = os.environ.get("CMSIS_NN_ROOT", "")
    if not is_cmsis_nn_checkout(root):
        pytest.skip("CMSIS_NN_ROOT is not set to a CMSIS-NN checkout: the cmsis_nn firmware is not checked")
    g = load_model(example_models["mcunet-5fps"]["int8"])
    xs = np.stack([quantize_image(g, im) for im in sample_images(2)])
    runs = {}
    for kernels in ("portable", "cmsis_nn"):
        out = tmp_path / kernels
        compile_training(g, load_scheme("sparse_49kb"), str(out), Options(num_classes=10, kernels=kernels))
        runs[kernels] = bench_m7(out, xs, [1, 2], 0.01, plugin=plugin, timeout_s=300)
    portable, cmsis = runs["portable"], runs["cmsis_nn"]
    np.testing.assert_array_equal(cmsis["logits"], portable["logits"])
    assert cmsis["losses"] == portable["losses"] and cmsis["trained"] == portable["trained"]
    assert any(name.startswith("arm_") for name in cmsis["instr_by_kernel"]["infer"])
