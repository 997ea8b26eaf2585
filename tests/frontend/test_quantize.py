"""`tte quantize` and the QDQ import of its output, on the seeded miniature MobileNetV2.

Oracles: the hand-written layer list (`float_models.EXPECTED`), the int8 initializers in the
quantized file itself, and onnxruntime running the quantized and the float models.
"""

import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from click.testing import CliRunner
from onnx import numpy_helper

from tinyengine_compiler.cli import main
from tinyengine_compiler.errors import ConfigError
from tinyengine_compiler.frontend.inputs import image_to_real
from tinyengine_compiler.frontend.onnx_import import import_onnx
from tinyengine_compiler.ir import DType, OpKind
from tinyengine_compiler.quantize import fold_batch_norm, quantize_onnx

from ..sample_images import sample_images
from .float_models import EXPECTED, INPUT_HW, center_classifier, mobile_block_model

MODEL_SEED = 2   # a seed whose random classifier spreads the test images over six classes


def _nchw(images_u8):
    return image_to_real(images_u8).transpose(0, 3, 1, 2).copy()


def _ort(path, x_nchw, optimized=True):
    opts = ort.SessionOptions()
    if not optimized:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    return np.concatenate([s.run(None, {name: x[None]})[0] for x in x_nchw])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(float model path, int8 QDQ path written by `tte quantize`, calibration images)."""
    d = tmp_path_factory.mktemp("quantize")
    calib = sample_images(32, INPUT_HW, seed=0)
    float_path = str(d / "float.onnx")
    onnx.save(center_classifier(mobile_block_model(MODEL_SEED), _nchw(calib)), float_path)
    np.save(d / "calib.npy", calib)
    int8_path = str(d / "int8.onnx")
    r = CliRunner().invoke(main, ["quantize", float_path, "--calib", str(d / "calib.npy"), "-o", int8_path])
    assert r.exit_code == 0, r.output
    return float_path, int8_path, calib


@pytest.fixture(scope="module")
def test_images():
    return sample_images(100, INPUT_HW, seed=1)   # seed 0 made the calibration set


def _initializers(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def test_quantized_import_has_the_expected_layers(models):
    _, int8_path, _ = models
    g = import_onnx(int8_path)
    assert [(n.op.value, g.tensors[n.outputs[0]].shape) for n in g.nodes] == [(op, shape) for op, shape, _, _ in EXPECTED]
    x = g.tensors[g.inputs[0]]
    assert x.shape == (1, INPUT_HW, INPUT_HW, 3) and x.dtype == DType.INT8
    inits = _initializers(int8_path)
    for node, (_, _, w_shape, clamp) in zip(g.nodes, EXPECTED):
        out = g.tensors[node.outputs[0]]
        assert out.dtype == DType.INT8 and len(out.qparams.scale) == 1
        if w_shape is None:
            continue
        w, b = g.tensors[node.inputs[1]], g.tensors[node.inputs[2]]
        assert w.shape == w_shape and w.dtype == DType.INT8 and b.dtype == DType.INT32
        assert w.qparams.axis == {OpKind.DEPTHWISE_CONV2D: 3}.get(node.op, 0) and not any(w.qparams.zero_point)
        # the same integers as onnxruntime's quantized initializer, moved to the IR layout by index
        (onnx_w,) = [v for k, v in inits.items() if k.startswith(f"{node.name}.w") and k.endswith("_quantized")]
        for idx in np.ndindex(onnx_w.shape):
            if node.op == OpKind.CONV2D:
                o, i, h, k = idx
                assert w.data[o, h, k, i] == onnx_w[idx]
            elif node.op == OpKind.DEPTHWISE_CONV2D:
                c, _, h, k = idx
                assert w.data[0, h, k, c] == onnx_w[idx]
            else:
                assert w.data[idx] == onnx_w[idx]
        s_in = g.tensors[node.inputs[0]].qparams.scale[0]
        assert np.allclose(b.qparams.scale, s_in * np.asarray(w.qparams.scale), rtol=1e-6)
        if clamp:   # onnxruntime drops the ReLU into the output range: zero point -128 is real 0
            assert out.qparams.zero_point == (-128,) and node.attrs["act_min"] == -128


def test_quantized_model_agrees_with_float_model(models, test_images):
    float_path, int8_path, _ = models
    x = _nchw(test_images)
    ref = _ort(float_path, x).argmax(1)
    q = _ort(int8_path, x).argmax(1)
    assert len(np.unique(ref)) >= 3, "test needs images of several classes"
    assert np.mean(ref == q) >= 0.95


def test_reexported_import_runs_like_the_original_in_onnxruntime(models, test_images, tmp_path):
    """import_onnx then the lead's export_qdq must give back a model onnxruntime runs the same way."""
    from tinyengine_compiler.frontend.onnx_export import export_qdq

    _, int8_path, _ = models
    export_qdq(import_onnx(int8_path), str(tmp_path / "again.onnx"))
    x = _nchw(test_images[:30])
    original = _ort(int8_path, x, optimized=False)
    s = _initializers(int8_path)
    scale, zero = float(s["logits_scale"]), int(s["logits_zero_point"])
    original_q = np.round(original / scale).astype(int) + zero   # the DequantizeLinear output back to int8
    again = _ort(str(tmp_path / "again.onnx"), x, optimized=False).astype(int)
    assert np.mean(np.abs(original_q - again) <= 1) >= 0.99


