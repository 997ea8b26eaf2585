"""ONNX model (QDQ int8 or float) -> IR Graph.  The only module that interprets ONNX nodes.

Takes a file that `onnx_checks.load_checked` accepts and guarantees a Graph that `ir.verify`
accepts, with NHWC activations, OHWI / 1HWC / [out, in] weights and one input and one output.

* **QDQ int8** (any QuantizeLinear in the graph), as onnxruntime's `quantize_static(QDQ,
  per_channel=True, QInt8)` and our own exporter write it: each QuantizeLinear of a compute
  result becomes one IR op whose int8 output carries the Q's qparams.  Relu/Clip between a
  Conv/Gemm/MatMul/Add/Mul and its Q fold into act_min/act_max in the int8 domain.  Weights
  are int8 per-channel symmetric (zero point 0), biases int32 at s_in * s_w (requantized if
  stored otherwise).  The
  IR input is the int8 output of the QuantizeLinear that reads the float NCHW image; the IR
  output is the last int8 tensor (a trailing DequantizeLinear is stripped).
* **Float** (no QuantizeLinear): the same ops on float32 tensors without qparams;
  BatchNormalization folds into the Conv before it and Relu/Clip become float clamps.

Flatten/Reshape are accepted where they do not move data in NHWC order (1x1 spatial), and as the
flattening of a spatial map into a Gemm/MatMul classifier, whose weight columns are then
permuted from CHW to HWC order at compile time.  The classifier takes one IR form: a
Gemm/MatMul (in a float model also MatMul + Add of a constant, folded as its bias) or a 1x1
Conv on a 1x1 map (`onnx_rules.classifier_as_fully_connected`) is a FULLY_CONNECTED.
The element-wise activations of `ir/activations.py`'s table (HardSigmoid, HardSwish, LeakyRelu,
Sigmoid, Tanh) and a Relu/Clip with nothing to fuse into are LUTs (a 256-entry table);
`Mul(x, HardSigmoid(x))` is one LUT; any other Mul of two activations is a MUL (same shapes, or
one value a channel).  docs/ops.md lists every op and its IR form.
Identity and Dropout are skipped.  Every refusal names the node and the reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import numpy as np
import onnx
from onnx import numpy_helper

from ..errors import ModelFormatError, UnsupportedError
from ..ir import DType, Graph, Node, OpKind, QParams, Tensor
from ..ir.activations import ACTIVATIONS, ONNX_ACTIVATIONS, int8_tables
from ..ir.ops import CONV_OPS, WEIGHTED_OPS
from ..ir.shapes import output_shape
from ..ir.verify import verify
from .onnx_checks import load_checked, node_label
from .onnx_rules import (attr, classifier_as_fully_connected, float_clamp, fold_bn, int8_clamp, is_channel_addend,
                         padding, prune, to_nhwc)

CLAMPABLE = WEIGHTED_OPS | {OpKind.ADD, OpKind.MUL}


@dataclass(frozen=True)
class Act:
    """A real-valued view of IR activation `ir` (its dequantization, in QDQ models)."""
    ir: str


@dataclass(frozen=True)
class QAct:
    """The int8 ONNX value that is IR activation `ir` itself (a QuantizeLinear output)."""
    ir: str


@dataclass(frozen=True)
class Const:
    data: np.ndarray
    qparams: QParams | None = None   # set for the output of a DequantizeLinear of an initializer


@dataclass(frozen=True)
class View:
    """IR activation `ir` ([N, H, W, C]) reshaped in ONNX's NCHW order, which moves data in NHWC:
    "flat" ([N, C*H*W] in CHW order), only a Gemm/MatMul may read it (its weight columns are
    permuted to the NHWC order the IR flattens in); "grouped" ([N, groups, C/groups, H, W]) and
    "shuffled" (its transpose [N, C/groups, groups, H, W]), the steps of a channel shuffle, which
    the Reshape back to [N, C, H, W] turns into one CHANNEL_SELECT."""
    ir: str
    kind: str
    groups: int = 1


@dataclass(frozen=True)
class QView:
    """The int8 ONNX value of a View (a QuantizeLinear of it with its own parameters)."""
    view: View


@dataclass(frozen=True)
class FloatInput:
    """The float image of a QDQ model, which only its QuantizeLinear may read."""


@dataclass(frozen=True)
class Pending:
    """A compute op whose output clamp (and, in QDQ models, quantization) is not yet known."""
    name: str
    op: OpKind
    x: tuple[str, ...]                   # IR activation inputs
    onnx_out: str                        # the compute node's own ONNX output, for the shape check
    attrs: dict = field(default_factory=dict)
    weight: Const | None = None          # in the IR layout, qparams axis in the IR layout
    bias: Const | None = None
    lo: float = -np.inf                  # real-valued clamp from folded Relu/Clip
    hi: float = np.inf


class _Importer:
    def __init__(self, path: str, model: onnx.ModelProto, shapes: dict):
        self.path, self.shapes = path, shapes
        self.graph = model.graph
        self.quantized = any(n.op_type == "QuantizeLinear" for n in self.graph.node)
        self.env: dict[str, object] = {t.name: Const(_to_array(path, t)) for t in self.graph.initializer}
        self.consumers: dict[str, int] = {}
        for n in self.graph.node:
            for i in n.input:
                self.consumers[i] = self.consumers.get(i, 0) + 1
        for v in self.graph.output:
            self.consumers[v.name] = self.consumers.get(v.name, 0) + 1
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list[Node] = []
        self.node_names: set[str] = set()
        self.conv_index = 0
        self.label = ""
        self.image_input: str | None = None

    # ----- values -----------------------------------------------------------------------------

    def fail(self, message: str):
        raise UnsupportedError(f"node '{self.label}': {message}")

    def new_tensor(self, name: str, shape, dtype: DType, qparams=None, data=None) -> str:
        base, k = name, 1
        while name in self.tensors:
            name, k = f"{base}_{k}", k + 1
        self.tensors[name] = Tensor(name, tuple(int(d) for d in shape), dtype, qparams, data)
        return name

    def act(self, name: str) -> str:
        """The IR activation behind ONNX value `name`, materializing a pending float op."""
        v = self.env[name]
        if isinstance(v, Pending) and not self.quantized:
            v = self.env[name] = Act(self.materialize(v, name))
        if isinstance(v, Act):
            return v.ir
        if isinstance(v, View) and v.kind == "flat":
            self.fail(f"reads '{name}', a flattened spatial map: only a Gemm or MatMul classifier may read one")
        if isinstance(v, View):
            self.fail(f"reads '{name}', a {v.kind} view of a channel shuffle (Reshape to [N, groups, C/groups, H, W], "
                      "Transpose 0 2 1 3 4, Reshape back) that does not complete")
        if isinstance(v, Pending):
            self.fail(f"reads '{name}', which is not quantized (expected QuantizeLinear then DequantizeLinear)")
        self.fail(f"input '{name}' must be an activation, not a {type(v).__name__}")

    def const(self, name: str, what: str) -> Const:
        v = self.env.get(name)
        if not isinstance(v, Const):
            self.fail(f"{what} '{name}' must be a constant initializer")
        return v

    def fusable(self, name: str) -> Pending | None:
        """The pending op producing `name` if a clamp or BatchNormalization may fold into it."""
        v = self.env.get(name)
        return v if isinstance(v, Pending) and self.consumers.get(name, 0) == 1 else None

    # ----- emitting IR nodes ------------------------------------------------------------------

    def materialize(self, p: Pending, out_name: str, out_qp: QParams | None = None) -> str:
        """Emit the IR node of `p`; its output is float (float models) or int8 with `out_qp`."""
        name = p.name
        while name in self.node_names:
            name += "_"
        self.node_names.add(name)
        inputs = list(p.x)
        attrs = dict(p.attrs)
        if p.weight is not None:
            w_dtype = DType.FLOAT32 if p.weight.qparams is None else DType.INT8
            b_dtype = DType.FLOAT32 if p.bias.qparams is None else DType.INT32
            inputs.append(self.new_tensor(f"{name}.weight", p.weight.data.shape, w_dtype, p.weight.qparams, p.weight.data))
            inputs.append(self.new_tensor(f"{name}.bias", p.bias.data.shape, b_dtype, p.bias.qparams, p.bias.data))
        if p.op in CLAMPABLE:
            attrs.update(int8_clamp(p.lo, p.hi, out_qp) if out_qp else float_clamp(p.lo, p.hi))
        if p.op == OpKind.LUT and out_qp:
            attrs["table"], attrs["slope"] = int8_tables(attrs["function"], attrs, self.tensors[p.x[0]].qparams, out_qp)
        if p.op in CONV_OPS:
            attrs["conv_index"] = self.conv_index
            self.conv_index += 1
        node = Node(name, p.op, inputs, [], attrs)
        probe = Graph("probe", self.tensors, [], [], [])
        shape = output_shape(probe, node)
        onnx_shape = self.shapes.get(p.onnx_out)
        if onnx_shape is not None and to_nhwc(onnx_shape) != shape:
            raise UnsupportedError(f"node '{p.name}': ONNX infers output shape {list(onnx_shape)} but the "
                                   f"{p.op.value} rule gives NHWC {list(shape)}")
        dtype = DType.INT8 if out_qp else DType.FLOAT32
        node.outputs.append(self.new_tensor(out_name, shape, dtype, out_qp))
        self.nodes.append(node)
        return node.outputs[0]

    # ----- op handlers: each reads node inputs from env and writes its outputs ------------------

    def quantize_linear(self, node):
        qp, dtype = self.qparams_of(node)
        if qp.per_channel or dtype != np.int8:
            self.fail("activations must be quantized per tensor to int8")
        v = self.env[node.input[0]]
        if isinstance(v, FloatInput):
            ir = self.image_input = self.new_tensor(node.output[0], to_nhwc(self.shapes[node.input[0]]), DType.INT8, qp)
        elif isinstance(v, Pending):
            ir = self.materialize(v, node.output[0], qp)
        elif isinstance(v, Act) and self.tensors[v.ir].qparams == qp:
            ir = v.ir   # Q(DQ(x)) with x's own parameters: the same int8 tensor
        elif isinstance(v, View) and self.tensors[v.ir].qparams == qp:
            self.env[node.output[0]] = QView(v)   # the same, viewed
            return
        elif isinstance(v, Act):
            self.fail("requantizing an activation to new parameters without an op is not supported")
        else:
            self.fail(f"QuantizeLinear of '{node.input[0]}' ({type(v).__name__}) is not supported")
        self.env[node.output[0]] = QAct(ir)

    def dequantize_linear(self, node):
        qp, _ = self.qparams_of(node)
        v = self.env[node.input[0]]
        if isinstance(v, QAct):
            self.env[node.output[0]] = Act(v.ir)
        elif isinstance(v, QView):
            self.env[node.output[0]] = v.view
        elif isinstance(v, Const):
            self.env[node.output[0]] = Const(v.data, qp)
        else:
            self.fail(f"DequantizeLinear of '{node.input[0]}' ({type(v).__name__}) is not supported")

    def qparams_of(self, node) -> tuple[QParams, np.dtype]:
        """The QParams of a QuantizeLinear/DequantizeLinear (axis in the ONNX layout) and its int dtype."""
        if len(node.input) < 3 or not node.input[2]:
            self.fail(f"{node.op_type} without a zero point (uint8) is not supported; use int8")
        scale = self.const(node.input[1], "scale").data.astype(np.float64)
        zero = self.const(node.input[2], "zero point").data
        if zero.dtype not in (np.int8, np.int32):
            self.fail(f"{node.op_type} to {zero.dtype} is not supported; activations and weights must be int8")
        if scale.size == 0 or scale.size != zero.size or not np.all(np.isfinite(scale) & (scale > 0)):
            raise ModelFormatError(f"{self.path}: node '{self.label}': scales must be positive and finite, "
                                   "one per zero point")
        axis = None
        if scale.size > 1:
            axis = attr(node, "axis", 1)
            axis += len(self.shapes.get(node.input[0]) or ()) if axis < 0 else 0
        return QParams.make(scale, zero.reshape(-1), axis), zero.dtype

    def conv(self, node):
        x = self.act(node.input[0])
        w = self.weight(node.input[1], 4)
        cin, group = self.tensors[x].shape[3], attr(node, "group", 1)
        k = tuple(w.data.shape[2:])
        if any(d != 1 for d in attr(node, "dilations", [1, 1])):
            self.fail(f"Conv with dilations {attr(node, 'dilations', [])} is not supported")
        if group == 1:
            op, data, axis = OpKind.CONV2D, w.data.transpose(0, 2, 3, 1), 0          # OIHW -> OHWI
        elif group == cin and w.data.shape[:2] == (cin, 1):
            op, data, axis = OpKind.DEPTHWISE_CONV2D, w.data.transpose(1, 2, 3, 0), 3  # (C,1,kh,kw) -> 1HWC
        else:
            self.fail(f"Conv with group {group} over {cin} channels is not supported "
                      "(only group 1, or depthwise with group = channels and depth multiplier 1)")
        stride = tuple(attr(node, "strides", [1, 1]))
        pads = padding(node, self.tensors[x].shape[1:3], k, stride)
        w_ir = self.ir_weight(w, data, 0, axis)
        self.env[node.output[0]] = Pending(self.label, op, (x,), node.output[0], {"stride": stride, "pads": pads},
                                           w_ir, self.bias(node, x, w_ir, data.shape[axis]))

    def gemm(self, node):
        flat = self.env.get(node.input[0])
        flat = flat if isinstance(flat, View) and flat.kind == "flat" else None
        x = flat.ir if flat is not None else self.act(node.input[0])
        w = self.weight(node.input[1], 2)
        if node.op_type == "Gemm" and (attr(node, "transA", 0) or attr(node, "alpha", 1.0) != 1.0
                                       or (attr(node, "beta", 1.0) != 1.0 and len(node.input) > 2)):
            self.fail("Gemm with transA, alpha or beta other than the defaults is not supported")
        out_first = node.op_type == "Gemm" and attr(node, "transB", 0) == 1
        data = w.data if out_first else w.data.T                                     # -> [out, in]
        if flat is not None:   # columns in CHW order -> the NHWC order of the IR's flattening
            _, h, wd, c = self.tensors[x].shape
            data = data.reshape(-1, c, h, wd).transpose(0, 2, 3, 1).reshape(data.shape)
        w_ir = self.ir_weight(w, data, 0 if out_first else 1, 0)
        self.env[node.output[0]] = Pending(self.label, OpKind.FULLY_CONNECTED, (x,), node.output[0], {},
                                           w_ir, self.bias(node, x, w_ir, data.shape[0]))

    def add(self, node):
        constant = [i for i in (0, 1) if isinstance(self.env.get(node.input[i]), Const)]
        if constant:
            return self.add_bias(node, constant[0])
        a, b = self.act(node.input[0]), self.act(node.input[1])
        if self.tensors[a].shape != self.tensors[b].shape:
            self.fail("Add with broadcasting is not supported; both operands must have the same shape")
        self.env[node.output[0]] = Pending(self.label, OpKind.ADD, (a, b), node.output[0])

    def add_bias(self, node, i: int):
        """Add of a constant after a float MatMul/Gemm/Conv that has no bias of its own: its bias."""
        p = self.fusable(node.input[1 - i])
        addend = self.const(node.input[i], "addend").data
        c = addend.astype(np.float32).reshape(-1)
        if self.quantized or p is None or p.weight is None or np.any(p.bias.data) or p.lo != -np.inf \
                or p.hi != np.inf or not is_channel_addend(addend.shape, p.bias.data.size, p.op in CONV_OPS):
            self.fail("Add of a constant is supported only as the bias of a float MatMul, Gemm or Conv right "
                      "before it, one value a channel (in a quantized model, fuse MatMul + Add into Gemm before "
                      "quantizing, as tte quantize does)")
        self.env[node.output[0]] = replace(p, bias=Const(np.broadcast_to(c, p.bias.data.shape).astype(np.float32)),
                                           onnx_out=node.output[0])

    def global_avg_pool(self, node):
        self.env[node.output[0]] = Pending(self.label, OpKind.GLOBAL_AVG_POOL, (self.act(node.input[0]),),
                                           node.output[0])

    def pool_window(self, node) -> tuple[str, tuple, tuple, tuple]:
        """(x, kernel, stride, pads) of an AveragePool/MaxPool, each pad smaller than the kernel
        (every window holds a valid tap, as the C kernels require)."""
        x = self.act(node.input[0])
        k, stride = tuple(attr(node, "kernel_shape", [])), tuple(attr(node, "strides", [1, 1]))
        if attr(node, "ceil_mode", 0) or any(d != 1 for d in attr(node, "dilations", [1, 1])):
            self.fail(f"{node.op_type} with ceil_mode or dilations is not supported")
        pads = padding(node, self.tensors[x].shape[1:3], k, stride)
        if any(p >= kk for p, kk in zip(pads, (k[0], k[1], k[0], k[1]))):
            self.fail(f"{node.op_type} pads {list(pads)} must be smaller than the kernel {list(k)}")
        return x, k, stride, pads

    def avg_pool(self, node):
        x, k, stride, pads = self.pool_window(node)
        if attr(node, "count_include_pad", 0) and any(pads):
            self.fail("AveragePool with count_include_pad=1 and padding is not supported")
        self.env[node.output[0]] = Pending(self.label, OpKind.AVG_POOL2D, (x,), node.output[0],
                                           {"kernel": k, "stride": stride, "pads": pads})

    def max_pool(self, node):
        if len(node.output) > 1 and node.output[1]:
            self.fail("MaxPool's Indices output is not supported")
        x, k, stride, pads = self.pool_window(node)
        self.env[node.output[0]] = Pending(self.label, OpKind.MAX_POOL2D, (x,), node.output[0],
                                           {"kernel": k, "stride": stride, "pads": pads})

    def clamp(self, node):
        """Relu/Clip: folded into the Conv, Gemm, MatMul, Add or Mul right before it; on its own,
        a LUT."""
        if node.op_type == "Relu":
            lo, hi = 0.0, np.inf
        elif any(a.name in ("min", "max") for a in node.attribute):   # Clip before opset 11
            lo, hi = attr(node, "min", -np.inf), attr(node, "max", np.inf)
        else:
            lo, hi = self.optional_scalar(node, 1, -np.inf), self.optional_scalar(node, 2, np.inf)
        p = self.fusable(node.input[0])
        if p is not None and p.op in CLAMPABLE:
            self.env[node.output[0]] = replace(p, lo=max(p.lo, lo), hi=min(p.hi, hi))
            return
        bounds = {"lo": None if lo == -np.inf else float(lo), "hi": None if hi == np.inf else float(hi)}
        self.env[node.output[0]] = Pending(self.label, OpKind.LUT, (self.act(node.input[0]),), node.output[0],
                                           {"function": "clip", **bounds})

    def table_activation(self, node):
        """An ONNX op of ir/activations.py's table (HardSigmoid, HardSwish, LeakyRelu, ...): a LUT
        with the op's attributes, its int8 table made once its output quantization is known."""
        function = ONNX_ACTIVATIONS[node.op_type]
        attrs = {"function": function, **{k: attr(node, k, d) for k, d in ACTIVATIONS[function].onnx_attrs}}
        self.env[node.output[0]] = Pending(self.label, OpKind.LUT, (self.act(node.input[0]),), node.output[0], attrs)

    def mul(self, node):
        """Mul of two activations, element-wise or by one value a channel (squeeze-excite);
        `Mul(x, HardSigmoid(x))` is one LUT (mul_hardsigmoid, ir/activations.py)."""
        if any(isinstance(self.env.get(i), Const) for i in node.input):
            self.fail("Mul by a constant is not supported; only the product of two activations")
        for i in (0, 1):
            hard_sigmoid = self.hard_sigmoid_of(node.input[1 - i])
            if hard_sigmoid is not None and hard_sigmoid[0] == self.act(node.input[i]):
                x, attrs = hard_sigmoid
                self.env[node.output[0]] = Pending(self.label, OpKind.LUT, (x,), node.output[0], attrs)
                return   # the HardSigmoid's own node, if emitted and read by nothing else, is pruned
        a, b = self.act(node.input[0]), self.act(node.input[1])
        if len(self.tensors[a].shape) != 4 or len(self.tensors[b].shape) != 4:
            self.fail("Mul is supported only between two [N, C, H, W] activations")
        if self.tensors[a].shape[1:3] == (1, 1) and self.tensors[b].shape[1:3] != (1, 1):
            a, b = b, a   # the per-channel operand second, as MUL takes it
        shape = self.tensors[a].shape
        if self.tensors[b].shape not in (shape, (shape[0], 1, 1, shape[3])):
            shapes = " and ".join(str(list(self.shapes.get(i) or ())) for i in node.input)
            self.fail(f"Mul of shapes {shapes} is not supported: the operands must have the same shape, or one "
                      "must be [N, C, 1, 1] (one value a channel)")
        self.env[node.output[0]] = Pending(self.label, OpKind.MUL, (a, b), node.output[0])

    def hard_sigmoid_of(self, name: str) -> tuple[str, dict] | None:
        """(x, mul_hardsigmoid attrs) when ONNX value `name` is HardSigmoid(x) of IR activation x:
        a pending float op, or the int8 LUT already emitted (its quantization in between)."""
        v = self.env.get(name)
        emitted = next((n for n in self.nodes if n.outputs[0] == v.ir), None) if isinstance(v, Act) else None
        if isinstance(v, Pending) and v.op == OpKind.LUT and v.attrs["function"] == "hardsigmoid":
            x, attrs, qp = v.x[0], v.attrs, None
        elif emitted is not None and emitted.op == OpKind.LUT and emitted.attrs["function"] == "hardsigmoid":
            x, attrs, qp = emitted.inputs[0], emitted.attrs, self.tensors[v.ir].qparams
        else:
            return None
        mid = {} if qp is None else {"mid_scale": qp.scale[0], "mid_zero_point": qp.zero_point[0]}
        return x, {"function": "mul_hardsigmoid", "alpha": attrs["alpha"], "beta": attrs["beta"], **mid}

    def optional_scalar(self, node, i: int, default: float) -> float:
        if len(node.input) <= i or not node.input[i]:
            return default
        return float(self.const(node.input[i], f"{node.op_type} bound").data.reshape(-1)[0])

    def batch_norm(self, node):
        p = self.fusable(node.input[0])
        if self.quantized or p is None or p.op not in CONV_OPS or p.lo != -np.inf or p.hi != np.inf:
            self.fail("BatchNormalization must directly follow a float Conv (fold it before quantizing)")
        gamma, beta, mean, var = (self.const(n, "BatchNormalization parameter").data for n in node.input[1:5])
        w, b = fold_bn(p.weight.data, p.bias.data, 0 if p.op == OpKind.CONV2D else 3,
                       gamma, beta, mean, var, attr(node, "epsilon", 1e-5))
        self.env[node.output[0]] = replace(p, weight=Const(w), bias=Const(b))

    def reshape(self, node):
        v, src, dst = self.env[node.input[0]], self.shapes.get(node.input[0]), self.shapes.get(node.output[0])
        if src is None or dst is None:
            self.fail(f"{node.op_type} needs static shapes")
        src, dst = tuple(src), tuple(dst)
        if isinstance(v, View) and v.kind == "shuffled" and len(dst) == 4:
            return self.channel_shuffle(node, v)
        if isinstance(v, Pending) and not self.quantized:
            v = Act(self.act(node.input[0]))
        if not isinstance(v, Act):
            self.fail(f"{node.op_type} of '{node.input[0]}' ({type(v).__name__}) is not supported")
        if src == dst or (len(src) == 4 and src[2] * src[3] == 1 and dst == (src[0], src[1])):
            self.env[node.output[0]] = v   # no data moves in NHWC order
        elif len(src) == 4 and dst == (src[0], src[1] * src[2] * src[3]):
            self.env[node.output[0]] = View(v.ir, "flat")
        elif len(src) == 4 and len(dst) == 5 and dst[1] * dst[2] == src[1] and dst[3:] == src[2:]:
            self.env[node.output[0]] = View(v.ir, "grouped", dst[1])
        else:
            self.fail(f"{node.op_type} from {list(src)} to {list(dst)} is not supported: only flattening (of a 1x1 "
                      "map, or of a spatial map into a Gemm/MatMul classifier) and a channel shuffle")

    def transpose(self, node):
        v = self.env[node.input[0]]
        if not (isinstance(v, View) and v.kind == "grouped" and list(attr(node, "perm", [])) == [0, 2, 1, 3, 4]):
            self.fail("Transpose is supported only as the middle step of a channel shuffle (Reshape to "
                      "[N, groups, C/groups, H, W], Transpose 0 2 1 3 4, Reshape back)")
        self.env[node.output[0]] = View(v.ir, "shuffled", v.groups)

    def channel_shuffle(self, node, v: View):
        """out channel k * groups + i <- in channel i * (C / groups) + k."""
        c = self.tensors[v.ir].shape[3]
        per = c // v.groups
        channels = tuple(i * per + k for k in range(per) for i in range(v.groups))
        self.env[node.output[0]] = Pending(self.label, OpKind.CHANNEL_SELECT, (v.ir,), node.output[0],
                                           {"channels": channels})

    def concat(self, node):
        rank = len(self.shapes.get(node.output[0]) or ())
        axis = attr(node, "axis", 1)
        if rank != 4 or axis not in (1, -3):
            self.fail(f"Concat along axis {axis} of a rank-{rank} tensor is not supported; only channels (axis 1)")
        xs = tuple(self.act(i) for i in node.input)
        self.env[node.output[0]] = Pending(self.label, OpKind.CONCAT, xs, node.output[0])

    def select(self, node, out_name: str, channels: tuple[int, ...]):
        x = self.act(node.input[0])
        if not channels or len(set(channels)) != len(channels):
            self.fail(f"{node.op_type} selects no channel or the same channel twice")
        self.env[out_name] = Pending(self.label, OpKind.CHANNEL_SELECT, (x,), out_name, {"channels": channels})

    def slice(self, node):
        if len(node.input) < 3:
            self.fail("Slice with its bounds as attributes (opset < 10) is not supported; export with opset >= 10")
        shape = self.shapes.get(node.input[0])
        starts, ends = (self.const(n, "Slice bound").data.reshape(-1) for n in node.input[1:3])
        axes = self.const(node.input[3], "Slice axes").data.reshape(-1) if len(node.input) > 3 and node.input[3] \
            else np.arange(len(starts))
        steps = self.const(node.input[4], "Slice steps").data.reshape(-1) if len(node.input) > 4 and node.input[4] \
            else np.ones(len(starts), np.int64)
        if shape is None or len(shape) != 4 or [int(a) % 4 for a in axes] != [1]:
            self.fail("Slice is supported only along the channels of an NCHW tensor")
        channels = tuple(range(shape[1]))[slice(int(starts[0]), int(ends[0]), int(steps[0]))]
        self.select(node, node.output[0], channels)

    def split(self, node):
        shape = self.shapes.get(node.input[0])
        if shape is None or len(shape) != 4 or attr(node, "axis", 0) % 4 != 1:
            self.fail("Split is supported only along the channels of an NCHW tensor")
        if len(node.input) > 1 and node.input[1]:
            sizes = [int(s) for s in self.const(node.input[1], "Split sizes").data.reshape(-1)]
        elif attr(node, "split", None) is not None:
            sizes = [int(s) for s in attr(node, "split", [])]
        else:   # equal parts, the last one smaller (opset 18's num_outputs): as shape inference has them
            sizes = [int((self.shapes.get(out) or (0, 0))[1]) for out in node.output]
        if len(sizes) != len(node.output) or sum(sizes) != shape[1] or min(sizes) < 1:
            self.fail(f"Split into {sizes} does not cover the {shape[1]} channels in {len(node.output)} parts")
        start = 0
        for out, size in zip(node.output, sizes):
            self.select(node, out, tuple(range(start, start + size)))
            start += size

    def not_folded(self, node):
        self.fail(f"{node.op_type} is supported only on constants (shape arithmetic, folded at import)")

    def identity(self, node):
        self.env[node.output[0]] = self.env[node.input[0]]

    def constant(self, node):
        value = next((a for a in node.attribute if a.name == "value"), None)
        if value is None:
            self.fail("Constant without a 'value' tensor is not supported")
        self.env[node.output[0]] = Const(_to_array(self.path, value.t))

    # ----- weights and biases ---------------------------------------------------------------------

    def weight(self, name: str, rank: int) -> Const:
        w = self.const(name, "weight")
        if w.data.ndim != rank:
            self.fail(f"weight '{name}' has rank {w.data.ndim}, expected {rank}")
        if self.quantized and (w.qparams is None or w.data.dtype != np.int8):
            self.fail(f"weight '{name}' is not int8 (expected DequantizeLinear of an int8 initializer)")
        if not self.quantized and w.qparams is not None:
            self.fail(f"weight '{name}' is quantized but activations are not (weight-only quantization)")
        return w

    def ir_weight(self, w: Const, data: np.ndarray, onnx_axis: int, ir_axis: int) -> Const:
        """The weight in its IR layout; int8 weights get per-channel symmetric qparams on `ir_axis`."""
        data = np.ascontiguousarray(data)
        if w.qparams is None:
            return Const(data.astype(np.float32))
        qp, n_out = w.qparams, data.shape[ir_axis]
        if any(qp.zero_point):
            self.fail("weight zero points must be 0 (symmetric weights)")
        if qp.axis is not None and (qp.axis != onnx_axis or len(qp.scale) != n_out):
            self.fail(f"weights are quantized along axis {qp.axis}, not per output channel")
        return Const(data, QParams.make(np.broadcast_to(qp.scales(), (n_out,)), 0, axis=ir_axis))

    def bias(self, node, x: str, w: Const, n_out: int) -> Const:
        """int32 bias at s_in * s_w (float models: float32 bias); zeros if the node has none."""
        b = self.const(node.input[2], "bias") if len(node.input) > 2 and node.input[2] else None
        real = np.zeros(n_out) if b is None else b.data.astype(np.float64).reshape(-1)
        if b is not None and b.qparams is not None:
            real = real - b.qparams.zeros()
        if real.shape != (n_out,):
            self.fail(f"bias has {real.size} values for {n_out} output channels")
        if not self.quantized:
            return Const(real.astype(np.float32))
        s_in = self.tensors[x].qparams.scale[0]
        scale = np.float64(s_in) * w.qparams.scales().astype(np.float64)
        qp = QParams.make(scale, 0, axis=0)
        if b is not None and b.qparams is not None:
            if b.data.dtype == np.int32 and np.allclose(b.qparams.scales(), qp.scales(), rtol=1e-5, atol=0):
                # keep the file's own scales: they may differ from ours in the last float32 bit
                return Const(real.astype(np.int32), QParams.make(np.broadcast_to(b.qparams.scales(), (n_out,)), 0, 0))
            real = real * b.qparams.scales()
        return Const(np.clip(np.round(real / qp.scales()), -2**31, 2**31 - 1).astype(np.int32), qp)

    # ----- driver ----------------------------------------------------------------------------

    def run(self) -> Graph:
        (image,) = [v for v in self.graph.input if v.name not in self.env]
        if self.quantized:
            self.env[image.name] = FloatInput()
        else:
            self.image_input = self.new_tensor(image.name, to_nhwc(self.shapes[image.name]), DType.FLOAT32)
            self.env[image.name] = Act(self.image_input)
        for index, node in enumerate(self.graph.node):
            self.label = node_label(node, index)
            HANDLERS[node.op_type](self, node)
        if self.image_input is None:
            raise UnsupportedError(f"input '{image.name}' of a quantized model must be read by a QuantizeLinear")
        output = self.output_tensor(self.graph.output[0].name)
        name = os.path.splitext(os.path.basename(self.path))[0]
        g = classifier_as_fully_connected(prune(Graph(name, self.tensors, self.nodes, [self.image_input], [output])))
        try:
            return verify(g)
        except ValueError as e:
            raise ModelFormatError(f"{self.path}: inconsistent model ({e})") from None

    def output_tensor(self, name: str) -> str:
        v = self.env[name]
        self.label = name
        if isinstance(v, QAct) or (isinstance(v, Act) and self.quantized):
            return v.ir   # a trailing DequantizeLinear is stripped: the IR output stays int8
        if self.quantized:
            raise UnsupportedError(f"output '{name}' of a quantized model must be an int8 QuantizeLinear "
                                   "output or its DequantizeLinear")
        return self.act(name)


