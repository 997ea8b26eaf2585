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
