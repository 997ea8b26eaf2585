"""Generated inference C against the int8 reference executor, bit for bit, on the host.

The three paper models (when ../shared/models is there) and the example models the repo
builds: the arena is planned from the IR's lifetimes, the C is compiled with the firmware's
warning flags, and its logits must equal `reference.interp.run_graph` exactly.
"""

import numpy as np
import pytest

from tinyengine_compiler.compile import compile_inference
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.reference.interp import run_graph
from tinyengine_compiler.targets.host import HostEngine, build_host_library, run_sanitized

from ..sample_images import sample_images

PAPER = ["mcunet-5fps", "mbv2-w0.35", "proxyless-w0.3"]


def _inputs(g, n):
    return np.stack([quantize_image(g, im) for im in sample_images(n)])


@pytest.mark.parametrize("name", PAPER)
def test_paper_model_logits_bit_exact(paper_models_dir, tmp_path, name):
    g = load_model(f"{paper_models_dir}/{name}.pkl")
    compiled = compile_inference(g, tmp_path / "out")
    plan, ctx = compiled.plan, compiled.context
    engine = HostEngine(build_host_library(str(tmp_path / "out"), str(tmp_path)), ctx["input"]["bytes"],
                        ctx["output"]["bytes"])
    assert engine.arena_size() == plan.arena_bytes
    for x in _inputs(g, 20):
        np.testing.assert_array_equal(engine.infer(x), run_graph(g, x).reshape(-1))


def test_example_model_bit_exact_and_sanitizer_clean(example_models, tmp_path):
    g = load_model(example_models["mcunet-5fps"]["int8"])
    ctx = compile_inference(g, tmp_path / "out").context
    xs = _inputs(g, 3)
    logits = run_sanitized(str(tmp_path / "out"), xs, ctx["output"]["bytes"])
    for x, got in zip(xs, logits):
        np.testing.assert_array_equal(got, run_graph(g, x).reshape(-1))


def test_output_is_deterministic_and_replaces_the_folder_whole(example_models, tmp_path):
    g = load_model(example_models["mbv2-w0.35"]["int8"])
    compile_inference(g, tmp_path / "a")
    compile_inference(g, tmp_path / "b")
    (tmp_path / "b" / "stale.txt").write_text("from an older compile")
    compile_inference(g, tmp_path / "b")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for f in files_a:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_a_global_pool_whose_requantization_underflows_is_refused():
    """s_in / (s_out * H * W) below 2^-31 has multiplier 0, which the kernel reads as 'the same
    quantization': refused, with the node named, rather than computed differently from the reference."""
    from tinyengine_compiler.codegen.calls import forward_call
    from tinyengine_compiler.errors import UnsupportedError
    from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor

    tensors = {"x": Tensor("x", (1, 7, 7, 4), DType.INT8, QParams.make(1e-6, 0)),
               "y": Tensor("y", (1, 1, 1, 4), DType.INT8, QParams.make(1e3, 5))}
    node = Node("pool", OpKind.GLOBAL_AVG_POOL, ["x"], ["y"], {})
    with pytest.raises(UnsupportedError, match=r"node 'pool': GlobalAveragePool's requantization .* below 2\^-31"):
        forward_call(Graph("g", tensors, [node], ["x"], ["y"]), node, "n0", lambda name: name)
