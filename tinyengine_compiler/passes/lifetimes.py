"""lifetimes: the scheduled training graph -> the arena's buffers (size, birth, death, alias).

Takes: a training graph in its final order (after `reorder` and `inplace`).  Step i is the
i-th node; `first`/`last` are inclusive steps.

Guarantees: `lifetimes(g)` returns one `planners.Buffer` per tensor that lives in the arena,
its size rounded up to `align` bytes:
  * the graph input (category `input`) and the label (`label`) from step 0; every other
    non-constant tensor from the step of its producer to the step of the last node that reads
    its full bytes (a graph output: to the last step).  int8 tensors are `activation`, or
    `saved_activation` when a backward op reads them in full; float32 ones are `gradient`.
  * what backward keeps of a forward tensor instead of the whole of it (`backward_reads`), each
    a buffer whose `saved` (planners.SavedState) says which tensor, which form and which reader:
      - a max pool's backward reads `<x>.argmax.<reader>`, the tap each window picked (a byte a
        window, the size of the pool's output), made when the pool runs;
      - a weight gradient with `channels` reads only those input channels: the forward op's
        output is gathered into `<t>.kept.<reader>` (size x kept / total channels) at the step
        that produces it, and the full tensor dies at its last forward reader;
      - with `masks=True`, CLAMP_GRAD reads a packed 1-bit mask of act_min < y < act_max,
        `<t>.mask` (ceil(size / 8) bytes), made when y is produced, instead of the int8 y.
        Codegen owes the mask kernel; `masks=False` keeps y whole (the IR as autodiff wrote it).
    If any backward op needs the full tensor, every backward reader reads it and there are no
    masks or kept channels; a max pool's argmax is made all the same (its gradient kernel
    reads nothing else), while the full tensor lives on for the other reader.
  * a gradient whose producer carries `fused_update` and `block_rows` (from `reorder`) is made
    and applied one block of output channels at a time, inside its producer's step: its buffer
    is one block (block_rows / shape[0] of its bytes), live at that step only.
  * a node with `in_place=<input>` (from `inplace`) gets `alias_of=<input>`; raises ValueError
    if that input is still read after this node (an in-place write would corrupt it).
  * a conv with `banded=<input>` (from `inplace`) writes its output over its input row by row:
    the output's buffer grows to hold the input at the least safe offset inside it
    (`RowBanding.min_offset`), and the input's buffer is its alias there, with the banding
    for the overlap checker to prove.
  * kernel scratch as `<node>.scratch` (`scratch`, `scratch_of=<node>`, live at its node's step
    only): what the node's kernel with kernel `backend` asks for (`registry.scratch_bytes`: two
    expanded channels for FUSED_EXPAND_DEPTHWISE, one input channel for an in-place depthwise
    conv or depthwise input gradient, im2col columns for CMSIS-NN's convs): no static scratch
    outside the arena.
Not in the arena: constants (Flash), trained parameters (updated in place where they live:
`sparse_update.trained_params`; SGD_UPDATE outputs name that same memory, so get no buffer).

Leaves to later passes: placement (`planners/`), the report.

Paper: section 3 (the memory analysis the compile-time training graph makes possible) and the
accounting of section 2.3 (kept channels of the saved activation, 1-bit ReLU masks).
"""

from __future__ import annotations

from ..ir import DType, Graph, Node, OpKind
from ..ir.ops import BACKWARD_OPS
from ..planners.base import Buffer, RowBanding, SavedState, align_up
from ..registry import scratch_bytes

GRAD_WEIGHT_OPS = frozenset({OpKind.CONV2D_GRAD_WEIGHT, OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT})


def backward_reads(n: Node, tensor: str, *, masks: bool) -> str:
    """How node `n` reads a forward tensor: "mask", "kept" (some channels), "argmax" (a max
    pool's input, of which its backward needs only each window's tap) or "full"."""
    if masks and n.op == OpKind.CLAMP_GRAD and n.inputs[1] == tensor:
        return "mask"
    if n.op == OpKind.MAX_POOL2D_GRAD and n.inputs[1] == tensor:
        return "argmax"
    if n.op in GRAD_WEIGHT_OPS and n.inputs[0] == tensor and n.attrs.get("channels") is not None:
        return "kept"
    return "full"


def fused_gradient(node: Node) -> bool:
    """Is `node` a weight gradient made and applied block by block in its own step?"""
    return node.attrs.get("fused_update") is not None


def full_last_use(g: Graph, *, masks: bool = True) -> dict[str, int]:
    """The step after which each non-constant tensor's full bytes are dead."""
    step = {o: i for i, n in enumerate(g.nodes) for o in n.outputs}
    last = {name: 0 for name in g.inputs}
    last.update(step)
    slim = {name for name in last if _reads(g, name, masks) and "full" not in _reads(g, name, masks)}
    applied_in_place = {o for n in g.nodes if fused_gradient(n) for o in n.outputs}
    for i, n in enumerate(g.nodes):
        for name in n.inputs:
            if name in applied_in_place:   # its update ran inside the producer's step
                continue
            if name in last and not (name in slim and n.op in BACKWARD_OPS):
                last[name] = max(last[name], i)
    for name in g.outputs:
        last[name] = len(g.nodes) - 1
    return last


