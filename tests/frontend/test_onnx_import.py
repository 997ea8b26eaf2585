"""ONNX -> IR on small hand-built models: layouts, pads, clamps and biases against hand-computed
values, and BatchNormalization folding against onnxruntime running the unfolded model."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tinyengine_compiler.errors import UnsupportedError
from tinyengine_compiler.frontend.onnx_import import import_onnx
from tinyengine_compiler.ir import DType, OpKind


def _save(tmp_path, nodes, inputs, outputs, inits, name="m.onnx"):
    graph = helper.make_graph(nodes, "t", inputs, outputs, initializer=[numpy_helper.from_array(np.asarray(v), k)
                                                                        for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = str(tmp_path / name)
    onnx.save(model, path)
    return path


def _vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def _qdq_conv(tmp_path, *, act="clip", y_scale=0.05, y_zero=-10, group=1, bias=None, bias_scale_factor=1.0):
    """image -Q(0.02, 0)-> DQ -> Conv(int8 per-channel weights) -> [Relu|Clip(0, 6)] -> Q(y_scale, y_zero)."""
    rng = np.random.default_rng(7)
    cin, cout = 4, 4
    wq = rng.integers(-127, 128, (cout, cin // group, 3, 3)).astype(np.int8)
    ws = np.array([0.01, 0.02, 0.03, 0.04], np.float32)
    inits = {"xs": np.float32(0.02), "xz": np.int8(0), "wq": wq, "ws": ws, "wz": np.zeros(cout, np.int8),
             "ys": np.float32(y_scale), "yz": np.int8(y_zero), "lo": np.float32(0), "hi": np.float32(6)}
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="x.q"),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xf"], name="x.dq"),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wf"], name="w.dq", axis=0)]
    conv_in = ["xf", "wf"]
    if bias is not None:
        inits.update(bq=bias, bs=(np.float32(0.02) * ws * np.float32(bias_scale_factor)).astype(np.float32),
                     bz=np.zeros(cout, np.int32))
        if bias.dtype == np.int32:
            nodes.append(helper.make_node("DequantizeLinear", ["bq", "bs", "bz"], ["bf"], name="b.dq", axis=0))
            conv_in.append("bf")
        else:
            conv_in.append("bq")
    nodes.append(helper.make_node("Conv", conv_in, ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                  group=group))
    if act == "clip":
        nodes.append(helper.make_node("Clip", ["c", "lo", "hi"], ["a"], name="relu6"))
    elif act == "relu":
        nodes.append(helper.make_node("Relu", ["c"], ["a"], name="relu"))
    else:
        nodes.append(helper.make_node("Identity", ["c"], ["a"], name="id"))
    nodes.append(helper.make_node("QuantizeLinear", ["a", "ys", "yz"], ["y"], name="y.q"))
    path = _save(tmp_path, nodes, [_vi("x", [1, cin, 6, 6])], [_vi("y", [1, cout, 6, 6], TensorProto.INT8)], inits)
    return path, wq, ws


@pytest.mark.parametrize("act, y_scale, y_zero, expected", [
    ("clip", 0.05, -10, (-10, 110)),      # zp + round(0/0.05) = -10; -10 + round(6/0.05) = 110
    ("clip", 0.01, -128, (-128, 127)),    # 6/0.01 = 600 saturates at 127
    ("relu", 0.1, 5, (5, 127)),
    ("none", 0.1, 5, (-128, 127)),
])
def test_qdq_activation_folds_into_int8_clamp(tmp_path, act, y_scale, y_zero, expected):
    path, _, _ = _qdq_conv(tmp_path, act=act, y_scale=y_scale, y_zero=y_zero)
    g = import_onnx(path)
    (node,) = g.nodes
    assert (node.attrs["act_min"], node.attrs["act_max"]) == expected
    out = g.tensors[g.outputs[0]]
    assert out.dtype == DType.INT8 and out.shape == (1, 6, 6, 4)
    assert out.qparams.scale[0] == pytest.approx(y_scale) and out.qparams.zero_point == (y_zero,)


def test_qdq_conv_weights_become_ohwi_with_per_channel_scales(tmp_path):
    path, wq, ws = _qdq_conv(tmp_path)
    g = import_onnx(path)
    x = g.tensors[g.inputs[0]]
    assert x.shape == (1, 6, 6, 4) and x.dtype == DType.INT8 and x.qparams.scale[0] == pytest.approx(0.02)
    w = g.tensors[g.nodes[0].inputs[1]]
    assert g.nodes[0].op == OpKind.CONV2D and w.shape == (4, 3, 3, 4) and w.dtype == DType.INT8
    for o, i, h, k in np.ndindex(wq.shape):
        assert w.data[o, h, k, i] == wq[o, i, h, k]
    assert w.qparams.axis == 0 and np.allclose(w.qparams.scale, ws) and not any(w.qparams.zero_point)
    b = g.tensors[g.nodes[0].inputs[2]]
    assert b.dtype == DType.INT32 and list(b.data) == [0, 0, 0, 0]   # no bias in the model
    assert np.allclose(b.qparams.scale, 0.02 * ws, rtol=1e-6)


def test_qdq_depthwise_weights_become_1hwc_axis_3(tmp_path):
    path, wq, ws = _qdq_conv(tmp_path, group=4)
    g = import_onnx(path)
    node = g.nodes[0]
    w = g.tensors[node.inputs[1]]
    assert node.op == OpKind.DEPTHWISE_CONV2D and w.shape == (1, 3, 3, 4)
    for c, _, h, k in np.ndindex(wq.shape):
        assert w.data[0, h, k, c] == wq[c, 0, h, k]
    assert w.qparams.axis == 3 and np.allclose(w.qparams.scale, ws)


def test_qdq_bias_kept_requantized_or_quantized(tmp_path):
    ints = np.array([100, -7, 0, 3000], np.int32)
    g = import_onnx(_qdq_conv(tmp_path, bias=ints)[0])
    assert list(g.tensors[g.nodes[0].inputs[2]].data) == [100, -7, 0, 3000]
    # stored at twice the scale the kernel uses: each integer doubles
    g = import_onnx(_qdq_conv(tmp_path, bias=ints, bias_scale_factor=2.0)[0])
    assert list(g.tensors[g.nodes[0].inputs[2]].data) == [200, -14, 0, 6000]
    # a float bias is quantized at s_in * s_w = 0.02 * [0.01, 0.02, 0.03, 0.04]
    real = np.array([0.001, -0.002, 0.0, 0.0502], np.float32)
    g = import_onnx(_qdq_conv(tmp_path, bias=real)[0])
    assert list(g.tensors[g.nodes[0].inputs[2]].data) == [5, -5, 0, 63]   # 0.0502 / 0.0008 = 62.75


def _float_conv(tmp_path, hw=8, k=3, stride=2, **attrs):
    w = np.random.default_rng(0).normal(size=(2, 3, k, k)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[k, k], strides=[stride, stride],
                              **attrs)]
    return _save(tmp_path, nodes, [_vi("x", [1, 3, hw, hw])], [_vi("y", [None] * 4)], {"w": w})


@pytest.mark.parametrize("attrs, pads, out_hw", [
    # 8x8, k3, s2: out 4, total padding (4-1)*2 + 3 - 8 = 1, the odd pixel at the end for SAME_UPPER
    ({"auto_pad": "SAME_UPPER"}, (0, 0, 1, 1), (4, 4)),
    ({"auto_pad": "SAME_LOWER"}, (1, 1, 0, 0), (4, 4)),
    ({"auto_pad": "VALID"}, (0, 0, 0, 0), (3, 3)),
    # [top, left, bottom, right]: rows (8+1+0-3)//2+1 = 4, columns (8+2+1-3)//2+1 = 5
    ({"auto_pad": "NOTSET", "pads": [1, 2, 0, 1]}, (1, 2, 0, 1), (4, 5)),
    ({}, (0, 0, 0, 0), (3, 3)),
])
def test_conv_pads(tmp_path, attrs, pads, out_hw):
    g = import_onnx(_float_conv(tmp_path, **attrs))
    (node,) = g.nodes
    assert node.attrs["pads"] == pads and node.attrs["stride"] == (2, 2)
    assert g.tensors[g.outputs[0]].shape[1:3] == out_hw


@pytest.mark.parametrize("op, attrs, stored", [("Gemm", {"transB": 1}, "out_in"), ("Gemm", {}, "in_out"),
                                               ("MatMul", {}, "in_out")])
def test_fully_connected_weight_is_out_in(tmp_path, op, attrs, stored):
    w_out_in = np.arange(12, dtype=np.float32).reshape(3, 4)
    w = w_out_in if stored == "out_in" else w_out_in.T.copy()
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"], name="gap"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node(op, ["f", "w"], ["y"], name="fc", **attrs)]
    g = import_onnx(_save(tmp_path, nodes, [_vi("x", [1, 4, 5, 5])], [_vi("y", [1, 3])], {"w": w}))
    assert [n.op for n in g.nodes] == [OpKind.GLOBAL_AVG_POOL, OpKind.FULLY_CONNECTED]
    fc = g.nodes[1]
    assert fc.inputs[0] == g.nodes[0].outputs[0]   # the Flatten is a no-op on 1x1 spatial
    assert np.array_equal(g.tensors[fc.inputs[1]].data, w_out_in)
    assert list(g.tensors[fc.inputs[2]].data) == [0, 0, 0]


def test_batch_norm_folds_into_conv_like_onnxruntime_computes_it(tmp_path):
    """On a 1x1 image a 1x1 conv is W @ x + b; onnxruntime runs the unfolded Conv + BN.  (Being
    the logits, the 1x1 conv on a 1x1 map is the classifier, a FULLY_CONNECTED in the IR.)"""
    rng = np.random.default_rng(3)
    inits = {"w": rng.normal(size=(5, 3, 1, 1)).astype(np.float32), "b": rng.normal(size=5).astype(np.float32),
             "gamma": rng.uniform(0.5, 2, 5).astype(np.float32), "beta": rng.normal(size=5).astype(np.float32),
             "mean": rng.normal(size=5).astype(np.float32), "var": rng.uniform(0.2, 3, 5).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[1, 1]),
             helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["y"], name="bn",
                              epsilon=1e-3)]
    path = _save(tmp_path, nodes, [_vi("x", [1, 3, 1, 1])], [_vi("y", [1, 5, 1, 1])], inits)
    g = import_onnx(path)
    (node,) = g.nodes
    assert node.op == OpKind.FULLY_CONNECTED and g.tensors[node.outputs[0]].dtype == DType.FLOAT32
    x = rng.normal(size=(1, 3, 1, 1)).astype(np.float32)
    expected = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0].reshape(5)
    w, b = g.tensors[node.inputs[1]].data, g.tensors[node.inputs[2]].data
    assert np.allclose(w.reshape(5, 3) @ x.reshape(3) + b, expected, rtol=1e-5, atol=1e-5)


def test_relu_that_cannot_fuse_is_a_clip_table(tmp_path):
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"], name="gap"),
             helper.make_node("Relu", ["p"], ["y"], name="lonely_relu")]
    path = _save(tmp_path, nodes, [_vi("x", [1, 4, 5, 5])], [_vi("y", [1, 4, 1, 1])], {})
    g = import_onnx(path)
    node = g.node("lonely_relu")
    assert node.op == OpKind.LUT and (node.attrs["function"], node.attrs["lo"], node.attrs["hi"]) == ("clip", 0.0, None)


def test_conv_output_read_twice_is_not_fused_into_one_readers_relu(tmp_path):
    w = np.ones((3, 3, 1, 1), np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Add", ["c", "r"], ["y"], name="add")]
    path = _save(tmp_path, nodes, [_vi("x", [1, 3, 4, 4])], [_vi("y", [1, 3, 4, 4])], {"w": w})
    g = import_onnx(path)   # fusing the Relu into the conv would change what Add reads: a table instead
    conv, relu, add = g.nodes
    assert (conv.op, relu.op, add.op) == (OpKind.CONV2D, OpKind.LUT, OpKind.ADD)
    assert add.inputs == [conv.outputs[0], relu.outputs[0]] and relu.inputs == [conv.outputs[0]]


def _product_model(tmp_path, b_kind):
    """y = b * a, a = Relu(x) [1, 4, 3, 3] and b: its global pool ("pool", [1, 4, 1, 1]), a
    one-channel conv of it ("one_channel", [1, 1, 3, 3]) or HardSigmoid(a) ("hsig")."""
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="relu")]
    inits = {}
    if b_kind == "pool":
        nodes.append(helper.make_node("GlobalAveragePool", ["a"], ["b"], name="pool"))
    elif b_kind == "one_channel":
        inits["w"] = np.ones((1, 4, 1, 1), np.float32)
        nodes.append(helper.make_node("Conv", ["a", "w"], ["b"], name="conv", kernel_shape=[1, 1]))
    else:
        nodes.append(helper.make_node("HardSigmoid", ["a"], ["b"], name="hsig", alpha=0.25, beta=0.5))
    nodes.append(helper.make_node("Mul", ["b", "a"], ["y"], name="mul"))
    return _save(tmp_path, nodes, [_vi("x", [1, 4, 3, 3])], [_vi("y", [1, 4, 3, 3])], inits)


def test_mul_puts_the_broadcast_operand_second(tmp_path):
    g = import_onnx(_product_model(tmp_path, "pool"))
    mul = g.node("mul")
    assert mul.op == OpKind.MUL and [g.tensors[i].shape for i in mul.inputs] == [(1, 3, 3, 4), (1, 1, 1, 4)]


def test_mul_of_x_and_its_hard_sigmoid_is_one_table(tmp_path):
    g = import_onnx(_product_model(tmp_path, "hsig"))
    assert [n.op for n in g.nodes] == [OpKind.LUT, OpKind.LUT]   # relu (a clip table), then x * hs(x)
    fused = g.node("mul")
    assert (fused.attrs["function"], fused.attrs["alpha"], fused.attrs["beta"]) == ("mul_hardsigmoid", 0.25, 0.5)


@pytest.mark.parametrize("op, attrs, expected", [
    ("LeakyRelu", {"alpha": 0.2}, {"function": "leakyrelu", "alpha": 0.2}),
    ("LeakyRelu", {}, {"function": "leakyrelu", "alpha": 0.01}),       # ONNX's default alpha
    ("HardSigmoid", {}, {"function": "hardsigmoid", "alpha": 0.2, "beta": 0.5}),
    ("Sigmoid", {}, {"function": "sigmoid"}), ("Tanh", {}, {"function": "tanh"})])
def test_element_wise_activations_are_tables(tmp_path, op, attrs, expected):
    nodes = [helper.make_node(op, ["x"], ["y"], name="act", **attrs)]
    g = import_onnx(_save(tmp_path, nodes, [_vi("x", [1, 4, 3, 3])], [_vi("y", [1, 4, 3, 3])], {}))
    (act,) = g.nodes
    assert act.op == OpKind.LUT and {k: act.attrs[k] for k in expected} == pytest.approx(expected)


@pytest.mark.parametrize("b_kind, message", [
    ("one_channel", r"node 'mul': Mul of shapes \[1, 1, 3, 3\] and \[1, 4, 3, 3\] is not supported"),
    ("constant", "node 'mul': Mul by a constant is not supported"),
    ("matrices", r"node 'mul': Mul is supported only between two \[N, C, H, W\] activations")])
def test_mul_refusals_name_the_node(tmp_path, b_kind, message):
    if b_kind == "matrices":
        nodes = [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("MatMul", ["f", "w"], ["a"], name="mm"),
                 helper.make_node("Relu", ["a"], ["r"]), helper.make_node("Mul", ["a", "r"], ["y"], name="mul")]
        path = _save(tmp_path, nodes, [_vi("x", [1, 4, 1, 1])], [_vi("y", [1, 3])], {"w": np.ones((4, 3), np.float32)})
    elif b_kind == "constant":
        nodes = [helper.make_node("Relu", ["x"], ["a"], name="relu"),
                 helper.make_node("Mul", ["a", "k"], ["y"], name="mul")]
        path = _save(tmp_path, nodes, [_vi("x", [1, 4, 3, 3])], [_vi("y", [1, 4, 3, 3])], {"k": np.float32(2.0)})
    else:
        path = _product_model(tmp_path, b_kind)
    with pytest.raises(UnsupportedError, match=message):
        import_onnx(path)


def _against_onnxruntime(path, x_nchw):
    """(the IR's forward, onnxruntime's output) of a float model of 1x1 convs and a fully
    connected layer on one input; the IR's NHWC semantics written out here with numpy."""
    g = import_onnx(path)
    y = np.asarray(x_nchw, np.float64).transpose(0, 2, 3, 1)
    for node in g.nodes:
        w, b = (g.tensors[i].data.astype(np.float64) for i in node.inputs[1:])
        y = (y.reshape(1, -1) if node.op == OpKind.FULLY_CONNECTED else y) @ w.reshape(w.shape[0], -1).T + b
    ours = y.reshape(-1)
    theirs = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x_nchw})[0].reshape(-1)
    return g, ours, theirs


