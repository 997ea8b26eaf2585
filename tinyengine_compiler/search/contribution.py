"""Contribution analysis (the paper's section 3.2): what each part of a scheme adds to top-1.

Takes a search space and `top1(candidates) -> [top-1 in 0..1]` (fine-tuning runs on the
target data), and returns the `Contributions` search/optimize.py sums:
1. the biases of the last d numbered convs, for each depth d of the space: the gain over the
   classifier alone (depth 0);
2. each weight layer at each ratio, on top of the biases of the base depth (the depth of best
   top-1, the smaller on a tie): the gain over that depth alone.
Gains are in top-1 points.  Phase 2 needs phase 1's base, so it runs after it; the runs of a
phase are independent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .optimize import Contributions
from .space import Candidate, SearchSpace

Top1Fn = Callable[[Sequence[Candidate]], list[float]]


def analyse(space: SearchSpace, top1: Top1Fn) -> tuple[Contributions, int, dict[Candidate, float]]:
    """(the contributions, the base depth, every run's top-1)."""
    runs = [space.biases_only(d) for d in space.depths]
    measured = dict(zip(runs, top1(runs)))
    alone = measured[space.smallest()]
    bias = {d: 100.0 * (measured[space.biases_only(d)] - alone) for d in space.depths}
    base = max(space.depths, key=lambda d: (bias[d], -d))
    base_top1 = measured[space.biases_only(base)]
    parts = [(layer, r) for layer in space.layers for r in space.ratios if r]
    runs = [space.with_weight(base, layer, r) for layer, r in parts]
    measured.update(zip(runs, top1(runs)))
    weight = {part: 100.0 * (measured[c] - base_top1) for part, c in zip(parts, runs)}
    return Contributions(bias, weight), base, measured
