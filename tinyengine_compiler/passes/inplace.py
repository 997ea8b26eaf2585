"""inplace: let a node write its output over an input that dies at that node.

Takes: a training graph in its final order (after `reorder`); `masks` as `lifetimes` takes it
(it decides when a saved activation's full bytes die).

Guarantees: the same graph where these nodes carry `in_place=<input name>` when that input is
a non-constant tensor whose full bytes are read by no later node (`lifetimes.full_last_use`)
and is at least as large as the output:
  * ADD (the C kernel `tte_add_s8` allows the output to alias either input): the first such
    input;
  * CLAMP_GRAD: its incoming gradient; GRAD_ACCUMULATE: the first such operand;
  * DEPTHWISE_CONV2D (forward, int8): its input, computed one channel at a time through a
    one-channel scratch buffer (`lifetimes.scratch_bytes`): the frozen prefix's in-place
    depthwise conv; likewise DEPTHWISE_CONV2D_GRAD_INPUT over its incoming gradient (same
    channel-by-channel trick, a one-channel float32 scratch).
Values are unchanged; `lifetimes` turns each decision into `Buffer.alias_of` and checks it.

Leaves to later passes: lifetimes and placement; codegen emits the aliasing kernels.

Paper: section 3, in-place update and TinyEngine's in-place depthwise convolution.
"""

from __future__ import annotations

from ..ir import Graph, OpKind
from ..ir.verify import verify
from .lifetimes import full_last_use

FIRST_INPUT_ONLY = {OpKind.CLAMP_GRAD, OpKind.DEPTHWISE_CONV2D, OpKind.DEPTHWISE_CONV2D_GRAD_INPUT}
IN_PLACE_OPS = FIRST_INPUT_ONLY | {OpKind.ADD, OpKind.GRAD_ACCUMULATE}


def inplace(g: Graph, *, masks: bool = True) -> Graph:
    g = g.copy()
    last = full_last_use(g, masks=masks)
    for i, n in enumerate(g.nodes):
        if n.op not in IN_PLACE_OPS:
            continue
        out = g.tensors[n.outputs[0]]
        candidates = n.inputs[:1] if n.op in FIRST_INPUT_ONLY else n.inputs
        for name in candidates:
            t = g.tensors[name]
            if (not t.is_constant and last.get(name) == i and n.inputs.count(name) == 1
                    and t.dtype == out.dtype and t.nbytes >= out.nbytes):
                n.attrs["in_place"] = name
                break
    return verify(g)
