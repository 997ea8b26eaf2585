"""The `greedy_by_conflicts` planner: most-constrained block first, each at the lowest fit.

Steps:
1. Make one block per alias group (`base.blocks`): the root's size, the hull of the lifetimes.
2. Count each block's conflicts: the other blocks whose lifetimes overlap it.
3. Order the blocks by conflict count, most first (ties: larger first, then earlier first
   step, then name), and place them in that order with `first_fit`.

The idea (as in TVM USMP's planner of this name) is that a block that meets many others is the
hardest to fit later, so it goes in while the arena is still empty.

Complexity: O(N^2) to count conflicts, then O(sum d log d) to place.  Optimality: none in
general (the problem is NP-hard); a heuristic, kept because it beats `greedy_by_size` on graphs
where long-lived saved activations overlap many short gradients.
"""

from __future__ import annotations

from typing import Sequence

from .base import Block, Buffer, Plan, blocks, make_plan
from .first_fit import conflicts, first_fit


def order(bs: Sequence[Block], neighbours: list[list[int]]) -> list[int]:
    """Block indices, most conflicts first, then largest."""
    return sorted(range(len(bs)),
                  key=lambda i: (-len(neighbours[i]), -bs[i].size_bytes, bs[i].first, bs[i].name))


def plan(buffers: Sequence[Buffer], *, align: int = 4) -> Plan:
    bs = blocks(buffers, align)
    neighbours = conflicts(bs)
    offsets = first_fit(bs, order(bs, neighbours), neighbours)
    return make_plan(buffers, {b.name: off for b, off in zip(bs, offsets)},
                     "greedy_by_conflicts")
