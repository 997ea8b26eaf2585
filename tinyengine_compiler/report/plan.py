"""The memory plan of one training step: the passes, the planners and the report, end to end.

`plan_memory(g, scheme, ...)` builds the training graph (`training.pipeline`), then runs
fuse_frozen_prefix -> reorder -> inplace -> lifetimes, places the buffers (one planner, or the
best of all) and returns a `MemoryPlan` whose `summary` is memory.json's content:

    peak_sram_bytes = arena_bytes (activations, saved state, gradients, scratch, input, label)
                    + trainable_bytes (trained parameters, updated in place in SRAM)

Scratch lives in the arena (`scratch_bytes` = 0; `at_peak_scratch_bytes` shows it).  Flash
counts every constant of the forward graph (the trained parameters' initial values too) plus
the QAS gradient scales.  `check_budget` raises BudgetError naming the peak op and the buffers
live there, largest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..errors import BudgetError, ConfigError
from ..ir import Graph, OpKind
from ..passes.fuse_frozen_prefix import fuse_frozen_prefix
from ..passes.inplace import inplace
from ..passes.lifetimes import lifetimes
from ..passes.reorder import reorder as reorder_pass
from ..passes.sparse_update import trained_params
from ..planners import PLANNERS, best_plan, check_no_overlap
from ..planners.base import Buffer, Plan, blocks, live_bytes, peak_step
from ..training.config import UpdateScheme
from ..training.pipeline import for_classes, training_graph
from .inspect import layer_row
from .memory import memory_summary

_UNITS = {"": 1, "B": 1, "KB": 1024, "KIB": 1024, "K": 1024, "MB": 1 << 20, "MIB": 1 << 20, "M": 1 << 20}


@dataclass(frozen=True)
class MemoryPlan:
    graph: Graph                 # the scheduled training graph
    buffers: list[Buffer]
    plan: Plan
    summary: dict


def plan_memory(g: Graph, scheme: UpdateScheme, *, num_classes: int | None = None,
                reorder: bool = True, storage: str | None = None, planner: str | None = None,
                masks: bool = True, verify: bool = False, seed: int = 0) -> MemoryPlan:
    """Schedule and place one training step of forward graph `g` under `scheme`."""
    if planner is not None and planner not in PLANNERS:
        raise ConfigError(f"--planner {planner}: unknown; choose one of {', '.join(PLANNERS)}")
    g, scheme = for_classes(g, scheme, num_classes, seed)
    if storage is not None:
        scheme = replace(scheme, weight_storage=storage)
    _, train = training_graph(g, scheme)
    fused = fuse_frozen_prefix(train)
    sched = inplace(reorder_pass(fused, fuse_updates=reorder), masks=masks)
    buffers = lifetimes(sched, masks=masks)
    plan = best_plan(buffers) if planner is None else PLANNERS[planner](buffers)
    if verify:
        check_no_overlap(buffers, plan)
    summary = memory_summary(
        buffers, plan, layers=layer_rows(g, sched, buffers), flash_bytes=flash_bytes(g, sched),
        trainable_bytes=sum(p.bytes for p in trained_params(sched)),
        extra=_extra(sched, buffers, scheme, reorder, masks))
    return MemoryPlan(sched, buffers, plan, summary)


def parse_bytes(text: str) -> int:
    """'256KB' / '256KiB' / '1MB' / '262144' -> bytes (K = 1024, as STM32 datasheets count)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).upper() not in _UNITS:
        raise ConfigError(f"--budget {text!r}: expected bytes like 256KB, 1MB or 262144")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def peak_breakdown(mp: MemoryPlan, top: int = 6) -> str:
    """'peak at step N, node X (OP): buf a B, buf b B, ...' (largest first)."""
    step = mp.summary["peak_step"]
    if step is None:
        return "no buffers"
    node = mp.graph.nodes[step]
    live = sorted((b for b in blocks(mp.buffers) if b.first <= step <= b.last),
                  key=lambda b: (-b.size_bytes, b.name))
    parts = [f"{b.name} {b.size_bytes} B" for b in live[:top]]
    more = f", and {len(live) - top} more" if len(live) > top else ""
    return f"peak at step {step}, node {node.name} ({node.op.value}): {', '.join(parts)}{more}"


def check_budget(mp: MemoryPlan, budget_bytes: int) -> None:
    need = mp.summary["peak_sram_bytes"]
    if need > budget_bytes:
        raise BudgetError(f"needs {need} B of SRAM ({need / 1024:.1f} KB: arena "
                          f"{mp.plan.arena_bytes} B + trainable {mp.summary['trainable_bytes']} B), "
                          f"budget {budget_bytes} B ({budget_bytes / 1024:.1f} KB); {peak_breakdown(mp)}")


def layer_rows(forward: Graph, sched: Graph, buffers: list[Buffer]) -> list[dict]:
    live = live_bytes(buffers)
    rows = []
    for step, n in enumerate(sched.nodes):
        row = layer_row(sched, n)
        for name in n.attrs.get("fused_from", ()):   # a fused node costs what its parts did
            part = layer_row(forward, forward.node(name))
            for k in ("params", "macs", "flash_bytes"):
                row[k] += part[k]
        rows.append({**row, "sram_bytes": live.get(step, 0)})
    return rows


def flash_bytes(forward: Graph, sched: Graph) -> int:
    weights = sum(layer_row(forward, n)["flash_bytes"] for n in forward.nodes)
    scales = sum(sched.tensors[n.inputs[2]].nbytes for n in sched.nodes if n.op == OpKind.SGD_UPDATE)
    return weights + scales


def _extra(sched: Graph, buffers: list[Buffer], scheme: UpdateScheme, reorder: bool, masks: bool) -> dict:
    fused = [n.name for n in sched.nodes if n.op == OpKind.FUSED_EXPAND_DEPTHWISE]
    in_place = [n.name for n in sched.nodes if n.attrs.get("in_place")]
    step = peak_step(buffers)
    notes = [f"fused expand+depthwise (frozen prefix): {', '.join(fused) or 'none'}",
             f"in place: {len(in_place)} nodes",
             "weight gradients fused with their SGD update" if reorder
             else "no reorder: every gradient is held until all updates run at the end",
             "ReLU backward reads 1-bit masks" if masks else "ReLU backward reads the int8 outputs",
             f"trained weights stored as {scheme.weight_storage}"]
    return {"fused_layers": fused, "in_place_nodes": in_place, "reorder": reorder, "masks": masks,
            "scheme": scheme.name, "weight_storage": scheme.weight_storage,
            "peak_op": None if step is None else sched.nodes[step].name, "notes": notes}