def test_spatial_flatten_into_gemm_permutes_the_weight_columns(tmp_path):
    """Conv [1, 3, 4, 5] -> Flatten (CHW order) -> Gemm: the IR flattens NHWC, so the classifier's
    columns are permuted at import; onnxruntime on the unpermuted model is the reference."""
    rng = np.random.default_rng(4)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
             helper.make_node("Flatten", ["c"], ["f"]),
             helper.make_node("Gemm", ["f", "fc", "b"], ["y"], name="fc", transB=1)]
    inits = {"w": rng.normal(size=(3, 2, 1, 1)).astype(np.float32), "fc": rng.normal(size=(6, 60)).astype(np.float32),
             "b": rng.normal(size=6).astype(np.float32)}
    path = _save(tmp_path, nodes, [_vi("x", [1, 2, 4, 5])], [_vi("y", [1, 6])], inits)
    g, ours, theirs = _against_onnxruntime(path, rng.normal(size=(1, 2, 4, 5)).astype(np.float32))
    assert [n.op for n in g.nodes] == [OpKind.CONV2D, OpKind.FULLY_CONNECTED]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape, folds", [((4, 1, 1), True), ((1, 4, 1, 1), True), ((1,), True), ((4,), False)])
def test_add_of_a_constant_after_a_conv_is_its_bias_only_per_channel(tmp_path, shape, folds):
    """A [4] addend on a [1, 4, 2, 4] conv output broadcasts along W, not the channels: no bias."""
    rng = np.random.default_rng(5)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
             helper.make_node("Add", ["c", "k"], ["y"], name="add")]
    inits = {"w": rng.normal(size=(4, 3, 1, 1)).astype(np.float32), "k": rng.normal(size=shape).astype(np.float32)}
    path = _save(tmp_path, nodes, [_vi("x", [1, 3, 2, 4])], [_vi("y", [1, 4, 2, 4])], inits)
    if not folds:
        with pytest.raises(UnsupportedError, match="node 'add': Add of a constant is supported only as the bias"):
            import_onnx(path)
        return
    _, ours, theirs = _against_onnxruntime(path, rng.normal(size=(1, 3, 2, 4)).astype(np.float32))
    np.testing.assert_allclose(ours, theirs.reshape(1, 4, 2, 4).transpose(0, 2, 3, 1).reshape(-1), rtol=1e-5,
                               atol=1e-5)
