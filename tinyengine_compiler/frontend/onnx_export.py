"""int8 IR Graph -> QDQ ONNX model that onnxruntime runs.

Takes a verified int8 Graph and writes the standard QDQ form: the float NCHW input goes
through a QuantizeLinear; every int8 tensor is dequantized where a float op reads it; each op
runs in float and its result is quantized again (QuantizeLinear saturates to int8, which is the
fused clamp; a narrower clamp becomes a Clip).  Weights stay int8 initializers (per-channel
DequantizeLinear, axis 0, in ONNX's OIHW / [out, in] layouts), biases int32 at scale
s_in * s_w.  The model's output is the final int8 tensor, so onnxruntime returns int8 logits.
The file is written to a temporary name and renamed, never left half written.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..errors import UnsupportedError
from ..folders import replace_file
from ..ir import DType, Graph, Node, OpKind, Tensor

OPSET = 13


class _Writer:
    def __init__(self, g: Graph):
        self.g = g
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.dequantized: dict[str, str] = {}
        self.activation_qparams: dict[str, tuple[str, str]] = {}
        self.used: set[str] = set(g.tensors)

    def init(self, base: str, array: np.ndarray) -> str:
        name = self.fresh(base)
        # np.asarray keeps a scalar 0-D: onnxruntime wants scalar per-tensor scales and zero points
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def fresh(self, base: str) -> str:
        """A value name for an intermediate float tensor that no IR tensor or earlier value has."""
        name, k = base, 1
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name

    def qparams(self, name: str) -> tuple[str, str]:
        """Scale and zero-point initializers of an int8 activation, written once."""
        if name not in self.activation_qparams:
            qp = self.g.tensors[name].qparams
            self.activation_qparams[name] = (self.init(f"{name}.scale", np.float32(qp.scale[0])),
                                             self.init(f"{name}.zero", np.int8(qp.zero_point[0])))
        return self.activation_qparams[name]

    def dq(self, name: str) -> str:
        """The float value of an int8 activation, dequantized once however many ops read it."""
        if name not in self.dequantized:
            s, z = self.qparams(name)
            self.dequantized[name] = self.fresh(f"{name}.f")
            self.nodes.append(helper.make_node("DequantizeLinear", [name, s, z], [self.dequantized[name]],
                                               name=f"{name}.dq"))
        return self.dequantized[name]

    def const_dq(self, t: Tensor, onnx_layout: np.ndarray) -> str:
        """Per-channel (axis 0) DequantizeLinear of a weight or bias initializer."""
        zero_dtype = np.int8 if t.dtype == DType.INT8 else np.int32
        q = self.init(f"{t.name}.q", onnx_layout)
        s = self.init(f"{t.name}.scale", t.qparams.scales())
        z = self.init(f"{t.name}.zero", np.zeros(len(t.qparams.scale), zero_dtype))
        real = self.fresh(f"{t.name}.f")
        self.nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [real], name=f"{t.name}.dq", axis=0))
        return real

    def quantize(self, node: Node, real_out: str) -> None:
        """Clip to a narrower fused clamp if any, then QuantizeLinear into the IR output tensor."""
        out = self.g.tensors[node.outputs[0]]
        scale, zero = out.qparams.scale[0], out.qparams.zero_point[0]
        lo, hi = node.attrs.get("act_min", -128), node.attrs.get("act_max", 127)
        if lo > -128 or hi < 127:
            clip_lo = self.init(f"{node.name}.clip_lo", np.float32(scale * (lo - zero)))
            clip_hi = self.init(f"{node.name}.clip_hi", np.float32(scale * (hi - zero)))
            clipped = self.fresh(f"{node.name}.clipped")
            self.nodes.append(helper.make_node("Clip", [real_out, clip_lo, clip_hi], [clipped], name=f"{node.name}.clip"))
            real_out = clipped
        self.nodes.append(helper.make_node("QuantizeLinear", [real_out, *self.qparams(out.name)], [out.name],
                                           name=f"{node.name}.q"))

    def op(self, node: Node) -> None:
        ins = [self.g.tensors[n] for n in node.inputs]
        y = self.fresh(f"{node.name}.y")
        if node.op in (OpKind.CONV2D, OpKind.DEPTHWISE_CONV2D):
            w = ins[1]
            if node.op == OpKind.CONV2D:
                w_onnx, groups = w.data.transpose(0, 3, 1, 2), 1            # OHWI -> OIHW
            else:
                w_onnx, groups = w.data.transpose(3, 0, 1, 2), w.shape[3]   # 1HWC -> (C,1,kh,kw)
            self.nodes.append(helper.make_node(
                "Conv", [self.dq(ins[0].name), self.const_dq(w, w_onnx), self.const_dq(ins[2], ins[2].data)], [y],
                name=node.name, group=groups, kernel_shape=list(w_onnx.shape[2:]),
                strides=list(node.attrs["stride"]), pads=list(node.attrs["pads"])))
        elif node.op == OpKind.FULLY_CONNECTED:
            x = self.dq(ins[0].name)
            if len(ins[0].shape) == 4:
                if ins[0].shape[1] * ins[0].shape[2] != 1:
                    raise UnsupportedError(f"node '{node.name}': export of a FULLY_CONNECTED over a "
                                           f"{ins[0].shape} input (spatial > 1) is not supported")
                flat = self.fresh(f"{node.name}.flat")
                self.nodes.append(helper.make_node("Flatten", [x], [flat], name=f"{node.name}.flatten"))
                x = flat
            self.nodes.append(helper.make_node(
                "Gemm", [x, self.const_dq(ins[1], ins[1].data), self.const_dq(ins[2], ins[2].data)], [y],
                name=node.name, transB=1))
        elif node.op == OpKind.ADD:
            self.nodes.append(helper.make_node("Add", [self.dq(ins[0].name), self.dq(ins[1].name)], [y], name=node.name))
        elif node.op == OpKind.GLOBAL_AVG_POOL:
            self.nodes.append(helper.make_node("GlobalAveragePool", [self.dq(ins[0].name)], [y], name=node.name))
        elif node.op == OpKind.AVG_POOL2D:
            self.nodes.append(helper.make_node(
                "AveragePool", [self.dq(ins[0].name)], [y], name=node.name, kernel_shape=list(node.attrs["kernel"]),
                strides=list(node.attrs["stride"]), pads=list(node.attrs["pads"]), count_include_pad=0))
        else:
            raise UnsupportedError(f"node '{node.name}': op {node.op.value} has no ONNX export")
        self.quantize(node, y)


def _nchw(shape: tuple[int, ...]) -> list[int]:
    return [shape[0], shape[3], shape[1], shape[2]] if len(shape) == 4 else list(shape)


def to_onnx(g: Graph) -> onnx.ModelProto:
    """Build the QDQ ModelProto for an int8 graph with one input and one output."""
    w = _Writer(g)
    x = g.tensors[g.inputs[0]]
    real_input = w.fresh(f"{x.name}.real")
    w.nodes.append(helper.make_node("QuantizeLinear", [real_input, *w.qparams(x.name)], [x.name],
                                    name=f"{x.name}.q"))
    for node in g.nodes:
        w.op(node)
    out = g.tensors[g.outputs[0]]
    graph = helper.make_graph(
        w.nodes, g.name,
        [helper.make_tensor_value_info(real_input, TensorProto.FLOAT, _nchw(x.shape))],
        [helper.make_tensor_value_info(out.name, TensorProto.INT8, _nchw(out.shape))],
        initializer=w.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="tinyengine-compiler")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def export_qdq(g: Graph, path: str) -> None:
    """Write `to_onnx(g)` to `path` atomically."""
    model = to_onnx(g)
    replace_file(path, lambda tmp: onnx.save(model, tmp))
