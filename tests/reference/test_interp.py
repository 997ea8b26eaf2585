"""run_graph / run_graph_all on a small hand-built network, against onnxruntime running the same
graph exported to QDQ ONNX (frontend/onnx_export), plus the executor's contract and errors."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from tinyengine_compiler.errors import ConfigError, UnsupportedError
from tinyengine_compiler.frontend.onnx_export import to_onnx
from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor
from tinyengine_compiler.ir.verify import verify
from tinyengine_compiler.reference.interp import run_graph, run_graph_all
import tinyengine_compiler.reference.ops  # noqa: F401  (registers the reference ops)
from tinyengine_compiler.registry import REGISTRY


def _act(name, shape, scale, zero):
    return Tensor(name, shape, DType.INT8, QParams.make(scale, zero))


def _weights(rng, name, shape, axis, s_in):
    n = shape[axis]
    s_w = np.float32(0.01) * rng.uniform(0.5, 1.5, n).astype(np.float32)
    w = Tensor(f"{name}.w", shape, DType.INT8, QParams.make(s_w, 0, axis),
               rng.integers(-127, 128, shape).astype(np.int8))
    b = Tensor(f"{name}.b", (n,), DType.INT32, QParams.make(np.float32(s_in) * s_w, 0, 0),
               rng.integers(-3000, 3001, n).astype(np.int32))
    return [w, b]


def _mobile_block(seed=0) -> Graph:
    """conv3x3/2 + ReLU -> expand 1x1 + ReLU -> depthwise 5x5 + ReLU -> project 1x1 -> residual
    ADD -> global average pool -> fully connected: the paper models' block structure."""
    rng = np.random.default_rng(seed)
    t = [_act("x", (1, 16, 16, 3), 1 / 127.5, 0),
         _act("c0", (1, 8, 8, 8), 0.04, -128), _act("c1", (1, 8, 8, 24), 0.05, -128),
         _act("c2", (1, 8, 8, 24), 0.06, -128), _act("c3", (1, 8, 8, 8), 0.09, 7),
         _act("sum", (1, 8, 8, 8), 0.1, -20), _act("pool", (1, 1, 1, 8), 0.1, -20),
         _act("logits", (1, 40), 0.15, 3)]
    t += _weights(rng, "conv0", (8, 3, 3, 3), 0, 1 / 127.5) + _weights(rng, "expand", (24, 1, 1, 8), 0, 0.04)
    t += _weights(rng, "dw", (1, 5, 5, 24), 3, 0.05) + _weights(rng, "project", (8, 1, 1, 24), 0, 0.06)
    t += _weights(rng, "fc", (40, 8), 0, 0.1)
    relu = {"act_min": -128, "act_max": 127}
    nodes = [
        Node("conv0", OpKind.CONV2D, ["x", "conv0.w", "conv0.b"], ["c0"], {"stride": (2, 2), "pads": (0, 0, 1, 1), **relu}),
        Node("expand", OpKind.CONV2D, ["c0", "expand.w", "expand.b"], ["c1"], {"stride": (1, 1), "pads": (0, 0, 0, 0), **relu}),
        Node("dw", OpKind.DEPTHWISE_CONV2D, ["c1", "dw.w", "dw.b"], ["c2"], {"stride": (1, 1), "pads": (2, 2, 2, 2), **relu}),
        Node("project", OpKind.CONV2D, ["c2", "project.w", "project.b"], ["c3"], {"stride": (1, 1), "pads": (0, 0, 0, 0), **relu}),
        Node("add", OpKind.ADD, ["c0", "c3"], ["sum"], dict(relu)),
        Node("pool", OpKind.GLOBAL_AVG_POOL, ["sum"], ["pool"], {}),
        Node("fc", OpKind.FULLY_CONNECTED, ["pool", "fc.w", "fc.b"], ["logits"], dict(relu)),
    ]
    return verify(Graph("block", {x.name: x for x in t}, nodes, ["x"], ["logits"]))


def _ort_all(g: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every int8 activation from onnxruntime (plain QDQ, no fusion), NHWC."""
    model = to_onnx(g)
    names = [n.outputs[0] for n in g.nodes if n.outputs[0] != g.outputs[0]]
    model.graph.output.extend(helper.make_tensor_value_info(n, TensorProto.INT8, None) for n in names)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    real = (x.astype(np.float32) * np.float32(g.tensors["x"].qparams.scale[0])).transpose(0, 3, 1, 2)
    outs = s.run(None, {s.get_inputs()[0].name: real})
    return {o.name: (v.transpose(0, 2, 3, 1) if v.ndim == 4 else v) for o, v in zip(s.get_outputs(), outs)}


def test_every_activation_matches_onnxruntime_layer_by_layer():
    g = _mobile_block()
    rng = np.random.default_rng(1)
    diffs = []
    for _ in range(3):
        x = rng.integers(-128, 128, (1, 16, 16, 3)).astype(np.int8)
        ours = run_graph_all(g, x)
        theirs = _ort_all(g, x)
        for node in g.nodes:
            # feed onnxruntime's own input to each op, so one layer's 1-LSB flips don't cascade
            args = [x if i == "x" else theirs.get(i, ours[i]) for i in node.inputs]
            mine = REGISTRY[node.op].reference(g, node, *args).reshape(g.tensors[node.outputs[0]].shape)
            d = mine.astype(int) - theirs[node.outputs[0]]
            assert np.abs(d).max() <= 1, node.name
            diffs.append(d.ravel())
        # end to end, flips compound: one pooled channel off by 1 LSB moves many logits
        assert np.abs(ours["logits"].astype(int) - theirs["logits"]).max() <= 2
    assert np.mean(np.concatenate(diffs) == 0) >= 0.99


def test_run_graph_all_returns_every_tensor_and_run_graph_the_output():
    g = _mobile_block()
    x = np.random.default_rng(2).integers(-128, 128, (1, 16, 16, 3)).astype(np.int8)
    values = run_graph_all(g, x)
    assert set(values) == set(g.tensors)
    for name, t in g.tensors.items():
        assert values[name].shape == t.shape and values[name].dtype == t.dtype.numpy, name
    assert np.array_equal(run_graph(g, x), values["logits"])
    assert values["c0"].min() == -128  # the ReLU clamp is active in this network


def test_wrong_input_is_a_config_error():
    g = _mobile_block()
    with pytest.raises(ConfigError, match=r"int8 of shape \[1, 16, 16, 3\]"):
        run_graph(g, np.zeros((1, 16, 16, 3), np.uint8))
    with pytest.raises(ConfigError):
        run_graph(g, np.zeros((16, 16, 3), np.int8))


def test_float_graph_is_unsupported():
    g = _mobile_block()
    g.tensors["x"] = Tensor("x", (1, 16, 16, 3), DType.FLOAT32)
    with pytest.raises(UnsupportedError, match="int8 graphs only"):
        run_graph(g, np.zeros((1, 16, 16, 3), np.float32))
