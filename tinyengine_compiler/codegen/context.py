"""A planned inference Graph -> the plain dict that the templates render.

Takes an int8 forward Graph, the arena offset of every activation (from a planner) and the
arena size; guarantees a context in which every decision is already made: the kernel of each
node and its literal arguments, the arena offset of every activation, the Flash arrays of the
constants with C identifiers.  Templates only print it.
"""

from __future__ import annotations

import re

import numpy as np

from .. import __version__
from ..ir import DType, Graph, Node, OpKind
from ..ir.ops import BACKWARD_OPS
from .backward_calls import backward_call, master_name
from .calls import Static, _dims, forward_call

_CTYPES = {DType.INT8: "int8_t", DType.INT32: "int32_t", DType.FLOAT32: "float", DType.UINT8: "uint8_t"}


def _literal(v) -> str:
    """A C literal; INT32_MIN has none (2147483648 alone does not fit an int)."""
    return "INT32_MIN" if v == -(1 << 31) else str(v)


def _rows(values, per_row: int = 24) -> list[str]:
    """Array initializer text, `per_row` literals a line."""
    lits = [_literal(v) for v in values]
    return [", ".join(lits[i:i + per_row]) for i in range(0, len(lits), per_row)]


def _identifiers(names: list[str]) -> dict[str, str]:
    """Tensor name -> unique C identifier `tte_c_<sanitized>`."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = "tte_c_" + re.sub(r"\W", "_", name)
        ident, k = base, 1
        while ident in taken:
            ident, k = f"{base}_{k}", k + 1
        taken.add(ident)
        out[name] = ident
    return out


def _saved_state(g: Graph, offsets: dict[str, int]) -> dict[tuple[str, str], str]:
    """What backward keeps of a forward tensor instead of the whole (`passes/lifetimes.py`):
    (tensor, reader) -> `<tensor>.kept.<reader>`, the kept channels for a weight gradient, and
    (tensor, CLAMP_GRAD reader) -> `<tensor>.mask`, its packed 1-bit ReLU mask."""
    out = {}
    for name in offsets:
        if ".kept." in name:
            tensor, reader = name.split(".kept.", 1)
            out[(tensor, reader)] = name
        elif name.endswith(".mask"):
            tensor = name[:-len(".mask")]
            for n in g.consumers(tensor):
                if n.op == OpKind.CLAMP_GRAD and n.inputs[1] == tensor:
                    out[(tensor, n.name)] = name
    return out


def _pack_mask(g: Graph, tensor: str, mask_ref: str, reader: Node, tag: str, ref) -> tuple[dict, list[Static]]:
    statics = [Static("tte_clamp_grad_params", f"{tag}_params", [reader.attrs["act_min"], reader.attrs["act_max"]]),
               Static("tte_dims", f"{tag}_dims", _dims(g.tensors[tensor].shape))]
    call = {"comment": f"1-bit ReLU mask of {tensor} for {reader.name}", "symbol": "tte_pack_mask_s8",
            "args": ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_dims", ref(tensor), mask_ref]}
    return call, statics


def _gather(g: Graph, tensor: str, kept_ref: str, reader: Node, tag: str, ref) -> tuple[dict, list[Static]]:
    channels = list(reader.attrs["channels"])
    shape = g.tensors[tensor].shape
    statics = [Static("int32_t", f"{tag}_channels", channels, len(channels)),
               Static("tte_dims", f"{tag}_in_dims", _dims(shape)),
               Static("tte_dims", f"{tag}_out_dims", _dims((*shape[:-1], len(channels))))]
    call = {"comment": f"keep channels {channels[:4]}{'...' if len(channels) > 4 else ''} of {tensor} for {reader.name}",
            "symbol": "tte_gather_channels_s8",
            "args": ["&tte_no_scratch", f"&{tag}_in_dims", ref(tensor), f"{tag}_channels", f"&{tag}_out_dims",
                     kept_ref]}
    return call, statics


# Marker ids of the phases of a training step (TTE_PHASE_MARK in tte_model.c; a firmware that
# counts instructions defines it as a `dbg #n` marker, see targets/m7/tte_bench.h).
PHASE_FORWARD, PHASE_BACKWARD, PHASE_UPDATE, PHASE_END = 4, 5, 6, 7


def _phase(node: Node) -> int:
    if node.op == OpKind.SGD_UPDATE:
        return PHASE_UPDATE
    return PHASE_BACKWARD if node.op in BACKWARD_OPS else PHASE_FORWARD


def _mark_phase_changes(calls: list[dict]) -> None:
    """Set `mark` on each call that starts a new phase (the template emits the marker there)."""
    previous = None
    for call in calls:
        call["mark"] = call["phase"] if call["phase"] != previous else None
        previous = call["phase"]


def _trainable(g: Graph, update: Node, image: str, init: str) -> dict:
    """One trained parameter's SRAM state.  int8 / int32 storage: the array the kernels read,
    updated in place.  float32 storage: a float master (`master`, the state that
    tte_get_trainable saves) and its int8 image (`name`), which the forward reads."""
    t = g.tensors[update.inputs[0]]
    entry = {"name": image, "init": init, "ctype": _CTYPES[t.dtype], "count": t.size, "bytes": t.nbytes,
             "master": None}
    if update.attrs["storage"] == "float32":
        entry.update(master=master_name(image), bytes=4 * t.size)
    return entry


def build_context(g: Graph, offsets: dict[str, int], arena_bytes: int, *, source: str, source_sha256: str,
                  sizes: dict[str, int] | None = None) -> dict:
    """Context of the engine of `g`: inference only, or (when `g` holds SGD_UPDATE nodes) the
    training step too.  Trained parameters live in SRAM arrays initialized from Flash.
    `sizes` gives the bytes of each planned buffer (needed for `<node>.scratch` buffers)."""
    sizes = sizes or {}
    updates = [n for n in g.nodes if n.op == OpKind.SGD_UPDATE]
    trained = [n.inputs[0] for n in updates]
    constants = [t.name for t in g.tensors.values() if t.is_constant]
    idents = _identifiers(constants)
    sram = {name: idents[name].replace("tte_c_", "tte_t_", 1) for name in trained}
    kept = _saved_state(g, offsets)
    nodes = {n.name: n for n in g.nodes}

    def ref(name: str) -> str:
        if name.endswith(".mask") and name in kept.values():
            return f"((uint8_t *)(tte_arena + {offsets[name]}))"
        if name in kept.values():   # the gathered channels of a saved activation
            return f"((int8_t *)(tte_arena + {offsets[name]}))"
        t = g.tensors[name]
        if name in sram:
            return sram[name]
        if t.is_constant:
            return idents[name]
        return f"(({_CTYPES[t.dtype]} *)(tte_arena + {offsets[name]}))"

    infer_calls, train_calls, statics, sgd, used = [], [], [], [], set()
    for i, node in enumerate(g.nodes):
        tag = f"n{i}"
        forward = node.op not in BACKWARD_OPS
        call = forward_call(g, node, tag, ref) if forward else backward_call(g, node, tag, ref, kept)
        scratch = f"{node.name}.scratch"
        if scratch in offsets:   # the node's kernel works through scratch memory in the arena
            statics.append(Static("tte_ctx", f"{tag}_ctx", [f"tte_arena + {offsets[scratch]}", sizes[scratch]]))
            call.args[0] = f"&{tag}_ctx"
        entry = {"comment": f"{node.name}: {node.op.value} -> {', '.join(node.outputs)}", "symbol": call.symbol,
                 "args": call.args, "phase": _phase(node)}
        statics.extend(call.statics)
        used.update(n for n in node.inputs if g.tensors[n].is_constant and idents[n] in call.args)
        if call.sgd:
            sgd.append({"name": call.sgd[0], "mode": call.sgd[1]})
        train_calls.append(entry)
        if forward:
            infer_calls.append(entry)
            for (tensor, reader), buffer in kept.items():
                if tensor in node.outputs:
                    keep = _pack_mask if buffer.endswith(".mask") else _gather
                    saved, more = keep(g, tensor, ref(buffer), nodes[reader], f"{tag}_{len(statics)}", ref)
                    train_calls.append({**saved, "phase": PHASE_FORWARD})
                    statics.extend(more)
    x, y = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    flash = [n for n in constants if n in used or n in sram]
    ctx = {
        "version": __version__, "source": source, "source_sha256": source_sha256, "model": g.name,
        "arena_bytes": arena_bytes,
        "input": {"offset": offsets[x.name], "bytes": x.nbytes, "shape": list(x.shape)},
        "output": {"offset": offsets[y.name], "bytes": y.nbytes, "shape": list(y.shape)},
        "statics": [{"ctype": s.ctype, "name": s.name, "count": s.count, "rows": _rows(s.values)}
                    for s in statics],
        "constants": [{"ctype": _CTYPES[g.tensors[n].dtype], "name": idents[n], "count": g.tensors[n].size,
                       "rows": _rows(np.asarray(g.tensors[n].data).reshape(-1).tolist())} for n in flash],
        "calls": infer_calls,
        "training": bool(updates),
        "kernels": sorted({c["symbol"] for c in train_calls}),
    }
    if updates:
        _mark_phase_changes(train_calls)
        trainables = [_trainable(g, n, sram[n.inputs[0]], idents[n.inputs[0]]) for n in updates]
        ctx.update({
            "phase_end": PHASE_END,
            "train_calls": train_calls,
            "trainables": trainables,
            "trainable_bytes": sum(t["bytes"] for t in trainables),
            "sgd": sgd,
            "label_offset": offsets["label"],
            "loss_offset": offsets["loss"],
        })
    return ctx
