"""Tiny single-op cases built twice: as a QDQ ONNX model (float NCHW ops between
DequantizeLinear and QuantizeLinear, run by onnxruntime without graph optimizations) and as the
equivalent hand-built IR graph (NHWC, OHWI / 1HWC / [out, in]).

Both sides read the same int8 input tensors, float32 scales and int8/int32 constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor


@dataclass
class Case:
    """One op: its IR graph and the matching ONNX model; inputs are NHWC int8 arrays."""
    graph: Graph
    model: onnx.ModelProto
    input_names: list[str] = field(default_factory=list)


def f32(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float32)


def act(name: str, shape, scale: float, zero: int) -> Tensor:
    return Tensor(name, tuple(shape), DType.INT8, QParams.make(scale, zero))


def const(name: str, data: np.ndarray, scales, axis: int) -> Tensor:
    dtype = DType.INT8 if data.dtype == np.int8 else DType.INT32
    return Tensor(name, data.shape, dtype, QParams.make(scales, 0, axis), data)


def nchw(shape) -> list[int]:
    return [shape[0], shape[3], shape[1], shape[2]] if len(shape) == 4 else list(shape)


class OnnxBuilder:
    """Collects QDQ nodes and initializers for one model with int8 inputs and one int8 output."""

    def __init__(self):
        self.nodes, self.inits, self.inputs = [], [], []

    def init(self, name: str, array) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def input(self, t: Tensor) -> str:
        """An int8 NCHW graph input, dequantized: returns the float value's name."""
        self.inputs.append(helper.make_tensor_value_info(t.name, TensorProto.INT8, nchw(t.shape)))
        return self.dq_act(t)

    def dq_act(self, t: Tensor) -> str:
        s = self.init(f"{t.name}.s", f32(t.qparams.scale[0]))
        z = self.init(f"{t.name}.z", np.int8(t.qparams.zero_point[0]))
        self.nodes.append(helper.make_node("DequantizeLinear", [t.name, s, z], [f"{t.name}.f"]))
        return f"{t.name}.f"

    def dq_const(self, name: str, data: np.ndarray, scales: np.ndarray) -> str:
        q = self.init(f"{name}.q", data)
        s = self.init(f"{name}.s", f32(scales))
        z = self.init(f"{name}.z", np.zeros(len(scales), data.dtype))
        self.nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [f"{name}.f"], axis=0))
        return f"{name}.f"

    def op(self, op_type: str, inputs: list[str], out: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def model(self, real_out: str, out: Tensor, clamp: tuple[float, float] | None) -> onnx.ModelProto:
        """Optional Relu/Clip(lo, hi) on the float result, then QuantizeLinear into `out`."""
        if clamp is not None:
            lo, hi = clamp
            if hi == np.inf:
                real_out = self.op("Relu", [real_out], f"{real_out}.relu")
            else:
                real_out = self.op("Clip", [real_out, self.init("clip.lo", f32(lo)), self.init("clip.hi", f32(hi))],
                                   f"{real_out}.clip")
        s = self.init(f"{out.name}.s", f32(out.qparams.scale[0]))
        z = self.init(f"{out.name}.z", np.int8(out.qparams.zero_point[0]))
        self.nodes.append(helper.make_node("QuantizeLinear", [real_out, s, z], [out.name]))
        graph = helper.make_graph(self.nodes, "case", self.inputs,
                                  [helper.make_tensor_value_info(out.name, TensorProto.INT8, nchw(out.shape))],
                                  initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def run_ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """Plain float QDQ semantics: no fusion into onnxruntime's integer kernels.  NHWC in and out."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    out = s.run(None, {k: (v.transpose(0, 3, 1, 2) if v.ndim == 4 else v) for k, v in feeds.items()})[0]
    return out.transpose(0, 2, 3, 1) if out.ndim == 4 else out


def relu_clamp(kind: str | None, out_scale: float, out_zero: int) -> tuple[dict, tuple | None]:
    """IR act_min/act_max and the float Relu/Clip bounds for no clamp, 'relu' or 'relu6'."""
    if kind is None:
        return {"act_min": -128, "act_max": 127}, None
    if kind == "relu":
        return {"act_min": out_zero, "act_max": 127}, (0.0, np.inf)
    hi = min(127, out_zero + int(np.round(6.0 / np.float32(out_scale))))
    return {"act_min": out_zero, "act_max": hi}, (0.0, 6.0)


def weighted_case(op: OpKind, x_shape, w_ir: np.ndarray, w_scales, bias, s_in, z_in, s_out, z_out,
                  stride=(1, 1), pads=(0, 0, 0, 0), clamp=None) -> Case:
    """CONV2D / DEPTHWISE_CONV2D / FULLY_CONNECTED with per-channel weights and int32 bias."""
    w_scales = f32(w_scales)
    b_scales = f32(np.float32(s_in) * w_scales)
    x = act("x", x_shape, s_in, z_in)
    w = const("w", w_ir, w_scales, {OpKind.CONV2D: 0, OpKind.DEPTHWISE_CONV2D: 3, OpKind.FULLY_CONNECTED: 0}[op])
    b = const("b", bias.astype(np.int32), b_scales, 0)
    attrs, float_clamp = relu_clamp(clamp, s_out, z_out)
    ob = OnnxBuilder()
    xf = ob.input(x)
    if op == OpKind.FULLY_CONNECTED:
        out_shape = (1, w_ir.shape[0])
        h, wd, c = x_shape[1:]
        w_onnx = w_ir.reshape(-1, h, wd, c).transpose(0, 3, 1, 2).reshape(w_ir.shape[0], -1)  # NHWC -> NCHW flatten
        flat = ob.op("Flatten", [xf], "x.flat")
        y = ob.op("Gemm", [flat, ob.dq_const("w", w_onnx, w_scales), ob.dq_const("b", b.data, b_scales)], "y", transB=1)
    else:
        attrs.update(stride=tuple(stride), pads=tuple(pads))
        if op == OpKind.CONV2D:
            w_onnx, group, c_out = w_ir.transpose(0, 3, 1, 2), 1, w_ir.shape[0]
        else:
            w_onnx, group, c_out = w_ir.transpose(3, 0, 1, 2), w_ir.shape[3], w_ir.shape[3]
        kh, kw = w_onnx.shape[2:]
        oh = (x_shape[1] + pads[0] + pads[2] - kh) // stride[0] + 1
        ow = (x_shape[2] + pads[1] + pads[3] - kw) // stride[1] + 1
        out_shape = (1, oh, ow, c_out)
        y = ob.op("Conv", [xf, ob.dq_const("w", w_onnx, w_scales), ob.dq_const("b", b.data, b_scales)], "y",
                  group=group, kernel_shape=[kh, kw], strides=list(stride), pads=list(pads))
    out = act("out", out_shape, s_out, z_out)
    g = Graph("case", {t.name: t for t in (x, w, b, out)}, [Node("n", op, ["x", "w", "b"], ["out"], attrs)],
              ["x"], ["out"])
    return Case(g, ob.model(y, out, float_clamp), ["x"])


def add_case(shape, qa, qb, qout, clamp=None) -> Case:
    a, b = act("a", shape, *qa), act("b", shape, *qb)
    out = act("out", shape, *qout)
    attrs, float_clamp = relu_clamp(clamp, *qout)
    ob = OnnxBuilder()
    y = ob.op("Add", [ob.input(a), ob.input(b)], "y")
    g = Graph("case", {t.name: t for t in (a, b, out)}, [Node("n", OpKind.ADD, ["a", "b"], ["out"], attrs)],
              ["a", "b"], ["out"])
    return Case(g, ob.model(y, out, float_clamp), ["a", "b"])


def pool_case(op: OpKind, shape, q_in, q_out, kernel=None, stride=(1, 1), pads=(0, 0, 0, 0)) -> Case:
    x = act("x", shape, *q_in)
    ob = OnnxBuilder()
    xf = ob.input(x)
    if op == OpKind.GLOBAL_AVG_POOL:
        attrs, out_shape = {}, (1, 1, 1, shape[3])
        y = ob.op("GlobalAveragePool", [xf], "y")
    else:
        attrs = {"kernel": tuple(kernel), "stride": tuple(stride), "pads": tuple(pads)}
        oh = (shape[1] + pads[0] + pads[2] - kernel[0]) // stride[0] + 1
        ow = (shape[2] + pads[1] + pads[3] - kernel[1]) // stride[1] + 1
        out_shape = (1, oh, ow, shape[3])
        y = ob.op("AveragePool", [xf], "y", kernel_shape=list(kernel), strides=list(stride), pads=list(pads),
                  count_include_pad=0)
    out = act("out", out_shape, *q_out)
    g = Graph("case", {t.name: t for t in (x, out)}, [Node("n", op, ["x"], ["out"], attrs)], ["x"], ["out"])
    return Case(g, ob.model(y, out, None), ["x"])
