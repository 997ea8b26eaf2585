"""Arena planners: a `Buffer` list in, a `Plan` (offsets + arena size) out.

`PLANNERS` maps the CLI names to the planners, all with the signature
`plan(buffers, *, align=4) -> Plan`; `best_plan()` runs them all and keeps the smallest arena.
"""

from __future__ import annotations

from typing import Sequence

from . import greedy_by_conflicts, greedy_by_size, hill_climb, linear
from .base import Buffer, Plan, check_no_overlap, format_plan, lower_bound

PLANNERS = {
    "greedy_by_size": greedy_by_size.plan,
    "greedy_by_conflicts": greedy_by_conflicts.plan,
    "hill_climb": hill_climb.plan,
    "linear": linear.plan,
}


def best_plan(buffers: Sequence[Buffer], align: int = 4) -> Plan:
    """The plan with the smallest arena; on a tie, the planner listed first in `PLANNERS`."""
    plans = [fn(buffers, align=align) for fn in PLANNERS.values()]
    return min(plans, key=lambda p: p.arena_bytes)  # min() keeps the first of equals


__all__ = ["Buffer", "Plan", "PLANNERS", "best_plan", "check_no_overlap", "format_plan",
           "lower_bound"]
