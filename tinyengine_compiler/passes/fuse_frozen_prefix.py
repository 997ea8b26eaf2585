"""fuse_frozen_prefix: run each inverted bottleneck's expand + depthwise pair as one fused op
where backward never reads the expanded tensor.

Takes: a training graph (after `sparse_update`; forward nodes in forward order).

Guarantees: a verified graph where every pair (1x1 CONV2D `e`, stride 1, no padding) ->
(DEPTHWISE_CONV2D `d`) such that `e`'s output is read by `d` alone and by no backward op is
replaced, at `d`'s position, by one FUSED_EXPAND_DEPTHWISE node named `<e>+<d>` with inputs
(x, w1, b1, w2, b2), `d`'s output and stride/pads/clamp, `e`'s clamp as expand_act_min/max, the
expanded tensor's quantization as mid_scale/mid_zero_point and `fused_from` = (e, d).  The
expanded tensor is gone from the graph: the kernel makes two [H, W] channels of it at a time
(its scratch: registry.py).  Output values are unchanged (reference/ops/
fused_expand_depthwise.py is bit-identical to the pair).  Where backward does read the expanded
tensor (a trained expand or depthwise layer, or its clamp's gradient) nothing changes.

Leaves to later passes: in-place depthwise convs (`inplace`), ordering (`reorder`), memory.

Paper: section 3 (TinyEngine's memory-saving inference kernels for the frozen layers: the
frozen part of the network is plain inference, so backprop never needs its activations);
the per-channel expand-depthwise fusion is the patch/channel-based inference of MCUNetV2.
"""

from __future__ import annotations

from ..ir import Graph, Node, OpKind
from ..ir.ops import BACKWARD_OPS
from ..ir.verify import verify


def fuse_frozen_prefix(g: Graph) -> Graph:
    g = g.copy()
    for d in [n for n in g.nodes if n.op == OpKind.DEPTHWISE_CONV2D]:
        e = g.producer(d.inputs[0])
        if e is not None and _fusable(g, e, d):
            _fuse(g, e, d)
    return verify(g)


def _fusable(g: Graph, e: Node, d: Node) -> bool:
    if e.op != OpKind.CONV2D or tuple(e.attrs["stride"]) != (1, 1) or any(e.attrs["pads"]):
        return False
    if g.tensors[e.inputs[1]].shape[1:3] != (1, 1) or e.outputs[0] in g.outputs:
        return False
    readers = g.consumers(e.outputs[0])
    return readers == [d] and not any(n.op in BACKWARD_OPS for n in readers)


def _fuse(g: Graph, e: Node, d: Node) -> None:
    mid = g.tensors[e.outputs[0]]
    lo, hi = _clamp(e)
    act_min, act_max = _clamp(d)
    fused = Node(f"{e.name}+{d.name}", OpKind.FUSED_EXPAND_DEPTHWISE,
                 [e.inputs[0], e.inputs[1], e.inputs[2], d.inputs[1], d.inputs[2]], list(d.outputs),
                 {"stride": tuple(d.attrs["stride"]), "pads": tuple(d.attrs["pads"]),
                  "act_min": act_min, "act_max": act_max, "expand_act_min": lo, "expand_act_max": hi,
                  "mid_scale": mid.qparams.scale[0], "mid_zero_point": mid.qparams.zero_point[0],
                  "fused_from": (e.name, d.name)})
    g.nodes[g.nodes.index(d)] = fused
    g.nodes.remove(e)
    del g.tensors[mid.name]


def _clamp(n: Node) -> tuple[int, int]:
    """The fused int8 output clamp (None: the int8 range)."""
    lo, hi = n.attrs.get("act_min"), n.attrs.get("act_max")
    return (-128 if lo is None else int(lo)), (127 if hi is None else int(hi))
