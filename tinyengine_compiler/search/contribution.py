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


def bias_runs(space: SearchSpace) -> list[Candidate]:
    zeros = (0.0,) * len(space.layers)
    return [Candidate(d, zeros) for d in space.depths]


def weight_runs(space: SearchSpace, base: int) -> list[Candidate]:
    zeros = (0.0,) * len(space.layers)
    return [Candidate(base, zeros[:k] + (r,) + zeros[k + 1:])
            for k in range(len(space.layers)) for r in space.ratios if r]


def analyse(space: SearchSpace, top1: Top1Fn) -> tuple[Contributions, int, dict[Candidate, float]]:
    """(the contributions, the base depth, every run's top-1)."""
    measured: dict[Candidate, float] = {}
    runs = bias_runs(space)
    measured.update(zip(runs, top1(runs)))
    alone = measured[runs[0]]
    bias = {c.depth: 100.0 * (measured[c] - alone) for c in runs}
    base = max(space.depths, key=lambda d: (bias[d], -d))
    base_top1 = measured[Candidate(base, (0.0,) * len(space.layers))]
    runs = weight_runs(space, base)
    measured.update(zip(runs, top1(runs)))
    weight = {(space.layers[c.ratios.index(r)], r): 100.0 * (measured[c] - base_top1)
              for c in runs for r in c.ratios if r}
    return Contributions(bias, weight), base, measured