HANDLERS = {
    "QuantizeLinear": _Importer.quantize_linear, "DequantizeLinear": _Importer.dequantize_linear,
    "Conv": _Importer.conv, "Gemm": _Importer.gemm, "MatMul": _Importer.gemm, "Add": _Importer.add,
    "GlobalAveragePool": _Importer.global_avg_pool, "AveragePool": _Importer.avg_pool,
    "MaxPool": _Importer.max_pool, "Concat": _Importer.concat, "Slice": _Importer.slice,
    "Split": _Importer.split, "Transpose": _Importer.transpose,
    "Relu": _Importer.clamp, "Clip": _Importer.clamp, "BatchNormalization": _Importer.batch_norm,
    "Mul": _Importer.mul,
    "Flatten": _Importer.reshape, "Reshape": _Importer.reshape, "Identity": _Importer.identity,
    "Dropout": _Importer.identity, "Constant": _Importer.constant,
}
HANDLERS.update(dict.fromkeys(ONNX_ACTIVATIONS, _Importer.table_activation))
HANDLERS.update(dict.fromkeys(("Shape", "Gather", "Cast", "Unsqueeze", "Squeeze", "Sub", "Div", "Floor", "Ceil",
                                "Range", "ConstantOfShape"), _Importer.not_folded))
SUPPORTED_OPS = frozenset(HANDLERS)


def import_onnx(path: str) -> Graph:
    """Read a float or QDQ int8 ONNX model into a verified IR Graph (see the module docstring)."""
    model, shapes = load_checked(path, SUPPORTED_OPS)
    return _Importer(path, model, shapes).run()


def _to_array(path: str, t: onnx.TensorProto) -> np.ndarray:
    try:
        return numpy_helper.to_array(t)
    except Exception as e:   # e.g. raw_data whose length does not match the dims
        raise ModelFormatError(f"{path}: tensor '{t.name}' cannot be decoded ({type(e).__name__})") from None
