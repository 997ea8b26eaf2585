"""A planned inference Graph -> the plain dict that the templates render.

Takes an int8 forward Graph, the arena offset of every activation (from a planner) and the
arena size; guarantees a context in which every decision is already made: the kernel of each
node and its literal arguments, the arena offset of every activation, the Flash arrays of the
constants with C identifiers.  Templates only print it.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from .. import __version__
from ..ir import DType, Graph, Node, OpKind
from ..ir.ops import BACKWARD_OPS
from ..planners.base import Buffer
from ..reference.backward.sgd_update import has_momentum, rounds_stochastically
from ..resources import runtime_version
from .backward_calls import BackwardInputs, c_float, backward_call, master_name, sgd_entries, velocity_name
from .calls import forward_call
from .structs import STRUCTS, Static, c_literal, c_size_align, dims_static, pool_static

_CTYPES = {DType.INT8: "int8_t", DType.INT32: "int32_t", DType.FLOAT32: "float", DType.UINT8: "uint8_t"}


def _rows(values, per_row: int = 24) -> list[str]:
    """Array initializer text, `per_row` literals a line."""
    lits = [c_literal(v) for v in values]
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


def _saved_state(g: Graph, buffers: list[Buffer]) -> dict[tuple[str, str], Buffer]:
    """What backward keeps of a forward tensor instead of the whole (`passes/lifetimes.py`),
    by (tensor, backward reader): the kept channels of a weight gradient, the tap each window
    of a max pool picked, and for every CLAMP_GRAD of the tensor its packed 1-bit ReLU mask."""
    out = {}
    for b in buffers:
        if b.saved is None:
            continue
        readers = [b.saved.reader] if b.saved.reader is not None else \
            [n.name for n in g.consumers(b.saved.tensor) if n.op == OpKind.CLAMP_GRAD and n.inputs[1] == b.saved.tensor]
        out.update(((b.saved.tensor, reader), b) for reader in readers)
    return out


def _argmax(g: Graph, tensor: str, index_ref: str, reader: Node, tag: str, ref) -> tuple[dict, list[Static]]:
    statics = [pool_static(f"{tag}_params", reader.attrs), dims_static(f"{tag}_in_dims", g.tensors[tensor].shape),
               dims_static(f"{tag}_k_dims", (1, *reader.attrs["kernel"], 1)),
               dims_static(f"{tag}_out_dims", g.tensors[reader.inputs[0]].shape)]
    call = {"comment": f"the tap of each window of {reader.attrs['forward']} for {reader.name}",
            "symbol": "tte_max_pool2d_argmax_s8",
            "args": ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_in_dims", ref(tensor), f"&{tag}_k_dims",
                     f"&{tag}_out_dims", index_ref]}
    return call, statics


def _pack_mask(g: Graph, tensor: str, mask_ref: str, reader: Node, tag: str, ref) -> tuple[dict, list[Static]]:
    statics = [STRUCTS["tte_clamp_grad_params"].static(f"{tag}_params", act_min=reader.attrs["act_min"],
                                                       act_max=reader.attrs["act_max"]),
               dims_static(f"{tag}_dims", g.tensors[tensor].shape)]
    call = {"comment": f"1-bit ReLU mask of {tensor} for {reader.name}", "symbol": "tte_pack_mask_s8",
            "args": ["&tte_no_scratch", f"&{tag}_params", f"&{tag}_dims", ref(tensor), mask_ref]}
    return call, statics


def _gather(g: Graph, tensor: str, kept_ref: str, reader: Node, tag: str, ref) -> tuple[dict, list[Static]]:
    channels = list(reader.attrs["channels"])
    shape = g.tensors[tensor].shape
    statics = [Static("int32_t", f"{tag}_channels", channels, len(channels)),
               dims_static(f"{tag}_in_dims", shape),
               dims_static(f"{tag}_out_dims", (*shape[:-1], len(channels)))]
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
    """Set `mark` on each call that starts a new phase (the template emits the marker there).
    A fused update's loop marks its own phases (backward, then update, per block)."""
    previous = None
    for call in calls:
        if call["block"]:
            call["mark"], previous = None, PHASE_UPDATE
            continue
        call["mark"] = call["phase"] if call["phase"] != previous else None
        previous = call["phase"]