def banding(g: Graph, node: Node) -> RowBanding:
    """How a `banded` conv (passes/inplace.py) writes its output over its input, row by row."""
    x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
    return RowBanding(out_rows=y.shape[1], out_row_bytes=y.nbytes // y.shape[1], in_rows=x.shape[1],
                      in_row_bytes=x.nbytes // x.shape[1], stride=node.attrs["stride"][0], pad_top=node.attrs["pads"][0])


def lifetimes(g: Graph, *, masks: bool = True, align: int = 4, backend: str = "portable") -> list[Buffer]:
    step = {o: i for i, n in enumerate(g.nodes) for o in n.outputs}
    last = full_last_use(g, masks=masks)
    # input -> (output written over it, its offset inside that output, the rows' discipline)
    banded = {}
    for i, n in enumerate(g.nodes):
        if n.attrs.get("banded") is not None:
            if last[n.attrs["banded"]] != i:
                raise ValueError(f"{n.name}: banded output {n.outputs[0]!r} overwrites {n.attrs['banded']!r}, "
                                 f"which is read until step {last[n.attrs['banded']]}")
            band = banding(g, n)
            banded[n.attrs["banded"]] = (n.outputs[0], align_up(band.min_offset(), align), band)
    buffers, sizes = [], {}
    for name, end in last.items():
        producer = g.nodes[step[name]] if name in step else None
        if producer is not None and producer.op == OpKind.SGD_UPDATE:
            continue
        t = g.tensors[name]
        first = step.get(name, 0)
        alias = producer.attrs.get("in_place") if producer is not None else None
        if alias is not None and last[alias] != first:
            raise ValueError(f"{producer.name}: in-place output {name!r} overwrites {alias!r}, "
                             f"which is read until step {last[alias]}")
        nbytes = t.nbytes
        if producer is not None and fused_gradient(producer):
            nbytes = t.nbytes // t.shape[0] * producer.attrs["block_rows"]
        alias_offset, band = 0, None
        if name in banded:      # the input, inside the output written over it
            alias, alias_offset, band = banded[name]
        if producer is not None and producer.attrs.get("banded") is not None:   # room for its input too
            x = producer.attrs["banded"]
            nbytes = max(nbytes, banded[x][1] + sizes[x])
        sizes[name] = align_up(nbytes, align)
        buffers.append(Buffer(name, sizes[name], first, end, _category(g, name, masks), align, alias,
                              alias_offset, band))
        buffers += _side_buffers(g, name, first, masks, align)
    return buffers + _scratch_buffers(g, align, backend)


def _reads(g: Graph, name: str, masks: bool) -> set[str]:
    return {backward_reads(n, name, masks=masks) for n in g.nodes
            if n.op in BACKWARD_OPS and name in n.inputs and g.tensors[name].dtype == DType.INT8}


def _category(g: Graph, name: str, masks: bool) -> str:
    t = g.tensors[name]
    if name == g.inputs[0]:
        return "input"
    if name in g.inputs:
        return "label"
    if t.dtype == DType.FLOAT32:
        return "gradient"
    return "saved_activation" if "full" in _reads(g, name, masks) else "activation"


def _side_buffers(g: Graph, name: str, first: int, masks: bool, align: int) -> list[Buffer]:
    """What backward keeps of `name` when it does not keep the whole tensor (a max pool's
    argmax, made when the pool runs, always)."""
    readers = [(i, n) for i, n in enumerate(g.nodes) if n.op in BACKWARD_OPS and name in n.inputs]
    step = {n.name: i for i, n in enumerate(g.nodes)}
    out = [Buffer(f"{name}.argmax.{n.name}", align_up(g.tensors[n.inputs[0]].size, align), step[n.attrs["forward"]],
                  i, "saved_activation", align, saved=SavedState(name, "argmax", n.name))
           for i, n in readers if backward_reads(n, name, masks=masks) == "argmax"]
    if "full" in _reads(g, name, masks):
        return out
    t = g.tensors[name]
    mask_steps = [i for i, n in readers if backward_reads(n, name, masks=masks) == "mask"]
    if mask_steps:
        out.append(Buffer(f"{name}.mask", align_up(-(-t.size // 8), align), first, max(mask_steps),
                          "saved_activation", align, saved=SavedState(name, "mask")))
    for i, n in readers:
        if backward_reads(n, name, masks=masks) == "kept":
            kept = t.size // t.shape[-1] * len(n.attrs["channels"])
            out.append(Buffer(f"{name}.kept.{n.name}", align_up(kept, align), first, i,
                              "saved_activation", align, saved=SavedState(name, "kept", n.name)))
    return out


def _scratch_buffers(g: Graph, align: int, backend: str) -> list[Buffer]:
    sizes = [scratch_bytes(g, n, backend) for n in g.nodes]
    return [Buffer(f"{n.name}.scratch", align_up(size, align), i, i, "scratch", align, scratch_of=n.name)
            for i, (n, size) in enumerate(zip(g.nodes, sizes)) if size]
