"""The compile pipeline: forward Graph -> planned engine -> C folder (the entry tests, benchmarks
and `tte compile` share).

    compile_inference(g, out)            inference engine: legalize biases, lifetimes -> plan -> C
    compile_training(g, scheme, out)     training step: legalize biases, replace the head (N
                                         classes), autodiff, sparse update, QAS, reorder ->
                                         lifetimes -> plan -> C

Every plan passes the overlap checker and the budget before any C is written, and the folder is
written all or nothing (with memory.json/md/svg beside the C).  The training engine fuses the frozen prefix's expand+depthwise pairs, runs ops in place where
their input dies, keeps the int8 outputs its ReLU backward reads (no 1-bit masks yet) and makes
each weight gradient whole before applying it: what the generated kernels do today.
`backend` ("portable", the default, or "cmsis_nn") only picks the kernel sources copied into the
folder (codegen/emit.py); the schedule, the plan and the results are the same.
"""

from __future__ import annotations

import hashlib

from .codegen.context import build_context
from .codegen.emit import write_output
from .ir import Graph, OpKind
from .passes.fuse_frozen_prefix import fuse_frozen_prefix
from .passes.inplace import inplace
from .passes.legalize_bias import legalize_biases
from .passes.lifetimes import lifetimes
from .passes.reorder import reorder
from .planners import best_plan
from .planners.base import Plan, check_no_overlap
from .report.memory import memory_summary, report_files
from .report.plan import MemoryPlan, check_budget, flash_bytes, layer_rows
from .training.config import UpdateScheme
from .training.pipeline import for_classes, training_graph


def _planned(buffers) -> Plan:
    plan = best_plan(buffers)
    check_no_overlap(buffers, plan)
    return plan


def _context(g: Graph, plan: Plan, buffers) -> dict:
    return build_context(g, plan.offsets, plan.arena_bytes, source=g.name,
                         source_sha256=hashlib.sha256(g.to_json().encode()).hexdigest(),
                         sizes={b.name: b.size_bytes for b in buffers})


def compile_inference(g: Graph, out_dir: str, *, backend: str = "portable") -> tuple[Plan, dict]:
    """Write the inference engine of `g` to `out_dir`; returns the arena plan and the context.
    (Bias legalization changes no output, so the engine computes exactly what `g` does.)"""
    g = legalize_biases(g)
    buffers = lifetimes(g)
    plan = _planned(buffers)
    ctx = _context(g, plan, buffers)
    write_output(str(out_dir), ctx, backend=backend)
    return plan, ctx


def training_schedule(g: Graph, scheme: UpdateScheme, *, num_classes: int | None = None, use_qas: bool = True,
                      seed: int = 0) -> tuple[Graph, Graph]:
    """(the forward graph with its new head, the training step in the order the C runs it)."""
    g, scheme = for_classes(legalize_biases(g), scheme, num_classes, seed)
    _, train = training_graph(g, scheme, use_qas=use_qas)
    sched = inplace(reorder(fuse_frozen_prefix(train)))
    for node in sched.nodes:   # the generated kernels make the whole gradient, then apply it
        node.attrs.pop("fused_update", None)
    return g, sched


def compile_training(g: Graph, scheme: UpdateScheme, out_dir: str, *, budget_bytes: int | None = None,
                     backend: str = "portable", **options) -> tuple[Plan, dict, Graph]:
    """Write the training engine (tte_train_step, tte_infer, the memory report) of `g` under
    `scheme` to `out_dir`; over `budget_bytes` of SRAM it raises BudgetError and writes nothing."""
    forward, sched = training_schedule(g, scheme, **options)
    buffers = lifetimes(sched)
    plan = _planned(buffers)
    # the C holds each trained tensor whole in SRAM (frozen columns of a partial update too), and
    # a float32-stored weight's master beside its int8 image
    trainable = sum(sched.tensors[n.inputs[0]].nbytes + (4 * sched.tensors[n.inputs[0]].size
                                                         if n.attrs["storage"] == "float32" else 0)
                    for n in sched.nodes if n.op == OpKind.SGD_UPDATE)
    summary = memory_summary(buffers, plan, layers=layer_rows(forward, sched, buffers),
                             flash_bytes=flash_bytes(forward, sched), trainable_bytes=trainable)
    if budget_bytes is not None:
        check_budget(MemoryPlan(sched, buffers, plan, summary), budget_bytes)
    ctx = _context(sched, plan, buffers)
    write_output(str(out_dir), ctx, report_files(buffers, plan, summary), backend=backend)
    return plan, ctx, sched
