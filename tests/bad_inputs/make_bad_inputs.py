"""Regenerate the hostile-input corpus: malformed, unsupported and malicious model files.

Run `python tests/bad_inputs/make_bad_inputs.py [FOLDER]` (default: this folder).  The output
is deterministic: the same bytes every run (seeded data, fixed protobuf fields, fixed zip
timestamps), so the committed files can be checked against a fresh run.

`CASES` maps each file name to (builder, words the one-line error must contain, exit code).
Every builder returns the file's bytes.  The .pkl payloads are written with `pickle.dumps`,
which records the call without making it; nothing here ever unpickles them.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PWNED_MARKER = "/tmp/tte_pwned"


def _model(nodes, inputs, outputs, inits=(), check=True) -> bytes:
    graph = helper.make_graph(nodes, "bad", inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_bad_inputs")
    model.ir_version = 8
    if check:
        onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)


def _vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def _init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def _weights(shape, seed=0):
    return np.random.default_rng(seed).normal(0, 0.3, shape).astype(np.float32)


def _conv_model(input_shape=(1, 3, 8, 8), cout=4, group=1, **attrs) -> bytes:
    """x -> Conv 3x3 pad 1 -> y; the building block most cases below start from."""
    cin = input_shape[1] if isinstance(input_shape[1], int) else 3
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1], group=group, **attrs)]
    inits = [_init("w", _weights((cout, cin // group, 3, 3))), _init("b", np.zeros(cout, np.float32))]
    return _model(nodes, [_vi("x", list(input_shape))], [_vi("y", [None] * 4)], inits)


def truncated() -> bytes:
    return _conv_model()[:120]


def random_bytes() -> bytes:
    return np.random.default_rng(1234).integers(0, 256, 4096, dtype=np.uint8).tobytes()


def empty() -> bytes:
    return b""


def unknown_op() -> bytes:
    nodes = [helper.make_node("Softmax", ["x"], ["y"], name="softmax")]
    return _model(nodes, [_vi("x", [1, 3, 8, 8])], [_vi("y", [1, 3, 8, 8])])


def custom_domain_op() -> bytes:
    graph = helper.make_graph([helper.make_node("Pwn", ["x"], ["y"], name="evil", domain="com.evil")], "bad",
                              [_vi("x", [1, 3, 8, 8])], [_vi("y", [1, 3, 8, 8])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.evil", 1)])
    model.ir_version = 8
    return model.SerializeToString(deterministic=True)


def dynamic_batch() -> bytes:
    return _conv_model(input_shape=("N", 3, 8, 8))


def batch4() -> bytes:
    return _conv_model(input_shape=(4, 3, 8, 8))


def input_3d() -> bytes:
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    return _model(nodes, [_vi("x", [1, 3, 8])], [_vi("y", [1, 3, 8])])


def cycle() -> bytes:
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
             helper.make_node("Relu", ["a"], ["b"], name="relu_b")]
    return _model(nodes, [_vi("x", [1, 3, 8, 8])], [_vi("a", [1, 3, 8, 8])], check=False)


def missing_initializer() -> bytes:
    nodes = [helper.make_node("Conv", ["x", "w_missing", "b"], ["y"], name="conv", kernel_shape=[3, 3])]
    return _model(nodes, [_vi("x", [1, 3, 8, 8])], [_vi("y", [None] * 4)], [_init("b", np.zeros(4, np.float32))],
                  check=False)


def flatten_spatial() -> bytes:
    """A flattened spatial map read by an Add: only a Gemm/MatMul classifier may read one."""
    nodes = [helper.make_node("Flatten", ["x"], ["f"], name="flatten", axis=1),
             helper.make_node("Add", ["f", "f"], ["y"], name="add")]
    return _model(nodes, [_vi("x", [1, 3, 4, 4])], [_vi("y", [1, 48])], [])


def weight_zero_point() -> bytes:
    """A QDQ conv whose int8 weights have zero point 3: asymmetric weights."""
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="x.q"),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xf"], name="x.dq"),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wf"], name="w.dq", axis=0),
             helper.make_node("Conv", ["xf", "wf"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("QuantizeLinear", ["y", "ys", "yz"], ["yq"], name="y.q")]
    wq = np.random.default_rng(2).integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    inits = [_init("xs", np.float32(0.02)), _init("xz", np.int8(0)), _init("wq", wq),
             _init("ws", np.full(4, 0.01, np.float32)), _init("wz", np.full(4, 3, np.int8)),
             _init("ys", np.float32(0.05)), _init("yz", np.int8(-5))]
    return _model(nodes, [_vi("x", [1, 3, 8, 8])], [_vi("yq", [1, 4, 8, 8], TensorProto.INT8)], inits)


def two_inputs() -> bytes:
    nodes = [helper.make_node("Add", ["x1", "x2"], ["y"], name="add")]
    return _model(nodes, [_vi("x1", [1, 3, 8, 8]), _vi("x2", [1, 3, 8, 8])], [_vi("y", [1, 3, 8, 8])])


def two_outputs() -> bytes:
    nodes = [helper.make_node("Relu", ["x"], ["y1"], name="relu1"), helper.make_node("Relu", ["x"], ["y2"], name="relu2")]
    return _model(nodes, [_vi("x", [1, 3, 8, 8])], [_vi("y1", [1, 3, 8, 8]), _vi("y2", [1, 3, 8, 8])])


def dilation2() -> bytes:
    return _conv_model(dilations=[2, 2])


def grouped_conv() -> bytes:
    return _conv_model(input_shape=(1, 8, 8, 8), cout=8, group=2)


def shape_mismatch() -> bytes:
    """Add of a 3-channel and a 4-channel tensor: no broadcast exists, shape inference must refuse."""
    nodes = [helper.make_node("Add", ["x", "c"], ["y"], name="add")]
    return _model(nodes, [_vi("x", [1, 3, 8, 8])], [_vi("y", [None] * 4)], [_init("c", _weights((1, 4, 8, 8)))],
                  check=False)


def channel_mismatch() -> bytes:
    """Conv weights for 5 input channels on a 3-channel image (ONNX's inference lets this through)."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])]
    return _model(nodes, [_vi("x", [1, 3, 8, 8])], [_vi("y", [None] * 4)], [_init("w", _weights((4, 5, 3, 3)))],
                  check=False)


def external_data() -> bytes:
    """A weight that claims to live in /etc/passwd: must be refused, never read."""
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 3, 3, 3], data_location=TensorProto.EXTERNAL)
    for k, v in (("location", "../../../../../../etc/passwd"), ("offset", "0"), ("length", "432")):
        w.external_data.add(key=k, value=v)
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])]
    return _model(nodes, [_vi("x", [1, 3, 8, 8])], [_vi("y", [None] * 4)], [w], check=False)