# A whole-tensor kernel that reads a weight -> its twin reading a split weight (runtime_c
# tte_kernels.h "SPLIT STORAGE"), and the widest input the twins take (TTE_SPLIT_MAX_IN).
SPLIT_TWINS = {"tte_conv2d_1x1_s8": "tte_conv2d_1x1_split_s8",
               "tte_conv2d_grad_input_f32": "tte_conv2d_grad_input_split_f32"}
SPLIT_MAX_IN = 640


def split_weights(g: Graph) -> frozenset[str]:
    """The trained weights stored split: the trained input channels in SRAM, the frozen
    columns left in Flash.  A partial update (fewer channels than the weight has) of a 1x1,
    stride 1, unpadded conv, at most SPLIT_MAX_IN wide, whose readers are its forward conv, its
    input gradient and its update: the readers with a split twin.  Other partial updates keep
    the whole tensor in SRAM (and memory.json counts it)."""
    out = set()
    for update in g.nodes:
        if update.op != OpKind.SGD_UPDATE or update.attrs["param"] != "weight" or not update.attrs.get("channels"):
            continue
        w = g.tensors[update.inputs[0]]
        readers = [n for n in g.nodes if w.name in n.inputs and n is not update]
        if (len(w.shape) == 4 and w.shape[1:3] == (1, 1) and w.shape[3] <= SPLIT_MAX_IN
                and all(n.op in (OpKind.CONV2D, OpKind.CONV2D_GRAD_INPUT) and tuple(n.attrs["stride"]) == (1, 1)
                        and not any(n.attrs["pads"]) for n in readers)):
            out.add(w.name)
    return frozenset(out)


# the stochastic-rounding counter tte_ram.draws (uint32), as a checkpoint stores it
DRAWS_FORMAT = "<I"


def keeps_draws(g: Graph) -> bool:
    """Whether an update of `g` rounds its steps stochastically: the engine then keeps the draws
    counter `tte_ram.draws`, which a checkpoint saves after the parameters."""
    return any(n.op == OpKind.SGD_UPDATE and rounds_stochastically(n) for n in g.nodes)


def trained_bytes(g: Graph, stored: Mapping[str, np.ndarray], draws: int = 0,
                  velocity: Mapping[str, np.ndarray] | None = None) -> bytes:
    """The trained parameters as the engine keeps them when they hold `stored` (name -> the whole
    stored tensor, as the reference trainer keeps it): each in update order, a split weight by
    its trained columns only; then the momentum velocities (float32, `velocity`: parameter name
    -> its velocity, as the reference trainer keeps them) in update order; then, for an engine
    that rounds stochastically, the draws counter (uint32).  What tte_trainable_tensor gives
    tensor by tensor, and the payload of a checkpoint."""
    split = split_weights(g)
    updates = [n for n in g.nodes if n.op == OpKind.SGD_UPDATE]
    parts = []
    for n in updates:
        value = np.asarray(stored[n.inputs[0]])
        if n.inputs[0] in split:
            value = value[..., list(n.attrs["channels"])]
        parts.append(np.ascontiguousarray(value).tobytes())
    for n in updates:
        if has_momentum(n):
            if velocity is None or n.inputs[0] not in velocity:
                raise ValueError(f"update '{n.name}' has momentum: pass the velocities (Trainer.velocity)")
            parts.append(np.ascontiguousarray(velocity[n.inputs[0]], dtype=np.float32).tobytes())
    if keeps_draws(g):
        parts.append(struct.pack(DRAWS_FORMAT, draws % (1 << 32)))
    return b"".join(parts)


# The checkpoint tte_get_trainable writes: a header of six little-endian 32-bit words, then the
# trained parameters.  magic "TTE1"; version (low 16 bits) and header bytes (high 16 bits); the
# model hash (the first 32 bits of the compiled graph's sha256, so another model or scheme of the
# same size is refused); the payload bytes; the payload's CRC-32 (IEEE 802.3, zlib's); 0.
CHECKPOINT_MAGIC = 0x31455454   # b"TTE1"
CHECKPOINT_VERSION = 1
CHECKPOINT_HEADER_BYTES = 24


def graph_sha256(g: Graph) -> str:
    """The sha256 of the compiled training graph, which names it in the generated files."""
    return hashlib.sha256(g.to_json().encode()).hexdigest()


def model_hash(source_sha256: str) -> int:
    """The 32-bit model hash of a checkpoint header."""
    return int(source_sha256[:8], 16)


