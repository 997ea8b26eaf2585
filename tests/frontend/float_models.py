"""Small seeded float ONNX models built with onnx.helper, for the front-end tests.

`mobile_block_model()` is a miniature MobileNetV2: a 3x3 stride-2 conv with BatchNormalization
and ReLU, a 3x3 depthwise conv with ReLU6 (Clip), a 1x1 project conv, a residual Add, a 5x5
stride-2 depthwise conv (auto_pad SAME_UPPER) with ReLU6, a 1x1 expand conv with ReLU, a 2x2
average pool, a global average pool, a Flatten and a Gemm classifier.  `EXPECTED` lists, in
order, what each compute node must become in the IR, worked out by hand from the layer list.

`center_classifier(model, images)` sets the Gemm bias to -W @ mean(features) over `images`
(features from onnxruntime), so that random weights still spread natural images over several
classes instead of giving every image the same top-1.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

INPUT_HW = 32
N_CLASSES = 10

# (op kind, NHWC output shape, weight shape in the IR layout, clamp kind) in forward order.
EXPECTED = [
    ("CONV2D", (1, 16, 16, 8), (8, 3, 3, 3), "relu"),
    ("DEPTHWISE_CONV2D", (1, 16, 16, 8), (1, 3, 3, 8), "relu6"),
    ("CONV2D", (1, 16, 16, 8), (8, 1, 1, 8), None),
    ("ADD", (1, 16, 16, 8), None, None),
    ("DEPTHWISE_CONV2D", (1, 8, 8, 8), (1, 5, 5, 8), "relu6"),
    ("CONV2D", (1, 8, 8, 16), (16, 1, 1, 8), "relu"),
    ("AVG_POOL2D", (1, 4, 4, 16), None, None),
    ("GLOBAL_AVG_POOL", (1, 1, 1, 16), None, None),
    ("FULLY_CONNECTED", (1, N_CLASSES), (N_CLASSES, 16), None),
]


class _Maker:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def const(self, name: str, array) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def conv(self, name, x, cin, cout, k, stride, group=1, pads=None, auto_pad=None, std=None):
        std = std or np.sqrt(2.0 / (k * k * cin // group))
        w = self.const(f"{name}.w", (self.rng.normal(0, std, (cout, cin // group, k, k))).astype(np.float32))
        b = self.const(f"{name}.b", self.rng.normal(0, 0.1, cout).astype(np.float32))
        attrs = {"kernel_shape": [k, k], "strides": [stride, stride], "group": group}
        if auto_pad:
            attrs["auto_pad"] = auto_pad
        else:
            attrs["pads"] = pads if pads is not None else [k // 2] * 4
        self.nodes.append(helper.make_node("Conv", [x, w, b], [f"{name}.y"], name=name, **attrs))
        return f"{name}.y"

    def bn(self, name, x, c):
        args = [self.const(f"{name}.scale", self.rng.uniform(0.5, 1.5, c).astype(np.float32)),
                self.const(f"{name}.bias", self.rng.normal(0, 0.2, c).astype(np.float32)),
                self.const(f"{name}.mean", self.rng.normal(0, 0.2, c).astype(np.float32)),
                self.const(f"{name}.var", self.rng.uniform(0.5, 2.0, c).astype(np.float32))]
        self.nodes.append(helper.make_node("BatchNormalization", [x, *args], [f"{name}.y"], name=name, epsilon=1e-5))
        return f"{name}.y"

    def op(self, op_type, name, inputs, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, [f"{name}.y"], name=name, **attrs))
        return f"{name}.y"

    def relu6(self, name, x):
        return self.op("Clip", name, [x, self.const(f"{name}.lo", np.float32(0)), self.const(f"{name}.hi", np.float32(6))])


def mobile_block_model(seed: int = 0) -> onnx.ModelProto:
    m = _Maker(seed)
    x = "image"
    a = m.op("Relu", "stem.relu", [m.bn("stem.bn", m.conv("stem", x, 3, 8, 3, 2), 8)])
    h = m.relu6("dw1.relu6", m.conv("dw1", a, 8, 8, 3, 1, group=8))
    h = m.conv("pw1", h, 8, 8, 1, 1)
    r = m.op("Add", "add1", [a, h])
    h = m.relu6("dw2.relu6", m.conv("dw2", r, 8, 8, 5, 2, group=8, auto_pad="SAME_UPPER"))
    h = m.op("Relu", "pw2.relu", [m.conv("pw2", h, 8, 16, 1, 1)])
    h = m.op("AveragePool", "pool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = m.op("GlobalAveragePool", "gap", [h])
    h = m.op("Flatten", "flatten", [h], axis=1)
    fc_w = m.const("fc.w", m.rng.normal(0, 1.0, (N_CLASSES, 16)).astype(np.float32))
    fc_b = m.const("fc.b", m.rng.normal(0, 0.1, N_CLASSES).astype(np.float32))
    m.nodes.append(helper.make_node("Gemm", [h, fc_w, fc_b], ["logits"], name="fc", transB=1))
    graph = helper.make_graph(
        m.nodes, "mobile_block",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 3, INPUT_HW, INPUT_HW])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, N_CLASSES])], initializer=m.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def center_classifier(model: onnx.ModelProto, images_nchw: np.ndarray) -> onnx.ModelProto:
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(helper.make_tensor_value_info("flatten.y", TensorProto.FLOAT, [1, 16]))
    s = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    feats = np.concatenate([s.run(["flatten.y"], {"image": x[None]})[0] for x in images_nchw])
    inits = {t.name: t for t in model.graph.initializer}
    w = numpy_helper.to_array(inits["fc.w"])
    inits["fc.b"].CopyFrom(numpy_helper.from_array((-w @ feats.mean(0)).astype(np.float32), "fc.b"))
    return model