def test_reference_interpreter_matches_onnxruntime(models, test_images):
    """Per op, each op fed onnxruntime's own int8 inputs: at most 1 LSB, and exact except where
    ORT's float average meets a rounding tie (pools; docs/numerics.md).  End to end the 1-LSB
    flips compound, so there the check is top-1 agreement with the float model."""
    from onnx import TensorProto, helper

    from tinyengine_compiler.reference.interp import run_graph
    import tinyengine_compiler.reference.ops  # noqa: F401  (registers the reference ops)
    from tinyengine_compiler.registry import REGISTRY

    float_path, int8_path, _ = models
    g = import_onnx(int8_path)
    model = onnx.load(int8_path)
    for node in g.nodes:
        model.graph.output.append(helper.make_tensor_value_info(node.outputs[0], TensorProto.INT8, None))
    s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    qp = g.tensors[g.inputs[0]].qparams

    def quantized(x_chw):   # the model's own QuantizeLinear, in NHWC
        q = np.round(x_chw.transpose(1, 2, 0) / np.float32(qp.scale[0])) + qp.zero_point[0]
        return np.clip(q, -128, 127).astype(np.int8)[None]

    for xi in _nchw(test_images[:10]):
        values = {o.name: (v.transpose(0, 2, 3, 1) if v.ndim == 4 else v)
                  for o, v in zip(s.get_outputs(), s.run(None, {s.get_inputs()[0].name: xi[None]}))}
        values[g.inputs[0]] = quantized(xi)
        for node in g.nodes:
            args = [values[i] if i in values else g.tensors[i].data for i in node.inputs]
            ours = REGISTRY[node.op].reference(g, node, *args).astype(int)
            theirs = values[node.outputs[0]].astype(int).reshape(ours.shape)
            assert np.abs(ours - theirs).max() <= 1, node.name
            if node.op not in (OpKind.AVG_POOL2D, OpKind.GLOBAL_AVG_POOL):
                assert np.mean(ours == theirs) >= 0.999, node.name
    x = _nchw(test_images)
    ours = np.stack([run_graph(g, quantized(xi)).reshape(-1) for xi in x])
    assert np.mean(ours.argmax(1) == _ort(float_path, x).argmax(1)) >= 0.95


@pytest.mark.parametrize("layout", ["folder", "nhwc_u8", "nchw_f32"])
def test_calibration_layouts_give_the_same_model(models, tmp_path, layout):
    float_path, int8_path, calib = models
    if layout == "folder":
        os.mkdir(tmp_path / "imgs")
        for i, im in enumerate(calib):
            np.save(tmp_path / "imgs" / f"{i:03d}.npy", im)
        source = str(tmp_path / "imgs")
    else:
        source = str(tmp_path / "calib.npy")
        np.save(source, calib if layout == "nhwc_u8" else _nchw(calib))
    quantize_onnx(float_path, source, str(tmp_path / "q.onnx"))
    a, b = _initializers(int8_path), _initializers(str(tmp_path / "q.onnx"))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_wrong_image_size_is_a_config_error_and_writes_nothing(models, tmp_path):
    float_path, _, _ = models
    np.save(tmp_path / "small.npy", np.zeros((2, 16, 16, 3), np.uint8))
    out = tmp_path / "out.onnx"
    out.write_bytes(b"previous")
    with pytest.raises(ConfigError, match=r"expected uint8 images of shape \(32, 32, 3\)"):
        quantize_onnx(float_path, str(tmp_path / "small.npy"), str(out))
    assert out.read_bytes() == b"previous" and set(os.listdir(tmp_path)) == {"small.npy", "out.onnx"}


def test_cli_reports_bad_calibration_on_one_line(models, tmp_path):
    float_path, _, _ = models
    r = CliRunner().invoke(main, ["quantize", float_path, "--calib", str(tmp_path / "nothing"), "-o",
                                  str(tmp_path / "o.onnx")])
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ") and "Traceback" not in r.output


def test_fold_batch_norm_keeps_the_float_function(tmp_path):
    model = mobile_block_model(0)
    folded = fold_batch_norm(model)
    assert "BatchNormalization" not in {n.op_type for n in folded.graph.node}
    onnx.save(model, tmp_path / "a.onnx")
    onnx.save(folded, tmp_path / "b.onnx")
    x = _nchw(sample_images(4, INPUT_HW, seed=5))
    assert np.allclose(_ort(str(tmp_path / "a.onnx"), x), _ort(str(tmp_path / "b.onnx"), x), rtol=1e-4, atol=1e-4)
