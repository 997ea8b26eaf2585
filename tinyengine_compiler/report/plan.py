"""Budgets and the per-layer and Flash figures of a memory report, for `pipeline.py`.

`parse_bytes` reads a budget; `check_budget(engine, budget)` raises BudgetError naming the
peak op and the buffers live there, largest first, when the engine's SRAM total (memory.json
`peak_sram_bytes`) exceeds the budget.  `layer_rows` and `flash_bytes` are the memory report's
per-layer table and Flash total; `engine_notes` its description of the schedule.
"""

from __future__ import annotations

import re

from ..errors import BudgetError, ConfigError
from ..ir import Graph, OpKind
from ..planners.base import Buffer, blocks, live_bytes, peak_step
from .inspect import layer_row

_UNITS = {"": 1, "B": 1, "KB": 1024, "KIB": 1024, "K": 1024, "MB": 1 << 20, "MIB": 1 << 20, "M": 1 << 20}


def parse_bytes(text: str) -> int:
    """'256KB' / '256KiB' / '1MB' / '262144' -> bytes (K = 1024, as STM32 datasheets count)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).upper() not in _UNITS:
        raise ConfigError(f"--budget {text!r}: expected bytes like 256KB, 1MB or 262144")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def peak_breakdown(engine, top: int = 6) -> str:
    """'peak at step N, node X (OP): buf a B, buf b B, ...' (largest first) of a
    `pipeline.Engine`."""
    step = engine.summary["peak_step"]
    if step is None:
        return "no buffers"
    node = engine.graph.nodes[step]
    live = sorted((b for b in blocks(engine.buffers) if b.first <= step <= b.last),
                  key=lambda b: (-b.size_bytes, b.name))
    parts = [f"{b.name} {b.size_bytes} B" for b in live[:top]]
    more = f", and {len(live) - top} more" if len(live) > top else ""
    return f"peak at step {step}, node {node.name} ({node.op.value}): {', '.join(parts)}{more}"


def check_budget(engine, budget_bytes: int) -> None:
    """Raise BudgetError when a `pipeline.Engine` needs more SRAM than `budget_bytes`."""
    s = engine.summary
    need = s["peak_sram_bytes"]
    if need > budget_bytes:
        raise BudgetError(f"needs {need} B of SRAM ({need / 1024:.1f} KB: arena {s['arena_bytes']} B "
                          f"+ trainable {s['trainable_bytes']} B + other static {s['other_static_bytes']} B "
                          f"+ stack {s['stack_bytes']} B), "
                          f"budget {budget_bytes} B ({budget_bytes / 1024:.1f} KB); {peak_breakdown(engine)}")


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
    """The constants of the forward layers, the SGD updates' gradient scales and the backward's
    tables: the real logits' float32 scales, the LUT gradients' float32 slopes, the channel
    moves' int32 channel lists."""
    weights = sum(layer_row(forward, n)["flash_bytes"] for n in forward.nodes)
    scales = sum(sched.tensors[n.inputs[2]].nbytes for n in sched.nodes if n.op == OpKind.SGD_UPDATE)
    scales += sum(4 * len(n.attrs["scale"]) for n in sched.nodes if n.op == OpKind.REAL_LOGITS)
    slopes = sum(4 * len(n.attrs["slope"]) for n in sched.nodes if n.op == OpKind.LUT_GRAD)
    lists = sum(4 * len(n.attrs[k] or ()) for n in sched.nodes if n.op == OpKind.GRAD_MOVE_CHANNELS
                for k in ("in_channels", "out_channels"))
    return weights + scales + slopes + lists


def engine_notes(sched: Graph, buffers: list[Buffer], scheme_name: str, options) -> dict:
    """memory.json's description of a training schedule (`pipeline.Options` `options`)."""
    fused = [n.name for n in sched.nodes if n.op == OpKind.FUSED_EXPAND_DEPTHWISE]
    in_place = [n.name for n in sched.nodes if n.attrs.get("in_place")]
    step = peak_step(buffers)
    storage = "/".join(sorted({n.attrs["storage"] for n in sched.nodes
                               if n.op == OpKind.SGD_UPDATE and n.attrs["param"] == "weight"})) or "none"
    notes = [f"update scheme: {scheme_name}",
             f"fused expand+depthwise (frozen prefix): {', '.join(fused) or 'none'}",
             f"in place: {len(in_place)} nodes",
             "weight gradients fused with their SGD update" if options.reorder
             else "no reorder: every gradient is held until all updates run at the end",
             f"trained weights stored as {storage}",
             f"kernels: {options.kernels}"]
    return {"fused_layers": fused, "in_place_nodes": in_place, "reorder": options.reorder,
            "scheme": scheme_name, "weight_storage": storage, "kernels": options.kernels,
            "peak_op": None if step is None else sched.nodes[step].name, "notes": notes}
