"""One IR node -> one runtime_c kernel call.

`forward_call(g, node, tensor_ref)` returns a `Call`: the kernel symbol, the file-scope
`static const` objects its arguments point to (parameter structs, dims, per-channel
multipliers), and the argument list.  `tensor_ref(name)` gives the C expression of a tensor's
data (an arena offset or a weight array); this module never decides where a tensor lives.

Each builder registers itself as its op's `build` (registry.py) and calls the kernel
`registry.kernel_for` picks.  Requantization multipliers are computed here, once, with
`ir.quant.quantize_multiplier` on the same float64 expressions as the reference executor
(docs/numerics.md).  Biases must already be legal (`passes/legalize_bias.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import UnsupportedError
from ..ir import Graph, Node, OpKind
from ..ir.quant import quantize_multiplier
from ..passes.legalize_bias import legal_bias
from ..registry import REGISTRY, implements, kernel_for, ops_with
from .structs import STRUCTS, Static, dims_static, geometry, pool_static

ADD_LEFT_SHIFT = 20


@dataclass
class Call:
    symbol: str
    args: list[str]
    statics: list[Static] = field(default_factory=list)


def _qp(g: Graph, name: str) -> tuple[float, int]:
    qp = g.tensors[name].qparams
    return qp.scale[0], qp.zero_point[0]


def _same_quantization(g: Graph, a: str, b: str) -> bool:
    """Tensors a and b share their (per-tensor) scale and zero point: nothing to requantize."""
    return _qp(g, a) == _qp(g, b)


def _multipliers(reals: np.ndarray) -> tuple[list[int], list[int]]:
    pairs = [quantize_multiplier(float(r)) for r in reals]
    return [m for m, _ in pairs], [s for _, s in pairs]


def _clamp(node: Node) -> dict[str, int]:
    """The act_min / act_max fields: the node's fused clamp, else the whole int8 range."""
    return {"act_min": node.attrs.get("act_min", -128), "act_max": node.attrs.get("act_max", 127)}


def _weighted_kernel(g: Graph, node: Node, var: str) -> tuple[str, Static]:
    """(symbol, params static `var`) of a CONV2D / DEPTHWISE_CONV2D / FC node."""
    zp_in, zp_out = _qp(g, node.inputs[0])[1], _qp(g, node.outputs[0])[1]
    quant = {"input_offset": -zp_in, "output_offset": zp_out, **_clamp(node)}
    if node.op == OpKind.FULLY_CONNECTED:
        return kernel_for(g, node).symbol, STRUCTS["tte_fc_params"].static(var, **quant)
    return kernel_for(g, node).symbol, STRUCTS["tte_conv_params"].static(var, **geometry(node.attrs), **quant)


def _per_channel_quant(var: str, mult: list[int], shift: list[int]) -> list[Static]:
    """The multiplier and shift arrays `<var>_mult`, `<var>_shift` and their tte_per_channel_quant `var`."""
    return [Static("int32_t", f"{var}_mult", mult, len(mult)), Static("int32_t", f"{var}_shift", shift, len(shift)),
            STRUCTS["tte_per_channel_quant"].static(var, multiplier=f"{var}_mult", shift=f"{var}_shift")]


@implements(OpKind.CONV2D, "build")
@implements(OpKind.DEPTHWISE_CONV2D, "build")
@implements(OpKind.FULLY_CONNECTED, "build")
def _weighted(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call:
    x, w, b = (g.tensors[n] for n in node.inputs)
    y = g.tensors[node.outputs[0]]
    s_in, s_out = _qp(g, x.name)[0], _qp(g, y.name)[0]
    reals = np.float64(s_in) * np.asarray(w.qparams.scale, np.float64) / np.float64(s_out)
    mult, shift = _multipliers(reals)
    symbol, params = _weighted_kernel(g, node, f"{tag}_params")
    if not np.array_equal(legal_bias(g, node), b.data):
        raise UnsupportedError(f"node '{node.name}': its int32 bias can overflow the C accumulator; "
                               "run passes.legalize_bias first")
    fc = node.op == OpKind.FULLY_CONNECTED
    statics = [params, *_per_channel_quant(f"{tag}_quant", mult, shift),
               dims_static(f"{tag}_in_dims", (x.size,) if fc else x.shape),
               dims_static(f"{tag}_w_dims", w.shape), dims_static(f"{tag}_out_dims", y.shape)]
    args = ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_quant", f"&{tag}_in_dims", ref(x.name),
            f"&{tag}_w_dims", ref(w.name), ref(b.name), f"&{tag}_out_dims", ref(y.name)]
    return Call(symbol, args, statics)


