"""update_blocks: widen each fused weight gradient's block into the arena's free bytes.

Takes: a scheduled training graph whose fused weight gradients (`fused_update`, from
`reorder`) carry `block_rows`, the buffers `lifetimes` made of it, and the arena size a plan
of those buffers reached.

Guarantees: the same graph where each fused gradient's `block_rows` is at most the largest
number of output channels (up to all of them) whose gradient block fits, together with
everything else live at its step, in `arena_bytes`, rounded down to whole tiles of 4 rows (the
1x1 weight-gradient kernel's) to set the number of blocks, then spread evenly over that many
blocks, as equal as they can be (so a block may end off the 4-row grid: 40 rows with room
for 12 make four blocks of 10); never more blocks than it had.  The trade: every block
costs one more pass over the saved input (the 1x1 kernel dequantizes it per call), so fewer,
larger blocks are faster, and a block larger than the arena's free bytes at its step would
grow the arena.  The live bytes are a lower bound of what a placement needs, so the caller
plans the widened graph again and keeps it only if the arena did not grow (`pipeline.py`).

Leaves to later passes: lifetimes and placement of the widened blocks.

Paper: section 3, operator reordering and in-place update (the gradient is applied as it is
made and never held whole).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ir import Graph
from ..planners.base import Buffer, align_up, live_bytes
from .lifetimes import fused_gradient
from .reorder import MIN_BLOCK_ROWS


def update_blocks(g: Graph, buffers: Sequence[Buffer], arena_bytes: int, *, only: str | None = None,
                  share: float = 1.0) -> Graph:
    """`only`: widen that node alone; `share`: take at most that share of the free bytes."""
    g = g.copy()
    live = live_bytes(buffers)
    size = {b.name: b.size_bytes for b in buffers}
    for step, node in enumerate(g.nodes):
        if not fused_gradient(node) or (only is not None and node.name != only):
            continue
        grad = g.tensors[node.outputs[0]]
        rows, row_bytes = grad.shape[0], grad.nbytes // grad.shape[0]
        free = int((arena_bytes - live.get(step, 0)) * share) + size[node.outputs[0]]
        fit = max(node.attrs["block_rows"], min(rows, free // row_bytes))
        while fit > node.attrs["block_rows"] and align_up(fit * row_bytes, 4) > free:
            fit -= 1
        if fit < rows and fit >= MIN_BLOCK_ROWS:   # whole 4-row tiles of the 1x1 kernel
            fit -= fit % MIN_BLOCK_ROWS
        node.attrs["block_rows"] = -(-rows // -(-rows // fit))   # the same number of blocks, even
    return g
