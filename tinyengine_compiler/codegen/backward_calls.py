"""One training-graph node -> one float32 runtime_c kernel call (the backward half of `calls`).

Same contract as `calls.forward_call`: static parameter objects plus arguments, with
`ref(name)` giving each tensor's C expression; each builder registers itself as its op's `build`
(registry.py) and also takes what the plan keeps for it (`BackwardInputs`: the saved state's
buffers, the split weights).  An update reads `tte_ram.sgd[i]`, its entry of `sgd_entries`:
the SGD parameters (learning rate times the update's lr_scale, scale mode, momentum, step clip) that
`tte_train_step` sets at run time; an update with momentum also its velocity
`velocity_name(param)`.

A fused weight gradient (`fused_update`, passes/reorder.py) and its SGD update both take
`BLOCK` (`&tte_block`, a tte_rows the generated loop steps through the output channels):
the gradient kernel makes one block of rows and the update applies it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..ir import Graph, Node, OpKind
from ..reference.backward.sgd_update import has_momentum, rounds_stochastically
from ..registry import REGISTRY, implements, kernel_for
from .calls import Call, _qp
from .structs import STRUCTS, Static, dims_static, geometry, pool_static

Ref = Callable[[str], str]
SCALE_PER_TENSOR, SCALE_PER_ROW, SCALE_PER_COLUMN = 0, 1, 2   # tte_scale_mode
BLOCK = "&tte_block"   # the tte_rows of a fused update's loop (templates/tte_model.c.j2)


@dataclass(frozen=True)
class BackwardInputs:
    """What a backward call reads beside the node: `kept[(x, reader)]`, the gathered buffer a
    partial weight gradient reads (passes/lifetimes.py); `split`, the weights stored split (only
    their trained columns in SRAM, codegen/context.py `split_weights`)."""
    kept: dict[tuple[str, str], str] = field(default_factory=dict)
    split: frozenset[str] = frozenset()


def c_float(v: float) -> str:
    """v as a float32 C literal, exactly."""
    return f"{np.float32(v).item()!r}f"


@implements(OpKind.REAL_LOGITS, "build")
def _real_logits(g, n, tag, ref, inputs):
    """The classifier's real logits: its forward call's dims, its scale per class."""
    x, w, b = n.inputs
    z = g.tensors[n.outputs[0]]
    classes, depth = g.tensors[w].shape
    statics = [STRUCTS["tte_real_logits_params"].static(f"{tag}_params", input_offset=-_qp(g, x)[1]),
               Static("float", f"{tag}_scale", [c_float(v) for v in n.attrs["scale"]], classes),
               dims_static(f"{tag}_in_dims", (depth,)), dims_static(f"{tag}_w_dims", (classes, depth)),
               dims_static(f"{tag}_out_dims", z.shape)]
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_params", f"{tag}_scale", f"&{tag}_in_dims",
                                          ref(x), f"&{tag}_w_dims", ref(w), ref(b), f"&{tag}_out_dims", ref(z.name)],
                statics)


@implements(OpKind.SOFTMAX_CROSS_ENTROPY, "build")
def _softmax(g, n, tag, ref, inputs):
    statics = [STRUCTS["tte_softmax_ce_params"].static(f"{tag}_params",
                                                       label_smoothing=c_float(n.attrs.get("label_smoothing", 0.0))),
               dims_static(f"{tag}_dims", g.tensors[n.inputs[0]].shape)]
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_dims", ref(n.inputs[0]),
                                          ref(n.inputs[1]), ref(n.outputs[0]), ref(n.outputs[1])], statics)


@implements(OpKind.CLAMP_GRAD, "build")
def _clamp(g, n, tag, ref, inputs):
    """ReLU backward: from the packed 1-bit mask of y when the plan keeps one, else from y."""
    dims = dims_static(f"{tag}_dims", g.tensors[n.inputs[0]].shape)
    if (n.inputs[1], n.name) in inputs.kept:
        return Call("tte_clamp_grad_mask_f32", ["&tte_no_scratch", f"&{tag}_dims", ref(n.inputs[0]),
                                                ref(inputs.kept[(n.inputs[1], n.name)]), ref(n.outputs[0])], [dims])
    statics = [STRUCTS["tte_clamp_grad_params"].static(f"{tag}_params", act_min=n.attrs["act_min"],
                                                       act_max=n.attrs["act_max"]), dims]
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_dims", ref(n.inputs[0]),
                                          ref(n.inputs[1]), ref(n.outputs[0])], statics)


def _conv_grad_params(g, n, tag, x_name):
    s, zp = _qp(g, x_name) if x_name else (1.0, 0)
    return STRUCTS["tte_conv_grad_params"].static(f"{tag}_params", **geometry(n.attrs), input_scale=c_float(s),
                                                  input_zero_point=zp)


def _w_scales(g, tag, w_name):
    return Static("float", f"{tag}_w_scale", [c_float(v) for v in g.tensors[w_name].qparams.scale],
                  len(g.tensors[w_name].qparams.scale))


@implements(OpKind.CONV2D_GRAD_INPUT, "build")
@implements(OpKind.DEPTHWISE_CONV2D_GRAD_INPUT, "build")
@implements(OpKind.FULLY_CONNECTED_GRAD_INPUT, "build")
def _grad_input(g, n, tag, ref, inputs):
    gz, w = n.inputs
    out = n.outputs[0]
    statics = [dims_static(f"{tag}_g_dims", g.tensors[gz].shape), _w_scales(g, tag, w),
               dims_static(f"{tag}_w_dims", g.tensors[w].shape),
               dims_static(f"{tag}_out_dims", g.tensors[out].shape)]
    if n.op == OpKind.FULLY_CONNECTED_GRAD_INPUT:
        return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_g_dims", ref(gz), f"&{tag}_w_dims", ref(w),
                                              f"{tag}_w_scale", f"&{tag}_out_dims", ref(out)], statics)
    statics.append(_conv_grad_params(g, n, tag, None))
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_g_dims", ref(gz),
                                          f"&{tag}_w_dims", ref(w), f"{tag}_w_scale", f"&{tag}_out_dims", ref(out)],
                statics)


@implements(OpKind.CONV2D_GRAD_WEIGHT, "build")
@implements(OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT, "build")
@implements(OpKind.FULLY_CONNECTED_GRAD_WEIGHT, "build")
def _grad_weight(g, n, tag, ref, inputs):
    """Weight gradient.  With trained `channels` it reads the gathered kept channels of x when
    the plan keeps only those (`lifetimes`), else the whole saved x with the channel list."""
    x, gz = n.inputs
    out = n.outputs[0]
    channels = n.attrs.get("channels")
    x_ref, x_shape, chan_arg = ref(x), g.tensors[x].shape, "NULL"
    statics = []
    gathered = channels is not None and (x, n.name) in inputs.kept
    if gathered:
        x_ref = ref(inputs.kept[(x, n.name)])
        x_shape = (*x_shape[:-1], len(channels))
    # conv reading the gathered x needs no list; depthwise pairs gathered j with gz channel kept[j]
    if channels is not None and not (gathered and n.op != OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT):
        statics.append(Static("int32_t", f"{tag}_channels", list(channels), len(channels)))
        chan_arg = f"{tag}_channels"
    statics += [dims_static(f"{tag}_x_dims", x_shape),
                dims_static(f"{tag}_g_dims", g.tensors[gz].shape),
                dims_static(f"{tag}_out_dims", g.tensors[out].shape)]
    rows = [BLOCK if n.attrs.get("fused_update") else "NULL"]   # conv and FC gradients take a block
    if n.op == OpKind.FULLY_CONNECTED_GRAD_WEIGHT:
        s, zp = _qp(g, x)
        statics.append(STRUCTS["tte_fc_grad_params"].static(f"{tag}_params", input_scale=c_float(s),
                                                            input_zero_point=zp))
        symbol = kernel_for(g, n).symbol
    else:
        statics.append(_conv_grad_params(g, n, tag, x))
        # a depthwise gradient reading the gathered channels runs the kernel's kept twin
        kept_twin = gathered and n.op == OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT
        symbol = "tte_depthwise_conv2d_grad_weight_kept_f32" if kept_twin else kernel_for(g, n).symbol
        if n.op == OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT:
            rows = []
    return Call(symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_x_dims", x_ref, f"&{tag}_g_dims", ref(gz),
                         chan_arg, *rows, f"&{tag}_out_dims", ref(out)], statics)


@implements(OpKind.BIAS_GRAD, "build")
@implements(OpKind.GLOBAL_AVG_POOL_GRAD, "build")
def _two_dims(g, n, tag, ref, inputs):
    """A kernel of the incoming gradient and the output, each with its dims."""
    statics = [dims_static(f"{tag}_g_dims", g.tensors[n.inputs[0]].shape),
               dims_static(f"{tag}_out_dims", g.tensors[n.outputs[0]].shape)]
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_g_dims", ref(n.inputs[0]), f"&{tag}_out_dims",
                                          ref(n.outputs[0])], statics)


@implements(OpKind.AVG_POOL2D_GRAD, "build")
def _avg_pool_grad(g, n, tag, ref, inputs):
    gy, out = n.inputs[0], n.outputs[0]
    statics = [pool_static(f"{tag}_params", n.attrs), dims_static(f"{tag}_g_dims", g.tensors[gy].shape),
               dims_static(f"{tag}_k_dims", (1, *n.attrs["kernel"], 1)),
               dims_static(f"{tag}_out_dims", g.tensors[out].shape)]
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_g_dims", ref(gy),
                                          f"&{tag}_k_dims", f"&{tag}_out_dims", ref(out)], statics)


@implements(OpKind.MAX_POOL2D_GRAD, "build")
def _max_pool_grad(g, n, tag, ref, inputs):
    """From the tap each window picked (`<x>.argmax.<reader>`, tte_max_pool2d_argmax_s8)."""
    gy, x = n.inputs
    out = n.outputs[0]
    statics = [pool_static(f"{tag}_params", n.attrs), dims_static(f"{tag}_g_dims", g.tensors[gy].shape),
               dims_static(f"{tag}_k_dims", (1, *n.attrs["kernel"], 1)),
               dims_static(f"{tag}_out_dims", g.tensors[out].shape)]
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_g_dims", ref(gy),
                                          ref(inputs.kept[(x, n.name)]), f"&{tag}_k_dims", f"&{tag}_out_dims",
                                          ref(out)], statics)


@implements(OpKind.GRAD_MOVE_CHANNELS, "build")
def _move_channels(g, n, tag, ref, inputs):
    gy, out = n.inputs[0], n.outputs[0]
    src, dst = n.attrs["in_channels"], n.attrs["out_channels"]
    count = len(src) if src is not None else len(dst)
    statics = [dims_static(f"{tag}_g_dims", g.tensors[gy].shape),
               dims_static(f"{tag}_out_dims", g.tensors[out].shape)]
    lists = []
    for side, channels in (("in", src), ("out", dst)):
        if channels is None:
            lists.append("NULL")
        else:
            statics.append(Static("int32_t", f"{tag}_{side}_channels", list(channels), len(channels)))
            lists.append(f"{tag}_{side}_channels")
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_g_dims", ref(gy), *lists, str(count),
                                          f"&{tag}_out_dims", ref(out)], statics)


@implements(OpKind.LUT_GRAD, "build")
def _lut_grad(g, n, tag, ref, inputs):
    gy, x = n.inputs
    statics = [Static("float", f"{tag}_slope", [c_float(v) for v in n.attrs["slope"]], 256),
               dims_static(f"{tag}_dims", g.tensors[gy].shape)]
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"{tag}_slope", f"&{tag}_dims", ref(gy), ref(x),
                                          ref(n.outputs[0])], statics)


@implements(OpKind.MUL_GRAD, "build")
def _mul_grad(g, n, tag, ref, inputs):
    """One operand's gradient, from the other operand (saved int8)."""
    gz, other = n.inputs
    s, zp = _qp(g, other)
    statics = [STRUCTS["tte_mul_grad_params"].static(f"{tag}_params", other_scale=c_float(s), other_zero_point=zp),
               dims_static(f"{tag}_g_dims", g.tensors[gz].shape),
               dims_static(f"{tag}_o_dims", g.tensors[other].shape),
               dims_static(f"{tag}_out_dims", g.tensors[n.outputs[0]].shape)]
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_g_dims", ref(gz),
                                          f"&{tag}_o_dims", ref(other), f"&{tag}_out_dims", ref(n.outputs[0])],
                statics)