def checkpoint_bytes(g: Graph, stored: Mapping[str, np.ndarray], draws: int = 0,
                     velocity: Mapping[str, np.ndarray] | None = None) -> bytes:
    """What tte_get_trainable writes when the trained parameters hold `stored` (and the draws
    counter `draws`, the velocities `velocity`): the header, then trained_bytes(...)."""
    payload = trained_bytes(g, stored, draws, velocity)
    header = struct.pack("<6I", CHECKPOINT_MAGIC, CHECKPOINT_VERSION | CHECKPOINT_HEADER_BYTES << 16,
                         model_hash(graph_sha256(g)), len(payload), zlib.crc32(payload), 0)
    return header + payload


# The alignment attribute of tte_ram (its members' sizes and alignments: structs.c_size_align,
# checked against the linker by the QEMU tests).
STATE_ALIGN = 8


def _state_members(arena_bytes: int, trainables: list[dict], sgd_count: int,
                   stochastic: bool) -> list[tuple[str, str, int]]:
    """(ctype, member, count) of the engine's one static state struct, `tte_ram`, in order: the
    arena, each trained parameter (and its float master, its momentum velocity), the `sgd_count`
    SGD parameter entries, and the stochastic-rounding counter when an update rounds so."""
    members = [("uint8_t", "arena", arena_bytes)]
    for t in trainables:
        members.append((t["ctype"], t["member"], t["count"]))
        if t["master"]:
            members.append(("float", t["master_member"], t["count"]))
        if t["velocity"]:
            members.append(("float", t["velocity"]["member"], t["velocity"]["count"]))
    if sgd_count:
        members.append(("tte_sgd_params", "sgd", sgd_count))
    if stochastic:
        members.append(("uint32_t", "draws", 1))
    return members


