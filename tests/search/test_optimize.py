"""search/optimize.py and search/contribution.py against brute force: every candidate of a
small space enumerated with itertools, its value summed and its memory looked up here, by
code written for the test."""

from __future__ import annotations

import itertools

import pytest

from tinyengine_compiler.search.contribution import analyse
from tinyengine_compiler.search.optimize import Contributions, evolve, exact, frontier, in_value_order
from tinyengine_compiler.search.space import Candidate, SearchSpace

SPACE = SearchSpace(num_convs=10, depths=(0, 3, 6), layers=(5, 7, 9), ratios=(0.0, 0.25, 1.0))
CONTRIB = Contributions(bias={0: 0.0, 3: 4.0, 6: 5.5},
                        weight={(5, 0.25): 0.5, (5, 1.0): 2.0, (7, 0.25): 1.0, (7, 1.0): 3.0,
                                (9, 0.25): -0.5, (9, 1.0): 6.0})
BIAS_BYTES = {0: 0, 3: 9, 6: 20}
WEIGHT_BYTES = {(5, 0.25): 7, (5, 1.0): 30, (7, 0.25): 5, (7, 1.0): 18, (9, 0.25): 3, (9, 1.0): 40}


def _value(c: Candidate) -> float:
    w = {(5, 0.25): 0.5, (5, 1.0): 2.0, (7, 0.25): 1.0, (7, 1.0): 3.0, (9, 0.25): -0.5, (9, 1.0): 6.0}
    return {0: 0.0, 3: 4.0, 6: 5.5}[c.depth] + sum(w[(layer, r)] for layer, r in zip((5, 7, 9), c.ratios) if r)


def _bytes(c: Candidate) -> int:
    """Not additive: two trained weights share a scratch that costs 11 bytes more."""
    weights = [(layer, r) for layer, r in zip((5, 7, 9), c.ratios) if r]
    return 100 + BIAS_BYTES[c.depth] + sum(WEIGHT_BYTES[w] for w in weights) + (11 if len(weights) >= 2 else 0)


def _all() -> list[Candidate]:
    return [Candidate(d, rs) for d in (0, 3, 6) for rs in itertools.product((0.0, 0.25, 1.0), repeat=3)]


def _brute_force(budget: int) -> tuple[float, set[Candidate]]:
    fits = [c for c in _all() if _bytes(c) <= budget]
    best = max(_value(c) for c in fits)
    return best, {c for c in fits if _value(c) == best}


class CountingMemory:
    def __init__(self):
        self.asked: list[Candidate] = []

    def __call__(self, cands):
        self.asked += list(cands)
        return [_bytes(c) for c in cands]


def test_candidates_come_once_each_in_decreasing_value():
    seen = list(in_value_order(SPACE, CONTRIB))
    assert sorted(c for c, _ in seen) == sorted(_all())
    assert [v for _, v in seen] == pytest.approx([_value(c) for c, _ in seen])
    assert all(a >= b - 1e-12 for (_, a), (_, b) in zip(seen, seen[1:]))


@pytest.mark.parametrize("budget", [100, 112, 130, 150, 170, 190, 400])
@pytest.mark.parametrize("batch", [1, 3])
def test_exact_finds_the_brute_force_optimum_planning_each_candidate_once(budget, batch):
    memory = CountingMemory()
    r = exact(SPACE, CONTRIB, memory, budget, batch=batch)
    value, optima = _brute_force(budget)
    assert r.complete and r.found in optima and r.value == pytest.approx(value) and r.bytes == _bytes(r.found)
    assert len(memory.asked) == len(set(memory.asked))
    # only candidates worth more than the optimum, and at most a batch beyond it, were planned
    assert sum(_value(c) < value for c in memory.asked) < batch


def test_exact_proves_that_nothing_fits_and_gives_up_past_its_plans():
    r = exact(SPACE, CONTRIB, CountingMemory(), 99)
    assert r.found is None and r.complete and len(r.planned) == len(_all())
    r = exact(SPACE, CONTRIB, CountingMemory(), 100, max_plans=5)
    assert r.found is None and not r.complete and len(r.planned) == 5


@pytest.mark.parametrize("budget", [112, 150, 190])
def test_evolution_finds_the_optimum_of_a_small_space(budget):
    memory = CountingMemory()
    r = evolve(SPACE, CONTRIB, memory, budget, seed=3, population=8, generations=15)
    value, optima = _brute_force(budget)
    assert r.found in optima and r.value == pytest.approx(value) and not r.complete
    assert len(memory.asked) == len(set(memory.asked))


def test_plans_are_shared_between_searches():
    planned: dict = {}
    memory = CountingMemory()
    exact(SPACE, CONTRIB, memory, 150, planned=planned)
    before = len(memory.asked)
    exact(SPACE, CONTRIB, memory, 150, planned=planned)
    assert len(memory.asked) == before


def test_frontier_keeps_only_the_undominated():
    planned = {c: _bytes(c) for c in _all()}
    front = frontier(planned, SPACE, CONTRIB)
    for need, value, c in front:
        assert not any(_bytes(o) <= need and _value(o) > value for o in _all())
    assert [n for n, _, _ in front] == sorted(n for n, _, _ in front)


def test_contributions_are_gains_over_the_classifier_and_over_the_best_bias_depth():
    top1 = {Candidate(0, (0.0, 0.0, 0.0)): 0.50, Candidate(3, (0.0, 0.0, 0.0)): 0.62,
            Candidate(6, (0.0, 0.0, 0.0)): 0.58}
    # weights on top of depth 3, the best bias depth: 0.62 + the gain written here
    gains = {(5, 0.25): 0.01, (5, 1.0): 0.02, (7, 0.25): -0.03, (7, 1.0): 0.04, (9, 0.25): 0.0, (9, 1.0): 0.1}
    for (layer, r), gain in gains.items():
        ratios = tuple(r if x == layer else 0.0 for x in (5, 7, 9))
        top1[Candidate(3, ratios)] = 0.62 + gain
    asked = []

    def measure(cands):
        asked.append(list(cands))
        return [top1[c] for c in cands]

    contrib, base, measured = analyse(SPACE, measure)
    assert base == 3 and len(asked) == 2 and measured == top1
    assert contrib.bias == pytest.approx({0: 0.0, 3: 12.0, 6: 8.0})
    assert contrib.weight == pytest.approx({k: 100 * v for k, v in gains.items()})