class _RunsShellCommand:
    """Pickles as a call to os.system; `pickle.dumps` only records the call."""

    def __reduce__(self):
        return (os.system, (f"echo pwned > {PWNED_MARKER}",))


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2022, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def pwned_pkl() -> bytes:
    """The paper's archive layout (`*/data.pkl` in a zip) with a payload that calls os.system."""
    return _zip({"archive/data.pkl": pickle.dumps({"first_conv": _RunsShellCommand()}, protocol=2)})


def pwned_raw_pkl() -> bytes:
    """The same payload as a bare pickle, not inside a zip."""
    return pickle.dumps(_RunsShellCommand(), protocol=2)


CASES = {
    "truncated.onnx": (truncated, "not an ONNX model", 1),
    "random_bytes.onnx": (random_bytes, "not an ONNX model", 1),
    "empty.onnx": (empty, "empty file", 1),
    "unknown_op_softmax.onnx": (unknown_op, "op 'Softmax' is not supported", 1),
    "custom_domain_op.onnx": (custom_domain_op, "op 'com.evil.Pwn' is not supported", 1),
    "dynamic_batch.onnx": (dynamic_batch, "dynamic dimension 'N'", 1),
    "batch4.onnx": (batch4, "batch 4", 1),
    "input_3d.onnx": (input_3d, "rank 3", 1),
    "cycle.onnx": (cycle, "cycle", 1),
    "missing_initializer.onnx": (missing_initializer, "reads 'w_missing'", 1),
    "flatten_spatial.onnx": (flatten_spatial, "flattened spatial map", 1),
    "weight_zero_point.onnx": (weight_zero_point, "zero points must be 0", 1),
    "two_inputs.onnx": (two_inputs, "2 inputs", 1),
    "two_outputs.onnx": (two_outputs, "2 outputs", 1),
    "dilation2.onnx": (dilation2, "dilations", 1),
    "grouped_conv.onnx": (grouped_conv, "group 2", 1),
    "shape_mismatch.onnx": (shape_mismatch, "shape inference failed", 1),
    "channel_mismatch.onnx": (channel_mismatch, "input has 3 channels, weights expect 5", 1),
    "external_data.onnx": (external_data, "external data", 1),
    "pwned.pkl": (pwned_pkl, "refusing to unpickle", 1),
    "pwned_raw.pkl": (pwned_raw_pkl, "not a readable model archive", 1),
}


def main(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    for name, (build, _, _) in CASES.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(build())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