def state_bytes(members: list[tuple[str, str, int]]) -> int:
    """sizeof(tte_ram): the members at their C offsets, the end rounded up to STATE_ALIGN (the
    struct type's alignment attribute), which is what .bss holds for it."""
    offset = 0
    for ctype, _, count in members:
        size, align = c_size_align(ctype)
        offset = -(-offset // align) * align + size * count
    return -(-offset // STATE_ALIGN) * STATE_ALIGN


def _trainable(g: Graph, update: Node, image: str, init: str, tag: str) -> tuple[dict, list[Static]]:
    """One trained parameter's SRAM state, and the statics that describe it.  int8 / int32
    storage: the array the kernels read, updated in place.  float32 storage: a float master
    (`master`, the state that tte_get_trainable saves) and its int8 image (`name`), which the
    forward reads.  A split weight (`split_weights`) holds only its trained columns, gathered
    from the Flash tensor by tte_init (`gather`); `split` is its tte_split_filter."""
    t = g.tensors[update.inputs[0]]
    channels = update.attrs.get("channels")
    statics, gather, split = [], None, None
    count = t.size
    if tag:
        count = t.size // t.shape[-1] * len(channels)
        statics = [Static("int32_t", f"{tag}_channels", list(channels), len(channels)),
                   dims_static(f"{tag}_dims", t.shape),
                   dims_static(f"{tag}_trained_dims", (*t.shape[:-1], len(channels))),
                   STRUCTS["tte_split_filter"].static(tag, frozen=init, trained=image, channels=f"{tag}_channels",
                                                      n=len(channels))]
        gather = {"dims": f"&{tag}_dims", "channels": f"{tag}_channels", "trained_dims": f"&{tag}_trained_dims"}
        split = f"&{tag}"
    # bytes: what tte_get_trainable saves of it; sram_bytes: what it occupies in SRAM
    entry = {"name": image, "init": init, "ctype": _CTYPES[t.dtype], "count": count,
             "bytes": count * t.dtype.itemsize, "sram_bytes": count * t.dtype.itemsize, "master": None,
             "gather": gather, "split": split, "velocity": None}
    if has_momentum(update):   # one float32 per gradient element, saved after every parameter
        v = g.tensors[update.inputs[1]].size
        entry["velocity"] = {"name": velocity_name(image), "member": velocity_name(image).split(".", 1)[1],
                             "count": v, "bytes": 4 * v}
    if update.attrs["storage"] == "float32":
        entry.update(master=master_name(image), bytes=4 * count, sram_bytes=5 * count)
    return entry, statics


def _float_parts(trainables: list[dict], velocities: list[dict]) -> list[dict]:
    """The checkpoint payload's arrays in order, up to its last float32 one (a master or a
    velocity), each with `check`: whether tte_checkpoint_check requires it finite.  Empty when
    the payload holds no floats."""
    parts = [{"expr": t["master"] or t["name"], "check": bool(t["master"])} for t in trainables]
    parts += [{"expr": v["name"], "check": True} for v in velocities]
    last = max((i for i, p in enumerate(parts) if p["check"]), default=-1)
    return parts[:last + 1]


def build_context(g: Graph, offsets: dict[str, int], arena_bytes: int, *, source: str, source_sha256: str,
                  buffers: Sequence[Buffer] = ()) -> dict:
    """Context of the engine of `g`: inference only, or (when `g` holds SGD_UPDATE nodes) the
    training step too.  Trained parameters live in SRAM arrays initialized from Flash.
    `buffers` are the planned buffers (`offsets` places them): what backward keeps of a forward
    tensor and each kernel's scratch come from their `saved` and `scratch_of` fields."""
    updates = [n for n in g.nodes if n.op == OpKind.SGD_UPDATE]
    trained = [n.inputs[0] for n in updates]
    constants = [t.name for t in g.tensors.values() if t.is_constant]
    idents = _identifiers(constants)
    sram = {name: "tte_ram." + idents[name].replace("tte_c_", "tte_t_", 1) for name in trained}
    split = split_weights(g)
    trainables, statics = [], []
    for update in updates:
        param = update.inputs[0]
        entry, more = _trainable(g, update, sram[param], idents[param],
                                 idents[param].replace("tte_c_", "tte_s_", 1) if param in split else "")
        entry["member"] = entry["name"].split(".", 1)[1]
        entry["master_member"] = entry["master"] and entry["master"].split(".", 1)[1]
        trainables.append(entry)
        statics.extend(more)
    split_refs = {t["init"]: t["split"] for t in trainables if t["split"]}
    saved = _saved_state(g, buffers)
    # what the backward calls read beside their nodes: the saved state's buffers, the split weights
    backward_inputs = BackwardInputs({key: b.name for key, b in saved.items()}, frozenset(split))
    saved_form = {b.name: b.saved.form for b in saved.values()}
    scratch_of = {b.scratch_of: b for b in buffers if b.scratch_of is not None}
    nodes = {n.name: n for n in g.nodes}

    def ref(name: str) -> str:
        if name in saved_form:   # bytes of a mask or of taps; the gathered channels of an activation
            ctype = "int8_t" if saved_form[name] == "kept" else "uint8_t"
            return f"(({ctype} *)(tte_ram.arena + {offsets[name]}))"
        t = g.tensors[name]
        if name in sram:
            return sram[name]
        if t.is_constant:
            return idents[name]
        return f"(({_CTYPES[t.dtype]} *)(tte_ram.arena + {offsets[name]}))"

    infer_calls, train_calls, used = [], [], set()
    index = {n.name: i for i, n in enumerate(g.nodes)}
    fused_updates = {n.attrs["fused_update"] for n in g.nodes if n.attrs.get("fused_update")}

    def calls_of(node: Node) -> list[dict]:
        """The kernel calls of `node` (a CONCAT makes one per input)."""
        tag = f"n{index[node.name]}"
        forward = node.op not in BACKWARD_OPS
        made = forward_call(g, node, tag, ref) if forward else backward_call(g, node, tag, ref, backward_inputs)
        calls = made if isinstance(made, list) else [made]
        for call in calls:
            for w in split & set(node.inputs) if node.op != OpKind.SGD_UPDATE else ():
                # a reader of a split weight: the kernel's split twin, given the tte_split_filter
                call.symbol = SPLIT_TWINS[call.symbol]
                call.args = [split_refs[idents[w]] if a == sram[w] else a for a in call.args]
            scratch = scratch_of.get(node.name)
            if scratch is not None:   # the node's kernel works through scratch memory in the arena
                statics.append(STRUCTS["tte_ctx"].static(f"{tag}_ctx", buf=f"tte_ram.arena + {offsets[scratch.name]}",
                                                         size=scratch.size_bytes))
                call.args[0] = f"&{tag}_ctx"
            statics.extend(call.statics)
            used.update(n for n in node.inputs if g.tensors[n].is_constant and (idents[n] in call.args or n in split))
        return [{"comment": f"{node.name}: {node.op.value} -> {', '.join(node.outputs)}", "symbol": call.symbol,
                 "args": call.args, "phase": _phase(node), "block": None,
                 "makes_loss": node.op == OpKind.SOFTMAX_CROSS_ENTROPY} for call in calls]

    for node in g.nodes:
        forward = node.op not in BACKWARD_OPS
        if node.name in fused_updates:   # applied inside its gradient's loop
            continue
        entries = calls_of(node)
        if node.attrs.get("fused_update"):
            update = nodes[node.attrs["fused_update"]]
            entries[0]["comment"] += f", applied by {update.name}"
            entries[0]["block"] = {"rows": g.tensors[node.outputs[0]].shape[0], "size": node.attrs["block_rows"],
                                   "apply": calls_of(update)[0]}
        train_calls.extend(entries)
        if forward:
            infer_calls.extend(entries)
            for (tensor, reader), buffer in saved.items():
                form = buffer.saved.form
                if (node.name == nodes[reader].attrs.get("forward")) if form == "argmax" else (tensor in node.outputs):
                    keep = {"argmax": _argmax, "mask": _pack_mask, "kept": _gather}[form]
                    call, more = keep(g, tensor, ref(buffer.name), nodes[reader],
                                      f"n{index[node.name]}_{len(statics)}", ref)
                    train_calls.append({**call, "phase": PHASE_FORWARD, "block": None, "makes_loss": False})
                    statics.extend(more)
    x, y = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    stochastic = keeps_draws(g)
    entries = sgd_entries(g)
    members = _state_members(arena_bytes, trainables, len(entries), stochastic)
    velocities = [t["velocity"] for t in trainables if t["velocity"]]
    flash = [n for n in constants if n in used or n in sram]
    ctx = {
        "version": __version__, "runtime_version": runtime_version(), "source": source,
        "source_sha256": source_sha256, "model": g.name,
        "arena_bytes": arena_bytes,
        "state": [{"ctype": c, "name": m, "count": n} for c, m, n in members],
        "state_align": STATE_ALIGN,
        "ram_bytes": state_bytes(members),
        "input": {"offset": offsets[x.name], "bytes": x.nbytes, "shape": list(x.shape)},
        "output": {"offset": offsets[y.name], "bytes": y.nbytes, "shape": list(y.shape)},
        # a struct's designated initializers four a line, array literals 24
        "statics": [{"ctype": s.ctype, "name": s.name, "count": s.count,
                     "rows": _rows(s.values, 4 if s.ctype in STRUCTS else 24)} for s in statics],
        "constants": [{"ctype": _CTYPES[g.tensors[n].dtype], "name": idents[n], "count": g.tensors[n].size,
                       "rows": _rows(np.asarray(g.tensors[n].data).reshape(-1).tolist())} for n in flash],
        "calls": infer_calls,
        "training": bool(updates),
        "fused_updates": bool(fused_updates),
        "kernels": sorted({c["symbol"] for c in train_calls}
                          | {c["block"]["apply"]["symbol"] for c in train_calls if c["block"]}
                          | ({"tte_gather_channels_s8"} if split else set())),
    }
    if updates:
        _mark_phase_changes(train_calls)
        ctx.update({
            "phase_end": PHASE_END,
            "train_calls": train_calls,
            "trainables": trainables,
            # the checkpoint's payload: the parameters, the velocities, then the draws counter (4 B) if any
            "trainable_bytes": sum(t["bytes"] for t in trainables) + sum(v["bytes"] for v in velocities)
                               + (struct.calcsize(DRAWS_FORMAT) if stochastic else 0),
            "trainable_sram_bytes": sum(t["sram_bytes"] for t in trainables) + sum(v["bytes"] for v in velocities),
            "sgd_entries": [{"index": i, "mode": mode, "lr_scale": c_float(scale) if scale != 1.0 else None,
                             "momentum": c_float(mu), "step_clip": c_float(clip)}
                            for i, (mode, scale, mu, clip) in enumerate(entries)],

            "label_offset": offsets["label"],
            "loss_offset": offsets["loss"],
            "num_classes": y.size,
            "checkpoint": {"header_bytes": CHECKPOINT_HEADER_BYTES, "magic": CHECKPOINT_MAGIC,
                           "version": CHECKPOINT_VERSION, "model_hash": model_hash(source_sha256),
                           # after the parameters: each velocity, then the draws counter
                           "state": [v["name"] for v in velocities] + (["tte_ram.draws"] if stochastic else []),
                           "velocities": bool(velocities), "draws": stochastic,
                           # the payload's parts up to its last float one, each with whether it holds floats
                           "floats": _float_parts(trainables, velocities)},
        })
    return ctx
