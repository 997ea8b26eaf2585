"""compile_inference: an int8 forward Graph -> a self-contained C inference engine folder.

The arena is planned from the graph's lifetimes with the best planner and checked with the
overlap checker before any C is written; the folder is then written all or nothing
(`emit.write_output`).  This is the forward half of the training engine that `tte compile`
will emit; tests and benchmarks use it to run the generated C on the host and on the M7.
"""

from __future__ import annotations

import hashlib

from ..ir import Graph
from ..passes.lifetimes import lifetimes
from ..planners import best_plan
from ..planners.base import Plan, check_no_overlap
from .context import build_context
from .emit import write_output


def compile_inference(g: Graph, out_dir: str) -> tuple[Plan, dict]:
    """Write the engine of `g` to `out_dir`; returns the arena plan and the render context."""
    buffers = lifetimes(g)
    plan = best_plan(buffers)
    check_no_overlap(buffers, plan)
    ctx = build_context(g, plan.offsets, plan.arena_bytes, source=g.name,
                        source_sha256=hashlib.sha256(g.to_json().encode()).hexdigest())
    write_output(str(out_dir), ctx)
    return plan, ctx
