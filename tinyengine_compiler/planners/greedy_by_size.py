"""The `greedy_by_size` planner: largest block first, each at the lowest offset that fits.

Steps:
1. Make one block per alias group (`base.blocks`): the root's size, the hull of the lifetimes.
2. Order the blocks by size, largest first (ties: earlier first step, then name).
3. Place them in that order with `first_fit`: each block goes to the lowest aligned offset
   that no already placed, time-overlapping block uses.

Complexity: O(N^2) to find the time conflicts, then O(sum d log d) to place (d = conflicts of
a block).  Optimality: none in general (placing intervals in a minimum arena is NP-hard); it is
a heuristic that does well when a few large tensors dominate, as in CNN training graphs.
"""

from __future__ import annotations

from typing import Sequence

from .base import Block, Buffer, Plan, blocks, make_plan
from .first_fit import conflicts, first_fit


def order(bs: Sequence[Block]) -> list[int]:
    """Block indices, largest first."""
    return sorted(range(len(bs)), key=lambda i: (-bs[i].size_bytes, bs[i].first, bs[i].name))


def plan(buffers: Sequence[Buffer], *, align: int = 4) -> Plan:
    bs = blocks(buffers, align)
    neighbours = conflicts(bs)
    offsets = first_fit(bs, order(bs), neighbours)
    return make_plan(buffers, {b.name: off for b, off in zip(bs, offsets)}, "greedy_by_size")