@implements(OpKind.GRAD_ACCUMULATE, "build")
def _accumulate(g, n, tag, ref, inputs):
    statics = [dims_static(f"{tag}_dims", g.tensors[n.outputs[0]].shape)]
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&{tag}_dims", ref(n.inputs[0]), ref(n.inputs[1]),
                                          ref(n.outputs[0])], statics)


def master_name(image: str) -> str:
    """The C array of a float32 master weight, beside `image`, the int8 array the forward reads."""
    return image.replace("tte_t_", "tte_m_", 1)


def velocity_name(image: str) -> str:
    """The C array of a parameter's momentum velocity, beside `image`, the parameter's array."""
    return image.replace("tte_t_", "tte_v_", 1)


def _scale_mode(g: Graph, n: Node) -> int:
    p = g.tensors[n.inputs[0]]
    return (SCALE_PER_TENSOR if len(p.qparams.scale) == 1 else
            SCALE_PER_COLUMN if p.qparams.axis == len(p.shape) - 1 and len(p.shape) == 4 else SCALE_PER_ROW)


def sgd_entry(g: Graph, n: Node) -> tuple[int, float, float, float]:
    """The SGD parameters SGD_UPDATE `n` steps with: (scale mode, lr scale, momentum, step clip)."""
    return (_scale_mode(g, n), float(n.attrs.get("lr_scale", 1.0)), float(n.attrs.get("momentum", 0.0)),
            float(n.attrs.get("step_clip", 0.0)))