@implements(OpKind.ADD, "build")
def _add(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call:
    (s_a, zp_a), (s_b, zp_b) = _qp(g, node.inputs[0]), _qp(g, node.inputs[1])
    s_out, zp_out = _qp(g, node.outputs[0])
    twice_max = 2.0 * max(np.float64(s_a), np.float64(s_b))
    m_a, sh_a = quantize_multiplier(np.float64(s_a) / twice_max)
    m_b, sh_b = quantize_multiplier(np.float64(s_b) / twice_max)
    m_o, sh_o = quantize_multiplier(twice_max / ((1 << ADD_LEFT_SHIFT) * np.float64(s_out)))
    params = STRUCTS["tte_add_params"].static(
        f"{tag}_params", input1_offset=-zp_a, input1_multiplier=m_a, input1_shift=sh_a, input2_offset=-zp_b,
        input2_multiplier=m_b, input2_shift=sh_b, left_shift=ADD_LEFT_SHIFT, output_multiplier=m_o,
        output_shift=sh_o, output_offset=zp_out, **_clamp(node))
    y = g.tensors[node.outputs[0]]
    statics = [params, dims_static(f"{tag}_dims", y.shape)]
    return Call(kernel_for(g, node).symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_dims", ref(node.inputs[0]),
                                             ref(node.inputs[1]), ref(y.name)], statics)


@implements(OpKind.GLOBAL_AVG_POOL, "build")
def _global_avg_pool(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call:
    x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
    (s_in, zp_in), (s_out, zp_out) = _qp(g, x.name), _qp(g, y.name)
    count = x.shape[1] * x.shape[2]
    m, s = (0, 0)   # the kernel reads multiplier 0 as the same quantization: a rounded division
    if not _same_quantization(g, x.name, y.name):
        ratio = np.float64(s_in) / (np.float64(s_out) * count)
        m, s = quantize_multiplier(ratio)
        if m == 0:
            raise UnsupportedError(f"node '{node.name}': GlobalAveragePool's requantization s_in / (s_out * H * W) = "
                                   f"{ratio:.3g} is below 2^-31, so its output would be a constant")
    statics = [STRUCTS["tte_gap_params"].static(f"{tag}_params", input_offset=-zp_in, output_offset=zp_out,
                                                multiplier=m, shift=s, act_min=-128, act_max=127),
               dims_static(f"{tag}_in_dims", x.shape), dims_static(f"{tag}_out_dims", y.shape)]
    return Call(kernel_for(g, node).symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_in_dims", ref(x.name),
                                             f"&{tag}_out_dims", ref(y.name)], statics)


def _pool_statics(g: Graph, node: Node, tag: str) -> list[Static]:
    x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
    return [pool_static(f"{tag}_params", node.attrs, **_clamp(node)),
            dims_static(f"{tag}_in_dims", x.shape), dims_static(f"{tag}_k_dims", (1, *node.attrs["kernel"], 1)),
            dims_static(f"{tag}_out_dims", y.shape)]


