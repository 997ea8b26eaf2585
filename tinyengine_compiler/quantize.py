"""`tte quantize`: float ONNX model + calibration images -> QDQ int8 ONNX model.

Takes a float model that the front end accepts and calibration images of the model's input
size, and writes the model as onnxruntime's `quantize_static` quantizes it (QDQ format,
per-channel symmetric int8 weights, asymmetric int8 activations, MinMax calibration), in the
form `frontend.onnx_import` reads back.  BatchNormalization is folded into the Conv before it
first, and a MatMul followed by an Add of a constant becomes one Gemm, so that neither leaves a
separately quantized parameter or intermediate.  The output is
written to a temporary file and renamed: a failure never leaves a partial model.

Calibration data: a folder of .npy files (uint8 HxWx3 each; also .png/.jpg when Pillow is
installed), or one .npy holding uint8 (N, H, W, 3) images or float32 (N, 3, H, W) model
inputs.  uint8 pixels are normalized with `frontend.inputs.image_to_real`.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

from .datasets.images import image_files, read_array, read_image
from .errors import ConfigError, ModelFormatError, TteError
from .frontend.inputs import image_to_real
from .frontend.onnx_checks import load_checked
from .frontend.onnx_import import SUPPORTED_OPS, import_onnx
from .frontend.onnx_rules import fold_bn, is_channel_addend


def quantize_onnx(float_path: str, calib: str, out_path: str) -> None:
    """Write the QDQ int8 form of the float model at `float_path` to `out_path` (module docstring)."""
    g = import_onnx(float_path)
    x = g.tensors[g.inputs[0]]
    if x.qparams is not None:
        raise ConfigError(f"{float_path}: the model is already quantized")
    _, h, w, c = x.shape
    batches = load_calibration(calib, (c, h, w))
    model, _ = load_checked(float_path, SUPPORTED_OPS)
    input_name = next(v.name for v in model.graph.input if v.name not in {t.name for t in model.graph.initializer})
    folder = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".tte-quantize-") as tmp:
        folded = os.path.join(tmp, "folded.onnx")
        onnx.save(fuse_matmul_add(fold_batch_norm(model)), folded)
        result = os.path.join(tmp, "quantized.onnx")
        _quantize_static(folded, result, input_name, batches)
        os.replace(result, out_path)


def _quantize_static(src: str, dst: str, input_name: str, batches: np.ndarray) -> None:
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    class _Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(batches)

        def get_next(self):
            item = next(self.items, None)
            return None if item is None else {input_name: item[None]}

    try:
        quantize_static(src, dst, _Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
    except TteError:
        raise
    except Exception as e:
        raise ModelFormatError(f"onnxruntime could not quantize the model ({type(e).__name__}: {e})") from None


def load_calibration(calib: str, chw: tuple[int, int, int]) -> np.ndarray:
    """float32 (N, C, H, W) model inputs from a calibration folder or array; N >= 1."""
    if os.path.isdir(calib):
        files = image_files(calib)
        if not files:
            raise ConfigError(f"{calib}: no .npy, .png or .jpg calibration images in the folder")
        images = [_to_nchw(read_image(os.path.join(calib, f)), chw, os.path.join(calib, f)) for f in files]
        return np.concatenate(images)
    if os.path.isfile(calib) and calib.endswith(".npy"):
        return _to_nchw(read_array(calib), chw, calib)
    raise ConfigError(f"{calib}: calibration data must be a folder of images or one .npy file")


def _to_nchw(a: np.ndarray, chw: tuple[int, int, int], path: str) -> np.ndarray:
    """uint8 HWC / NHWC images or float32 NCHW inputs -> float32 NCHW, checking the size."""
    c, h, w = chw
    if a.dtype == np.uint8 and a.shape[-3:] == (h, w, c) and a.ndim in (3, 4):
        return image_to_real(a.reshape(-1, h, w, c)).transpose(0, 3, 1, 2).copy()
    if a.dtype == np.float32 and a.ndim == 4 and a.shape[1:] == (c, h, w) and len(a):
        if not np.all(np.isfinite(a)):
            raise ConfigError(f"{path}: calibration inputs contain NaN or infinity")
        return a
    raise ConfigError(f"{path}: expected uint8 images of shape ({h}, {w}, {c}) (or N of them) or float32 "
                      f"inputs of shape (N, {c}, {h}, {w}), got {a.dtype} {a.shape}; images are not resized")


def fold_batch_norm(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` with each BatchNormalization that follows a Conv folded into it.

    Only a BatchNormalization that is the sole reader of a Conv's output, with constant
    parameters and weight, is folded; anything else is left for the front end to refuse.
    """
    m = onnx.ModelProto()
    m.CopyFrom(model)
    graph = m.graph
    inits = {t.name: t for t in graph.initializer}
    readers: dict[str, int] = {}
    for n in graph.node:
        for i in n.input:
            readers[i] = readers.get(i, 0) + 1
    made_by = {n.output[0]: n for n in graph.node if n.output}
    dropped = []
    for bn in graph.node:
        conv = made_by.get(bn.input[0]) if bn.op_type == "BatchNormalization" else None
        names = list(bn.input[1:5]) + (list(conv.input[1:]) if conv is not None else [])
        if conv is None or conv.op_type != "Conv" or readers[bn.input[0]] != 1 or not all(n in inits for n in names):
            continue
        _fold_into(conv, bn, inits, graph)
        conv.output[0] = bn.output[0]
        dropped.append(bn)
    for bn in dropped:
        graph.node.remove(bn)
    _drop_unused_initializers(graph)
    return m


