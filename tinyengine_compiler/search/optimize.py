"""The scheme search: the candidate of largest summed contribution whose planned SRAM fits.

A candidate's value is the paper's additive model: the contribution of its bias depth plus that
of each weight layer at its ratio (search/contribution.py measures them).  Its memory is what
`tte compile` would allocate for it, `memory(candidates) -> [peak SRAM bytes]` (search/memory.py),
asked only when the answer can change the result, and never twice for one candidate.

* `exact`: candidates in decreasing value, made lazily with a heap (the k largest sums of
  independent choices), until the first that fits: that one is the optimum.  It stops after
  `max_plans` new plans without a fit (then `found` is None and `complete` False).  With
  `batch` > 1 it plans that many at a time (on as many processes), in value order.
* `evolve`: the paper's evolutionary search, seeded: a population of the best fitting
  candidates, children by uniform crossover and mutation; of parents and children, the ones
  of largest value are planned in that order until the population is full of fitting ones.
  (Planned SRAM is not monotone in what trains: a larger ratio can need less, as its kernel or
  placement changes, so no candidate is judged by another's plan.)

Both return a `Result` whose value is `Contributions.value` (the same sum, in the same order,
whichever search found it); `planned` holds every (candidate, bytes) planned, for the frontier.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .space import Candidate, SearchSpace

MemoryFn = Callable[[Sequence[Candidate]], list[int]]


@dataclass(frozen=True)
class Contributions:
    """Accuracy gains (top-1 points, may be negative): of each bias depth over the classifier
    alone (`bias[depth]`, 0 for depth 0), and of each weight layer at each ratio over the base
    depth's biases (`weight[(layer, ratio)]`)."""
    bias: dict[int, float]
    weight: dict[tuple[int, float], float]

    def value(self, space: SearchSpace, c: Candidate) -> float:
        return self.bias[c.depth] + sum(self.weight[part] for part in space.trained(c))


@dataclass
class Result:
    found: Candidate | None
    value: float | None
    bytes: int | None
    complete: bool                  # exact: the optimum is proven; evolve: always False
    planned: dict[Candidate, int] = field(default_factory=dict)


class _Memo:
    def __init__(self, memory: MemoryFn, planned: dict[Candidate, int] | None = None):
        self.memory, self.planned = memory, {} if planned is None else planned

    def __call__(self, cands: Sequence[Candidate]) -> list[int]:
        todo = [c for c in dict.fromkeys(cands) if c not in self.planned]
        if todo:
            self.planned.update(zip(todo, self.memory(todo)))
        return [self.planned[c] for c in cands]


def _choices_by_dimension(space: SearchSpace, contrib: Contributions) -> list[list[tuple[float, object]]]:
    """Per dimension (the depth, then each layer), its choices as (value, choice), best first."""
    dims = [sorted(((contrib.bias[d], d) for d in space.depths), key=lambda t: (-t[0], t[1]))]
    for layer in space.layers:
        dims.append(sorted(((0.0 if r == 0 else contrib.weight[(layer, r)], r) for r in space.ratios),
                           key=lambda t: (-t[0], t[1])))
    return dims


def in_value_order(space: SearchSpace, contrib: Contributions):
    """Every candidate of `space`, in decreasing value (ties in a fixed order), made lazily."""
    dims = _choices_by_dimension(space, contrib)

    def total(idx):
        return sum(dims[k][i][0] for k, i in enumerate(idx))

    start = (0,) * len(dims)
    heap = [(-total(start), start, 0)]
    while heap:
        neg, idx, first = heapq.heappop(heap)
        yield Candidate(dims[0][idx[0]][1], tuple(dims[k][i][1] for k, i in enumerate(idx) if k)), -neg
        # successors move one coordinate at or after the last one moved: each index once
        for k in range(first, len(dims)):
            if idx[k] + 1 < len(dims[k]):
                nxt = idx[:k] + (idx[k] + 1,) + idx[k + 1:]
                heapq.heappush(heap, (-total(nxt), nxt, k))


