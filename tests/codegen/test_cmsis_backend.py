"""The cmsis_nn kernel backend: the same engine, its int8 kernels swapped for CMSIS-NN calls.

Without CMSIS-NN (CI): `compile_inference(..., Options(kernels="cmsis_nn"))` copies the adapters of
runtime_c/src/cmsis for the kernels that have one and src/ref for the rest, and tte.mk says so.
With `CMSIS_NN_ROOT` set to a CMSIS-NN checkout: the example MCUNet's engine is built the way a
firmware would (the sources, flags and include dirs come from its own tte.mk, through make) on
the host, and its logits must equal the portable engine's bit for bit; and the arena scratch
the planner places for each CMSIS-NN call must hold the Cortex-M7 (DSP) buffer CMSIS-NN asks
for, by its own arm_*_get_buffer_size_dsp functions, in every layer of the models.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinyengine_compiler.cbuild import is_cmsis_nn_checkout
from tinyengine_compiler.compile import compile_inference
from tinyengine_compiler.errors import ConfigError
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.passes.legalize_bias import legalize_biases
from tinyengine_compiler.pipeline import Options, inference_engine
from tinyengine_compiler.targets.host import HostEngine, build_host_library

from ..sample_images import sample_images

ADAPTED = ("tte_add_s8", "tte_conv2d_1x1_s8", "tte_conv2d_s8", "tte_depthwise_conv2d_s8", "tte_fully_connected_s8")
RUNTIME_C = Path(__file__).resolve().parents[2] / "runtime_c" / "src"
CMSIS_NN_ROOT = os.environ.get("CMSIS_NN_ROOT", "")


def _needs_cmsis_nn():
    if not CMSIS_NN_ROOT:
        pytest.skip("CMSIS_NN_ROOT is not set: point it at a CMSIS-NN checkout "
                    "(https://github.com/ARM-software/CMSIS-NN) to build and check the cmsis_nn backend")
    if not is_cmsis_nn_checkout(CMSIS_NN_ROOT):
        pytest.skip(f"CMSIS_NN_ROOT={CMSIS_NN_ROOT} holds no Include/arm_nnfunctions.h")
    for tool in ("make", "cc"):
        if shutil.which(tool) is None:
            pytest.skip(f"no `{tool}` on PATH")


def test_cmsis_backend_swaps_only_the_adapted_kernels(example_models, tmp_path):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    ctx = compile_inference(g, tmp_path / "cmsis", Options(kernels="cmsis_nn")).context
    src = tmp_path / "cmsis" / "runtime" / "src"
    for kernel in ctx["kernels"]:
        own = RUNTIME_C / ("cmsis" if kernel in ADAPTED else "ref") / f"{kernel}.c"
        assert (src / f"{kernel}.c").read_bytes() == own.read_bytes(), kernel
    assert (src / "tte_cmsis.h").is_file() and (src / "tte_cmsis_scratch.c").is_file()
    mk = (tmp_path / "cmsis" / "tte.mk").read_text()
    assert "TTE_KERNELS := cmsis_nn" in mk and "runtime/src/tte_cmsis_scratch.c" in mk
    assert "-DCMSIS_NN_USE_SINGLE_ROUNDING" in mk and "$(CMSIS_NN_ROOT)/Include" in mk
    assert "TTE_CMSIS_SCRATCH" not in mk   # no static scratch: it is in the arena

    compile_inference(g, tmp_path / "portable")
    assert "TTE_KERNELS := portable" in (tmp_path / "portable" / "tte.mk").read_text()
    assert "CMSIS" not in (tmp_path / "portable" / "tte.mk").read_text()
    assert not (tmp_path / "portable" / "runtime" / "src" / "tte_cmsis.h").exists()


def test_unknown_backend_is_a_config_error_and_writes_nothing(example_models, tmp_path):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    with pytest.raises(ConfigError, match="--kernels helium"):
        compile_inference(g, tmp_path / "out", Options(kernels="helium"))
    assert not (tmp_path / "out").exists()


def _make_vars(out: Path, cmsis_nn_root: str = CMSIS_NN_ROOT) -> dict[str, list[str]]:
    """TTE_SRCS, TTE_INC_DIRS, TTE_CFLAGS, TTE_CMSIS_NN_SRCS as a firmware Makefile sees them."""
    probe = out.parent / f"{out.name}-probe.mk"
    names = ("TTE_SRCS", "TTE_INC_DIRS", "TTE_CFLAGS", "TTE_CMSIS_NN_SRCS")
    probe.write_text(f"include {out}/tte.mk\nprint:\n" + "".join(f"\t@echo '{n}=$({n})'\n" for n in names))
    proc = subprocess.run(["make", "-s", "-f", str(probe), "print", f"CMSIS_NN_ROOT={cmsis_nn_root}"],
                          capture_output=True, text=True, check=True)
    pairs = (line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return {k: v.split() for k, v in pairs}


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def cmsis_objects(tmp_path_factory, example_models):
    """The CMSIS-NN sources tte.mk lists, compiled once for the host (-O1, its own warnings
    are not ours), with the flags tte.mk gives."""
    _needs_cmsis_nn()
    folder = tmp_path_factory.mktemp("cmsis_nn")
    g = load_model(example_models["mcunet-5fps"]["int8"])
    compile_inference(g, folder / "probe", Options(kernels="cmsis_nn"))
    mk = _make_vars(folder / "probe")
    assert mk["TTE_CMSIS_NN_SRCS"], f"tte.mk found no CMSIS-NN sources under {CMSIS_NN_ROOT}/Source"
    objs = folder / "obj"
    objs.mkdir()
    _run(["cc", "-O1", "-fPIC", "-c", *mk["TTE_CFLAGS"], f"-I{CMSIS_NN_ROOT}/Include", *mk["TTE_CMSIS_NN_SRCS"]], objs)
    return sorted(str(p) for p in objs.glob("*.o"))


def test_cmsis_engine_logits_equal_the_portable_engine(example_models, cmsis_objects, tmp_path):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    ctx = compile_inference(g, tmp_path / "cmsis", Options(kernels="cmsis_nn")).context
    compile_inference(g, tmp_path / "portable")
    mk = _make_vars(tmp_path / "cmsis")
    lib = tmp_path / "libtte_cmsis.so"
    # the adapters and the generated C under the firmware's warnings; -Wl,--no-undefined: every
    # CMSIS-NN symbol the engine calls must come from the sources tte.mk lists
    _run(["cc", "-O1", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror", "-Wl,--no-undefined", *mk["TTE_CFLAGS"],
          *(f"-I{d}" for d in mk["TTE_INC_DIRS"]), *mk["TTE_SRCS"], *cmsis_objects, "-o", str(lib)], tmp_path)
    n_in, n_out = ctx["input"]["bytes"], ctx["output"]["bytes"]
    cmsis = HostEngine(lib, n_in, n_out)
    portable = HostEngine(build_host_library(str(tmp_path / "portable"), str(tmp_path / "build")), n_in, n_out)
    rng = np.random.default_rng(0)
    inputs = [quantize_image(g, im) for im in sample_images(3)] + [rng.integers(-128, 128, n_in, dtype=np.int8)]
    for x in inputs:
        np.testing.assert_array_equal(cmsis.infer(x), portable.infer(x))


def _layer_rows(g) -> tuple[list[str], list[str]]:
    """(node names, one C initializer each) of the CONV2D / DEPTHWISE_CONV2D / FULLY_CONNECTED
    nodes: kind, strides, top / left pads, input, filter and output dims as the adapters pass
    them to CMSIS-NN."""
    names, rows = [], []
    for node in legalize_biases(g).nodes:
        if node.op not in (OpKind.CONV2D, OpKind.DEPTHWISE_CONV2D, OpKind.FULLY_CONNECTED):
            continue
        x, w, y = (g.tensors[n].shape for n in (node.inputs[0], node.inputs[1], node.outputs[0]))
        names.append(node.name)
        if node.op == OpKind.FULLY_CONNECTED:
            rows.append(f"{{2, 1, 1, 0, 0, {{{x[0]}, 1, 1, {int(np.prod(x[1:]))}}}, {{{w[1]}, 1, 1, {w[0]}}}, "
                        f"{{{y[0]}, 1, 1, {y[-1]}}}}}")
        else:
            (sh, sw), (top, left) = node.attrs["stride"], node.attrs["pads"][:2]
            kind = int(node.op == OpKind.DEPTHWISE_CONV2D)
            rows.append(f"{{{kind}, {sh}, {sw}, {top}, {left}, {{{', '.join(map(str, x))}}}, "
                        f"{{{', '.join(map(str, w))}}}, {{{', '.join(map(str, y))}}}}}")
    return names, rows


DSP_PROBE = r"""
#include <stdio.h>
#include "arm_nnfunctions.h"
typedef struct { int kind, sh, sw, top, left; cmsis_nn_dims in, flt, out; } layer;
static const layer layers[] = { %s };
int main(void)
{
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const layer *l = &layers[i];
        cmsis_nn_conv_params c = {0, 0, {l->sw, l->sh}, {l->left, l->top}, {1, 1}, {-128, 127}};
        cmsis_nn_dw_conv_params d = {0, 0, 1, {l->sw, l->sh}, {l->left, l->top}, {1, 1}, {-128, 127}};
        int32_t need = l->kind == 0 ? arm_convolve_wrapper_s8_get_buffer_size_dsp(&c, &l->in, &l->flt, &l->out)
                     : l->kind == 1 ? arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp(&d, &l->in, &l->flt, &l->out)
                     : arm_fully_connected_s8_get_buffer_size_dsp(&l->flt);
        printf("%%d\n", (int)need);
    }
    return 0;
}
"""


def _dsp_scratch_needs(g, cmsis_objects, tmp_path) -> dict[str, int]:
    """Node name -> the buffer CMSIS-NN asks for on a Cortex-M7 (its _dsp size functions)."""
    names, rows = _layer_rows(g)
    (tmp_path / "probe.c").write_text(DSP_PROBE % ",\n    ".join(rows))
    _run(["cc", "-O1", "-std=c99", f"-I{CMSIS_NN_ROOT}/Include", "probe.c", *cmsis_objects, "-o", "probe"], tmp_path)
    out = subprocess.run([str(tmp_path / "probe")], capture_output=True, text=True, check=True).stdout
    return dict(zip(names, map(int, out.split())))


def _check_arena_scratch(g, cmsis_objects, tmp_path) -> None:
    needs = _dsp_scratch_needs(g, cmsis_objects, tmp_path)
    engine = inference_engine(g, Options(kernels="cmsis_nn"))
    placed = {b.scratch_of: b.size_bytes for b in engine.buffers if b.scratch_of is not None}
    assert any(needs.values())
    for node, need in needs.items():
        assert need <= placed.get(node, 0), f"{node}: CMSIS-NN asks for {need} B on a Cortex-M7"


@pytest.mark.parametrize("name", ["mcunet-5fps", "mbv2-w0.35", "proxyless-w0.3"])
def test_the_arena_holds_every_cortex_m7_cmsis_buffer(example_models, cmsis_objects, tmp_path, name):
    _check_arena_scratch(load_model(example_models[name]["int8"]), cmsis_objects, tmp_path)


@pytest.mark.parametrize("name", ["mcunet-5fps", "mbv2-w0.35", "proxyless-w0.3"])
def test_the_arena_holds_the_paper_models_cmsis_buffers(paper_models_dir, cmsis_objects, tmp_path, name):
    _check_arena_scratch(load_model(f"{paper_models_dir}/{name}.pkl"), cmsis_objects, tmp_path)
