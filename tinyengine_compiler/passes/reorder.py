"""reorder: choose the order the training step runs in, so that gradients die young.

Takes: a training graph (after `sparse_update` / `qas`, optionally `fuse_frozen_prefix`).

Guarantees: a verified graph with the same nodes in a new topological order.
  * `fuse_updates=True` (the default): a memory-aware list schedule.  At every step, among the
    nodes whose inputs all exist, run the one that grows the live set least: the bytes of its
    new outputs minus the bytes of the activation/gradient tensors it reads for the last time
    (ties: the earlier node in the input order).  An SGD_UPDATE frees its gradient and allocates
    nothing (the parameter is updated in place), so it runs as soon as its gradient exists:
    each weight gradient is applied, then freed, before the next layer's is computed (with
    partial-channel updates, only the trained channels' gradient ever exists).  A conv or
    fully connected weight gradient (CONV2D_GRAD_WEIGHT, FULLY_CONNECTED_GRAD_WEIGHT) gets
    `fused_update=<the SGD_UPDATE's name>` and `block_rows`: the C makes and applies it one
    block of `block_rows` output channels at a time, so the whole gradient is never held
    (`lifetimes` counts one block; `update_blocks` widens the blocks where the arena has room).
    Bias gradients ([C] floats) and depthwise weight gradients ([1, KH, KW, C]: the output
    channels are the last axis) are made whole, then applied.
    An update overwrites its parameter, so it and the gradient it applies wait until every
    other reader of the parameter has run (a layer's input gradient reads the weight before the
    step): the IR names the updated value anew, so this write-after-read order is kept here.
    Where the graph branches (the residual Adds, the three partials of a layer) it runs first
    what frees memory.
  * `fuse_updates=False`: the baseline, the paper's "w/o reorder": the input order with every
    SGD_UPDATE moved to the end (all gradients computed, then all updates applied).
Tensor sizes here are `Tensor.nbytes` (a cost model for ordering only; the exact accounting,
with masks and kept channels, is `lifetimes`).

Leaves to later passes: in-place decisions (`inplace`, which depend on this order), lifetimes.

Paper: section 3, "operator reordering and in-place update" (Figure 5).
"""

from __future__ import annotations

from ..ir import Graph, OpKind
from ..ir.verify import verify

# Weight gradients made and applied a block of output channels (rows) at a time.
FUSABLE_GRADS = frozenset({OpKind.CONV2D_GRAD_WEIGHT, OpKind.FULLY_CONNECTED_GRAD_WEIGHT})
# The smallest block: the 1x1 weight-gradient kernel's tile is 4 output channels.
MIN_BLOCK_ROWS = 4


def reorder(g: Graph, *, fuse_updates: bool = True) -> Graph:
    g = g.copy()
    if fuse_updates:
        g.nodes = _memory_aware_order(g)
        for n in g.nodes:
            grad = g.producer(n.inputs[1]) if n.op == OpKind.SGD_UPDATE else None
            if grad is not None and grad.op in FUSABLE_GRADS:
                grad.attrs["fused_update"] = n.name
                grad.attrs["block_rows"] = min(MIN_BLOCK_ROWS, g.tensors[n.inputs[1]].shape[0])
    else:
        g.nodes = ([n for n in g.nodes if n.op != OpKind.SGD_UPDATE]
                   + [n for n in g.nodes if n.op == OpKind.SGD_UPDATE])
    return verify(g)


def _memory_aware_order(g: Graph) -> list:
    nodes = list(g.nodes)
    applied = {n.inputs[1] for n in nodes if n.op == OpKind.SGD_UPDATE}
    produced = set(g.inputs) | {name for name, t in g.tensors.items() if t.is_constant}
    readers_left: dict[str, int] = {}
    for n in nodes:
        for name in set(n.inputs):
            readers_left[name] = readers_left.get(name, 0) + 1
    # gradient tensor -> the parameter its update overwrites
    param_of = {n.inputs[1]: n.inputs[0] for n in nodes if n.op == OpKind.SGD_UPDATE}

    def may_run(n) -> bool:
        if not all(name in produced for name in n.inputs):
            return False
        params = [n.inputs[0]] if n.op == OpKind.SGD_UPDATE else [param_of[o] for o in n.outputs if o in param_of]
        return all(readers_left[p] == 1 for p in params)   # only the update itself still reads it

    order, pending = [], list(range(len(nodes)))
    while pending:
        ready = [i for i in pending if may_run(nodes[i])]
        best = min(ready, key=lambda i: (_growth(g, nodes[i], readers_left, applied), i))
        n = nodes[best]
        pending.remove(best)
        order.append(n)
        produced.update(n.outputs)
        for name in set(n.inputs):
            readers_left[name] -= 1
    return order


def _growth(g: Graph, n, readers_left: dict[str, int], applied: set[str]) -> int:
    """Bytes the live set grows by when `n` runs now (negative: it shrinks).  A gradient that
    an SGD_UPDATE applies costs one output channel (a cost model: it is made and applied a few
    channels at a time)."""
    made = 0 if n.op == OpKind.SGD_UPDATE else sum(
        g.tensors[o].nbytes // (g.tensors[o].shape[0] if o in applied else 1) for o in n.outputs)
    freed = sum(g.tensors[name].nbytes for name in set(n.inputs)
                if readers_left[name] == 1 and not g.tensors[name].is_constant
                and name not in g.inputs)
    return made - freed
