"""First-fit placement of blocks in a given order: the engine the greedy planners share.

`first_fit(blocks, order)` takes the blocks one by one in `order` and puts each at the lowest
aligned offset where it does not share bytes with an already placed block whose lifetime
overlaps its own (a scan over the gaps between those blocks, sorted by offset).  The greedy
planners differ only in the order they pass; `hill_climb` searches over orders, and re-places
only the suffix of an order that changed (`start`).
"""

from __future__ import annotations

from typing import Sequence

from .base import Block, align_up, overlaps_in_time


def conflicts(blocks: Sequence[Block]) -> list[list[int]]:
    """For each block, the indices of the other blocks whose lifetimes overlap it.  O(N^2)."""
    out: list[list[int]] = [[] for _ in blocks]
    for i, a in enumerate(blocks):
        for j in range(i + 1, len(blocks)):
            if overlaps_in_time(a, blocks[j]):
                out[i].append(j)
                out[j].append(i)
    return out


def first_fit(blocks: Sequence[Block], order: Sequence[int], neighbours: list[list[int]],
              offsets: list[int | None] | None = None, start: int = 0) -> list[int | None]:
    """Place `blocks[order[start:]]` first-fit; return the offset of every block by index.

    `neighbours` is `conflicts(blocks)`.  With `start` > 0, `offsets` must hold the placement of
    `order[:start]` made by an earlier call with the same prefix; it is copied, not changed.
    O(sum over placed blocks of d log d), d = a block's number of neighbours.
    """
    placed: list[int | None] = [None] * len(blocks)
    for i in order[:start]:
        placed[i] = offsets[i]
    sizes = [b.size_bytes for b in blocks]   # plain lists: this loop is most of a plan's time
    for i in order[start:]:
        size, align = sizes[i], blocks[i].align
        taken = sorted([(at, at + sizes[j]) for j in neighbours[i] if (at := placed[j]) is not None and sizes[j]])
        candidate = 0
        for lo, hi in taken:
            if candidate + size <= lo:
                break
            if hi > candidate:
                candidate = align_up(hi, align)
        placed[i] = candidate
    return placed


def arena_of(blocks: Sequence[Block], offsets: Sequence[int]) -> int:
    return max((off + b.size_bytes for b, off in zip(blocks, offsets)), default=0)