# The plans the exact search may make without a fit before it gives up proving.
EXACT_MAX_PLANS = 300


def exact(space: SearchSpace, contrib: Contributions, memory: MemoryFn, budget: int, max_plans: int = EXACT_MAX_PLANS,
          batch: int = 1, planned: dict[Candidate, int] | None = None) -> Result:
    memo = _Memo(memory, planned)
    known = len(memo.planned)   # plans of earlier searches, which cost this one nothing
    pending: list[Candidate] = []   # in value order; the first one not planned yet

    def first_fitting():
        for c, need in zip(pending, memo(pending)):
            if need <= budget:
                return Result(c, contrib.value(space, c), need, True, memo.planned)
        return None

    for cand, _ in in_value_order(space, contrib):
        if not pending and cand in memo.planned:   # known already: no batch to wait for
            if memo.planned[cand] <= budget:
                return Result(cand, contrib.value(space, cand), memo.planned[cand], True, memo.planned)
            continue
        pending.append(cand)
        if sum(c not in memo.planned for c in pending) < batch:
            continue
        found = first_fitting()
        if found is not None:
            return found
        if len(memo.planned) - known >= max_plans:
            return Result(None, None, None, False, memo.planned)
        pending = []
    return first_fitting() or Result(None, None, None, True, memo.planned)   # nothing fits: proven


def evolve(space: SearchSpace, contrib: Contributions, memory: MemoryFn, budget: int, seed: int = 0,
           population: int = 24, generations: int = 30, mutation: float = 0.2, batch: int = 1,
           planned: dict[Candidate, int] | None = None) -> Result:
    memo = _Memo(memory, planned)
    rng = np.random.default_rng(seed)
    value = lambda c: contrib.value(space, c)   # noqa: E731

    def random_candidate() -> Candidate:
        return Candidate(int(rng.choice(space.depths)), tuple(float(rng.choice(space.ratios)) for _ in space.layers))

    def survivors(pool: list[Candidate]) -> list[Candidate]:
        """The `population` fitting candidates of largest value, planning down the pool."""
        ranked = sorted(set(pool), key=lambda c: (-value(c), c))
        kept: list[Candidate] = []
        for at in range(0, len(ranked), batch):
            chunk = ranked[at:at + batch]
            kept += [c for c, need in zip(chunk, memo(chunk)) if need <= budget]
            if len(kept) >= population:
                break
        return kept[:population]

    alive = survivors([space.smallest()] + [random_candidate() for _ in range(4 * population)])
    for _ in range(generations):
        if not alive:
            break
        children = []
        for _ in range(population):
            a, b = (alive[int(i)] for i in rng.integers(0, len(alive), 2))
            genes = [a.depth if rng.random() < 0.5 else b.depth] + \
                    [x if rng.random() < 0.5 else y for x, y in zip(a.ratios, b.ratios)]
            if rng.random() < mutation:
                genes[0] = int(rng.choice(space.depths))
            genes[1:] = [float(rng.choice(space.ratios)) if rng.random() < mutation else g for g in genes[1:]]
            children.append(Candidate(genes[0], tuple(genes[1:])))
        alive = survivors(alive + children)
    if not alive:
        return Result(None, None, None, False, memo.planned)
    best = alive[0]
    return Result(best, value(best), memo.planned[best], False, memo.planned)


def frontier(planned: dict[Candidate, int], space: SearchSpace, contrib: Contributions) -> list[tuple[int, float, Candidate]]:
    """The planned candidates no other planned one beats in both SRAM and value: (bytes, value,
    candidate), by increasing bytes."""
    out: list[tuple[int, float, Candidate]] = []
    for c, need in sorted(planned.items(), key=lambda kv: (kv[1], -contrib.value(space, kv[0]), kv[0])):
        v = contrib.value(space, c)
        if not out or v > out[-1][1]:
            out.append((need, v, c))
    return out