def fuse_matmul_add(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` where each MatMul with a constant [in, out] weight whose output only an
    Add of a constant [out] (or scalar) reads is one Gemm with that bias: the same float
    function, quantized as one op."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    graph = m.graph
    inits = {t.name: t for t in graph.initializer}
    readers: dict[str, list] = {}
    for n in graph.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    for mm in [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in inits]:
        adds = readers.get(mm.output[0], [])
        if len(adds) != 1 or adds[0].op_type != "Add" or len(inits[mm.input[1]].dims) != 2:
            continue
        add = adds[0]
        bias = next((i for i in add.input if i in inits and i != mm.output[0]), None)
        out = inits[mm.input[1]].dims[1]
        if bias is None or not is_channel_addend(inits[bias].dims, out, conv=False):
            continue
        b = np.broadcast_to(numpy_helper.to_array(inits[bias]).astype(np.float32).reshape(-1), (out,))
        b_name = f"{add.output[0]}.gemm_bias"
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(b), b_name))
        gemm = onnx.helper.make_node("Gemm", [mm.input[0], mm.input[1], b_name], [add.output[0]], name=mm.name)
        graph.node.insert(list(graph.node).index(mm), gemm)
        graph.node.remove(mm)
        graph.node.remove(add)
    _drop_unused_initializers(graph)
    return m


def _fold_into(conv, bn, inits: dict, graph) -> None:
    """Point the Conv at new weight and bias initializers that include the BN."""
    gamma, beta, mean, var = (numpy_helper.to_array(inits[n]) for n in bn.input[1:5])
    w = numpy_helper.to_array(inits[conv.input[1]])
    b = numpy_helper.to_array(inits[conv.input[2]]) if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0])
    eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
    w, b = fold_bn(w, b, 0, gamma, beta, mean, var, eps)
    w_name, b_name = f"{conv.input[1]}.bn_folded", f"{bn.output[0]}.bias_folded"
    graph.initializer.extend([numpy_helper.from_array(w, w_name), numpy_helper.from_array(b, b_name)])
    del conv.input[1:]
    conv.input.extend([w_name, b_name])


def _drop_unused_initializers(graph) -> None:
    used = {i for n in graph.node for i in n.input}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
