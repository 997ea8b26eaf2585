"""The example models: architectures.py against the paper's files, the built ONNX against architectures.py.

Independent facts used: the numbers of numbered convs and residual adds given in
../shared/models/README.md, and (when present) the paper's raw pickles, read here without the
package.
"""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from examples.architectures import ARCHITECTURES, INPUT_SIZE, NUM_CLASSES
from examples.build_models import build_float_model, calibration_images
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import image_to_real
from tinyengine_compiler.ir import OpKind

from .test_inspect import _safe_load_pickle

# name -> (numbered convs, residual adds, classifier input), from ../shared/models/README.md.
README_FACTS = {"mcunet-5fps": (42, 7, 160), "mbv2-w0.35": (51, 10, 112), "proxyless-w0.3": (60, 13, 96)}


@pytest.mark.parametrize("name", sorted(README_FACTS))
def test_architecture_counts_match_the_models_readme(name):
    arch = ARCHITECTURES[name]
    assert (arch.numbered_convs, arch.residual_adds, arch.classifier_in) == README_FACTS[name]
    assert arch.blocks[-1].out == arch.classifier_in


@pytest.mark.parametrize("name", sorted(README_FACTS))
def test_architecture_matches_the_paper_pickle_layer_by_layer(paper_models_dir, name):
    d = _safe_load_pickle(f"{paper_models_dir}/{name}.pkl")
    arch = ARCHITECTURES[name]
    first = d["first_conv"]
    assert arch.first_conv == (first["out_channel"], first["kernel_size"][0], first["stride"])
    got = [(b.expand, b.kernel, b.stride, b.out, b.residual) for b in arch.blocks]
    want = [(raw["pointwise1"]["out_channel"] if raw["pointwise1"] else None,
             raw["depthwise"]["kernel_size"][0], raw["depthwise"]["stride"],
             raw["pointwise2"]["out_channel"], raw["residual"] is not None) for raw in d["blocks"]]
    assert got == want
    assert arch.classifier_in == d["classifier"]["in_channel"]


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_float_model_has_the_architecture_layers(name):
    arch = ARCHITECTURES[name]
    graph = build_float_model(arch).graph
    convs = [n for n in graph.node if n.op_type == "Conv"]
    attrs = [{a.name: helper.get_attribute_value(a) for a in n.attribute} for n in convs]
    depthwise = [a for a in attrs if a["group"] > 1]
    assert len(convs) == arch.numbered_convs
    assert sum(n.op_type == "Add" for n in graph.node) == arch.residual_adds
    assert [(a["kernel_shape"][0], a["strides"][0]) for a in depthwise] == [(b.kernel, b.stride) for b in arch.blocks]
    assert all(a["pads"] == [a["kernel_shape"][0] // 2] * 4 for a in attrs)
    assert [n.op_type for n in graph.node[-3:]] == ["GlobalAveragePool", "Flatten", "Gemm"]


def test_float_model_is_deterministic():
    arch = ARCHITECTURES["mcunet-5fps"]
    assert build_float_model(arch).SerializeToString() == build_float_model(arch).SerializeToString()
    assert np.array_equal(calibration_images(2), calibration_images(2))


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_float_model_runs_with_activations_of_order_one(example_models, name):
    model = onnx.load(example_models[name]["float"])
    probes = [n.output[0] for n in model.graph.node if n.op_type in ("Clip", "Add")]
    model.graph.output.extend(helper.make_empty_tensor_value_info(p) for p in probes)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = image_to_real(calibration_images(2, seed=7)).transpose(0, 3, 1, 2)
    outputs = [session.run(None, {"image": xi[None]}) for xi in x]
    logits = np.stack([o[0] for o in outputs])
    assert logits.shape == (2, 1, NUM_CLASSES) and np.all(np.isfinite(logits))
    stds = [float(np.mean([o[i].std() for o in outputs])) for i in range(1, len(probes) + 1)]
    assert min(stds) > 0.05 and max(stds) < 5.0, f"activation std out of range: {min(stds):.3f}..{max(stds):.3f}"


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_int8_model_imports_with_the_architecture_and_runs_in_onnxruntime(example_models, name):
    arch = ARCHITECTURES[name]
    g = load_model(example_models[name]["int8"], require_int8=True)
    ops = [n.op for n in g.nodes]
    assert ops.count(OpKind.CONV2D) + ops.count(OpKind.DEPTHWISE_CONV2D) == arch.numbered_convs
    assert ops.count(OpKind.ADD) == arch.residual_adds
    assert ops[-2:] == [OpKind.GLOBAL_AVG_POOL, OpKind.FULLY_CONNECTED]
    assert g.tensors[g.inputs[0]].shape == (1, INPUT_SIZE, INPUT_SIZE, 3)
    session = ort.InferenceSession(example_models[name]["int8"], providers=["CPUExecutionProvider"])
    x = image_to_real(calibration_images(1, seed=7)).transpose(0, 3, 1, 2)
    (logits,) = session.run(None, {session.get_inputs()[0].name: x})
    assert logits.size == NUM_CLASSES and np.all(np.isfinite(logits.astype(np.float64)))