def sgd_entries(g: Graph) -> list[tuple[int, float, float, float]]:
    """The distinct SGD parameters of `g`'s updates, in a fixed order: the entries of tte_ram.sgd."""
    return sorted({sgd_entry(g, n) for n in g.nodes if n.op == OpKind.SGD_UPDATE})


@implements(OpKind.SGD_UPDATE, "build")
def _sgd(g, n, tag, ref, inputs):
    """The update of a parameter; a split weight's SRAM part is its trained columns, a whole
    [C_out, KH, KW, n] parameter (codegen/context.py `split_weights`)."""
    param, grad, scale = n.inputs
    storage, split = n.attrs["storage"], n.inputs[0] in inputs.split
    p = g.tensors[param]
    entry = sgd_entries(g).index(sgd_entry(g, n))
    channels = n.attrs.get("channels")
    # a bias [C] is {C, 1, 1, 1}: one row per output channel, scaled per row
    rows = (lambda shape: (shape[0], 1, 1, 1)) if len(p.shape) == 1 else tuple
    stored_shape = (*p.shape[:-1], len(channels)) if split else p.shape
    channels = None if split else channels
    statics = [dims_static(f"{tag}_p_dims", rows(stored_shape)),
               dims_static(f"{tag}_g_dims", rows(g.tensors[grad].shape))]
    chan_arg = "NULL"
    if channels is not None:
        statics.append(Static("int32_t", f"{tag}_channels", list(channels), len(channels)))
        chan_arg = f"{tag}_channels"
    # an int8 / int32 update takes its parameter in the int8 or the int32 slot, and rounds to
    # nearest (NULL) or with the engine's draws counter
    draws = "tte_ram.draws" if rounds_stochastically(n) else "NULL"
    stored = {"float32": [master_name(ref(param)), ref(param)], "int8": [ref(param), "NULL", draws],
              "int32": ["NULL", ref(param), draws]}[storage]
    velocity = velocity_name(ref(param)) if has_momentum(n) else "NULL"
    rows = BLOCK if g.producer(grad).attrs.get("fused_update") == n.name else "NULL"
    return Call(kernel_for(g, n).symbol, ["&tte_no_scratch", f"&tte_ram.sgd[{entry}]", f"&{tag}_p_dims",
                                          f"&{tag}_g_dims", ref(grad), ref(scale), chan_arg, rows, *stored, velocity],
                statics)


def backward_call(g: Graph, n: Node, tag: str, ref: Ref, inputs: BackwardInputs) -> Call:
    """The kernel call of backward node `n`; `tag` prefixes its static objects."""
    return REGISTRY[n.op].build(g, n, tag, ref, inputs)