@implements(OpKind.AVG_POOL2D, "build")
def _avg_pool(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call:
    """An average pool; requantized per count of valid taps (`rq`) when its quantization changes."""
    x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
    statics, rq = _pool_statics(g, node, tag), "NULL"
    if not _same_quantization(g, x.name, y.name):
        (s_in, zp_in), (s_out, zp_out) = _qp(g, x.name), _qp(g, y.name)
        taps = node.attrs["kernel"][0] * node.attrs["kernel"][1]
        mult, shift = _multipliers(np.float64(s_in) / (np.float64(s_out) * np.arange(1, taps + 1)))
        statics += [Static("int32_t", f"{tag}_mult", mult, taps), Static("int32_t", f"{tag}_shift", shift, taps),
                    STRUCTS["tte_avg_requant"].static(f"{tag}_rq", input_offset=-zp_in, output_offset=zp_out,
                                                      multiplier=f"{tag}_mult", shift=f"{tag}_shift")]
        rq = f"&{tag}_rq"
    return Call(kernel_for(g, node).symbol, ["&tte_no_scratch", f"&{tag}_params", rq, f"&{tag}_in_dims", ref(x.name),
                                             f"&{tag}_k_dims", f"&{tag}_out_dims", ref(y.name)], statics)


@implements(OpKind.MAX_POOL2D, "build")
def _max_pool(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call:
    """A max pool; its output requantized when its quantization differs from the input's."""
    x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
    rq, rescale = _rescale(g, x.name, y.name, f"{tag}_rq")
    statics = _pool_statics(g, node, tag) + rescale
    return Call(kernel_for(g, node).symbol, ["&tte_no_scratch", f"&{tag}_params", rq, f"&{tag}_in_dims", ref(x.name),
                                             f"&{tag}_k_dims", f"&{tag}_out_dims", ref(y.name)], statics)


def _rescale(g: Graph, src: str, dst: str, tag: str) -> tuple[str, list[Static]]:
    """("NULL", []) when tensors `src` and `dst` share their quantization, else a tte_rescale."""
    if _same_quantization(g, src, dst):
        return "NULL", []
    (s_in, zp_in), (s_out, zp_out) = _qp(g, src), _qp(g, dst)
    m, s = quantize_multiplier(np.float64(s_in) / np.float64(s_out))
    return f"&{tag}", [STRUCTS["tte_rescale"].static(tag, input_offset=-zp_in, output_offset=zp_out, multiplier=m,
                                                     shift=s)]


@implements(OpKind.CONCAT, "build")
def _concat(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> list[Call]:
    """One tte_copy_channels_s8 per input, into its channels of the output."""
    y = g.tensors[node.outputs[0]]
    calls, start = [], 0
    for i, name in enumerate(node.inputs):
        x = g.tensors[name]
        rq, statics = _rescale(g, name, y.name, f"{tag}_rq{i}")
        n = x.shape[-1]
        statics += [dims_static(f"{tag}_in_dims{i}", x.shape),
                    Static("int32_t", f"{tag}_out_channels{i}", list(range(start, start + n)), n)]
        if i == 0:
            statics.append(dims_static(f"{tag}_out_dims", y.shape))
        calls.append(Call(kernel_for(g, node).symbol, ["&tte_no_scratch", rq, f"&{tag}_in_dims{i}", ref(name), "NULL",
                                                       f"{tag}_out_channels{i}", str(n), f"&{tag}_out_dims",
                                                       ref(y.name)], statics))
        start += n
    return calls


@implements(OpKind.CHANNEL_SELECT, "build")
def _channel_select(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call:
    x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
    channels = list(node.attrs["channels"])
    rq, statics = _rescale(g, x.name, y.name, f"{tag}_rq")
    statics += [dims_static(f"{tag}_in_dims", x.shape), Static("int32_t", f"{tag}_channels", channels, len(channels)),
                dims_static(f"{tag}_out_dims", y.shape)]
    return Call(kernel_for(g, node).symbol, ["&tte_no_scratch", rq, f"&{tag}_in_dims", ref(x.name), f"{tag}_channels",
                                             "NULL", str(len(channels)), f"&{tag}_out_dims", ref(y.name)], statics)


@implements(OpKind.LUT, "build")
def _lut(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call:
    """A table activation: its 256 int8 values, made at import (ir/activations.py)."""
    y = g.tensors[node.outputs[0]]
    statics = [Static("int8_t", f"{tag}_table", list(node.attrs["table"]), 256),
               dims_static(f"{tag}_dims", y.shape)]
    return Call(kernel_for(g, node).symbol, ["&tte_no_scratch", f"{tag}_table", f"&{tag}_dims", ref(node.inputs[0]),
                                             ref(y.name)], statics)


@implements(OpKind.MUL, "build")
def _mul(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call:
    """An int8 product; the second operand may be one value a channel (broadcast)."""
    (s_a, zp_a), (s_b, zp_b) = _qp(g, node.inputs[0]), _qp(g, node.inputs[1])
    s_out, zp_out = _qp(g, node.outputs[0])
    m, s = quantize_multiplier(np.float64(s_a) * np.float64(s_b) / np.float64(s_out))
    y = g.tensors[node.outputs[0]]
    statics = [STRUCTS["tte_mul_params"].static(f"{tag}_params", input1_offset=-zp_a, input2_offset=-zp_b,
                                                output_multiplier=m, output_shift=s, output_offset=zp_out,
                                                **_clamp(node)),
               dims_static(f"{tag}_dims", y.shape), dims_static(f"{tag}_b_dims", g.tensors[node.inputs[1]].shape)]
    return Call(kernel_for(g, node).symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_dims", ref(node.inputs[0]),
                                             f"&{tag}_b_dims", ref(node.inputs[1]), ref(y.name)], statics)


@implements(OpKind.FUSED_EXPAND_DEPTHWISE, "build")
def _fused_expand_depthwise(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call:
    """Expand 1x1 conv then depthwise conv, two expanded channels at a time through the node's
    scratch (the biases were legalized before `fuse_frozen_prefix` made this node)."""
    x, w1, b1, w2, b2 = (g.tensors[n] for n in node.inputs)
    y = g.tensors[node.outputs[0]]
    (s_x, zp_x), (s_out, zp_out) = _qp(g, x.name), _qp(g, y.name)
    s_mid, zp_mid = np.float64(node.attrs["mid_scale"]), int(node.attrs["mid_zero_point"])
    m1, sh1 = _multipliers(np.float64(s_x) * np.asarray(w1.qparams.scale, np.float64) / s_mid)
    m2, sh2 = _multipliers(s_mid * np.asarray(w2.qparams.scale, np.float64) / np.float64(s_out))
    conv = STRUCTS["tte_conv_params"]
    statics = [conv.static(f"{tag}_expand_params", **geometry({"stride": (1, 1), "pads": (0, 0, 0, 0)}),
                           input_offset=-zp_x, output_offset=zp_mid, act_min=node.attrs["expand_act_min"],
                           act_max=node.attrs["expand_act_max"]),
               *_per_channel_quant(f"{tag}_expand_quant", m1, sh1),
               conv.static(f"{tag}_dw_params", **geometry(node.attrs), input_offset=-zp_mid, output_offset=zp_out,
                           act_min=node.attrs["act_min"], act_max=node.attrs["act_max"]),
               *_per_channel_quant(f"{tag}_dw_quant", m2, sh2),
               dims_static(f"{tag}_in_dims", x.shape), dims_static(f"{tag}_w1_dims", w1.shape),
               dims_static(f"{tag}_w2_dims", w2.shape), dims_static(f"{tag}_out_dims", y.shape)]
    args = ["&tte_no_scratch", f"&{tag}_expand_params", f"&{tag}_expand_quant", f"&{tag}_dw_params", f"&{tag}_dw_quant",
            f"&{tag}_in_dims", ref(x.name), f"&{tag}_w1_dims", ref(w1.name), ref(b1.name), f"&{tag}_w2_dims",
            ref(w2.name), ref(b2.name), f"&{tag}_out_dims", ref(y.name)]
    return Call(kernel_for(g, node).symbol, args, statics)


def forward_call(g: Graph, node: Node, tag: str, ref: Callable[[str], str]) -> Call | list[Call]:
    """The kernel call of int8 forward node `node` (CONCAT: one call per input); `tag`
    prefixes its static objects."""
    build = REGISTRY[node.op].build
    if build is None:
        supported = sorted(op.value for op in ops_with("build") if REGISTRY[op].forward)
        raise UnsupportedError(f"node '{node.name}': op {node.op.value} has no C kernel yet; "
                               f"supported: {', '.join(supported)}")
    return build(g, node, tag, ref)
