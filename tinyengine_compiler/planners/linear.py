"""The `linear` planner: no reuse at all, the baseline the others are measured against.

Steps: make one block per alias group (`base.blocks`), then lay the blocks end to end in the
order their roots appear, each at the next offset aligned for it.

Complexity: O(N).  Optimality: none; the arena is the sum of all block sizes plus alignment
padding, which is optimal only when every pair of blocks is live at a common step.
"""

from __future__ import annotations

from typing import Sequence

from .base import Buffer, Plan, align_up, blocks, make_plan


def plan(buffers: Sequence[Buffer], *, align: int = 4) -> Plan:
    offsets: dict[str, int] = {}
    end = 0
    for blk in blocks(buffers, align):
        offsets[blk.name] = align_up(end, blk.align)
        end = offsets[blk.name] + blk.size_bytes
    return make_plan(buffers, offsets, "linear")
