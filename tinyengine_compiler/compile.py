"""The compile pipeline: forward Graph -> planned engine -> C folder (the entry tests, benchmarks
and `tte compile` share).

    compile_inference(g, out)            inference engine: legalize biases, lifetimes -> plan -> C
    compile_training(g, scheme, out)     training step: legalize biases, replace the head (N
                                         classes), autodiff, sparse update, QAS, reorder ->
                                         lifetimes -> plan -> C

Every plan passes the overlap checker before any C is written, and the folder is written all or
nothing.  The training engine runs the layers unfused and keeps the int8 outputs its ReLU
backward reads (no 1-bit masks) and whole weight gradients: what the generated kernels do today.
"""

from __future__ import annotations

import hashlib

from .codegen.context import build_context
from .codegen.emit import write_output
from .ir import Graph
from .passes.legalize_bias import legalize_biases
from .passes.lifetimes import lifetimes
from .passes.reorder import reorder
from .planners import best_plan
from .planners.base import Plan, check_no_overlap
from .training.config import UpdateScheme
from .training.pipeline import for_classes, training_graph


def _emit(g: Graph, out_dir: str, buffers) -> tuple[Plan, dict]:
    plan = best_plan(buffers)
    check_no_overlap(buffers, plan)
    ctx = build_context(g, plan.offsets, plan.arena_bytes, source=g.name,
                        source_sha256=hashlib.sha256(g.to_json().encode()).hexdigest())
    write_output(str(out_dir), ctx)
    return plan, ctx


def compile_inference(g: Graph, out_dir: str) -> tuple[Plan, dict]:
    """Write the inference engine of `g` to `out_dir`; returns the arena plan and the context.
    (Bias legalization changes no output, so the engine computes exactly what `g` does.)"""
    g = legalize_biases(g)
    return _emit(g, out_dir, lifetimes(g))


def training_schedule(g: Graph, scheme: UpdateScheme, *, num_classes: int | None = None, use_qas: bool = True,
                      seed: int = 0) -> Graph:
    """The training step in the order the C runs it (updates after every read of their weight)."""
    g, scheme = for_classes(legalize_biases(g), scheme, num_classes, seed)
    _, train = training_graph(g, scheme, use_qas=use_qas)
    sched = reorder(train)
    for node in sched.nodes:   # the generated kernels make the whole gradient, then apply it
        node.attrs.pop("fused_update", None)
    return sched


def compile_training(g: Graph, scheme: UpdateScheme, out_dir: str, **options) -> tuple[Plan, dict, Graph]:
    """Write the training engine (tte_train_step and tte_infer) of `g` under `scheme`."""
    sched = training_schedule(g, scheme, **options)
    plan, ctx = _emit(sched, out_dir, lifetimes(sched, masks=False))
    return plan, ctx, sched
