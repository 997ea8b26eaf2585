"""The `hill_climb` planner: search placement orders, starting from the better greedy one.

Steps:
1. Make the blocks (`base.blocks`) and their time conflicts.  Place them in the
   `greedy_by_size` order and in the `greedy_by_conflicts` order with `first_fit`; start from
   the order with the smaller arena (ties: by size).  That placement is the best so far.
2. Repeat a fixed number of times (below): pick a block that reaches the top of the arena
   (the random generator breaks ties) and, with even odds, move it to a random earlier position
   of the order or swap two random positions.  Re-place only from the first changed position
   (the prefix's placement cannot change), and keep the new order if its arena is not larger
   than the current one (sideways moves let the search cross plateaus).  Remember the best.
   Stop early if the best arena equals `base.lower_bound()`: it is then optimal.
3. Return the best placement seen.

Determinism: a `random.Random(SEED)` drives every choice and the number of iterations depends
only on the input (a work budget, `WORK_BUDGET` neighbour visits, split over iterations of
about N + E work each, E = number of conflicting pairs), never on the clock.

Complexity: O(N^2) for the conflicts plus iterations x O(N + E log E); for 500 buffers this
runs well under a second.  Optimality: none (the problem is NP-hard), but the result is never
worse than either greedy planner, because their placements are the starting point and the best
placement is kept.  Idea as in TVM USMP's hill climb (perturb the greedy order, keep the best);
the move set and budget are our own.
"""

from __future__ import annotations

import random
from typing import Sequence

from . import greedy_by_conflicts, greedy_by_size
from .base import Buffer, Plan, blocks, lower_bound, make_plan
from .first_fit import arena_of, conflicts, first_fit

SEED = 2022
WORK_BUDGET = 2_000_000
MIN_ITERATIONS = 20
MAX_ITERATIONS = 2000


def plan(buffers: Sequence[Buffer], *, align: int = 4) -> Plan:
    bs = blocks(buffers, align)
    neighbours = conflicts(bs)
    starts = [greedy_by_size.order(bs), greedy_by_conflicts.order(bs, neighbours)]
    placements = [first_fit(bs, o, neighbours) for o in starts]
    arenas = [arena_of(bs, p) for p in placements]
    k = arenas.index(min(arenas))
    order, offsets, arena = starts[k], placements[k], arenas[k]
    best_offsets, best_arena = offsets, arena

    rng = random.Random(SEED)
    n = len(bs)
    work = n + sum(len(x) for x in neighbours)
    iterations = min(MAX_ITERATIONS, max(MIN_ITERATIONS, WORK_BUDGET // max(work, 1)))
    floor = lower_bound(buffers)
    for _ in range(iterations if n > 1 else 0):
        if best_arena == floor:  # provably optimal: nothing left to find
            break
        position = {i: pos for pos, i in enumerate(order)}
        tops = [position[i] for i in range(n) if offsets[i] + bs[i].size_bytes == arena]
        q = rng.choice(tops)
        new = list(order)
        if q > 0 and rng.random() < 0.5:
            p = rng.randrange(q)
            new.insert(p, new.pop(q))
        else:
            p, q = sorted(rng.sample(range(n), 2))
            new[p], new[q] = new[q], new[p]
        new_offsets = first_fit(bs, new, neighbours, offsets, start=p)
        new_arena = arena_of(bs, new_offsets)
        if new_arena <= arena:
            order, offsets, arena = new, new_offsets, new_arena
            if arena < best_arena:
                best_offsets, best_arena = offsets, arena
    return make_plan(buffers, {b.name: off for b, off in zip(bs, best_offsets)}, "hill_climb")
