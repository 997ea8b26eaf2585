"""The memory report: `memory.json`, `memory.md` and `memory.svg` from a buffer list and its Plan.

Who lives where is the caller's decision.  `buffers` are the buffers placed in the arena (the
ones the planner saw); what the caller keeps beside the arena is passed as byte counts: the
trained parameters (`trainable_bytes`), all of its static state (`data_bss_bytes`, the arena
and the trained parameters included: what the linker's .data + .bss hold for it) and its
worst-case stack (`stack_bytes`).  Then

    other_static_bytes = data_bss_bytes - arena_bytes - trainable_bytes   (e.g. SGD parameters)
    peak_sram_bytes    = data_bss_bytes + stack_bytes                     (what a budget gates)

The arena's make-up at its busiest step is in the `at_peak_<category>_bytes` keys.

Per-layer rows come from the IR side as dicts with the keys in `LAYER_KEYS`:
`layer` (name), `op` (op kind), `out_shape` (list of ints), `params`, `macs`, `sram_bytes`
(SRAM live while the layer runs) and `flash_bytes` (its constant data); the report does not
recompute them.  `weights_bytes` is the sum of the layers' `flash_bytes`; `flash_bytes` is the
caller's flash total (weights plus whatever else it counts, such as code).

JSON keys ending in `_bytes` are integers, and are what `report/compare.py` gates on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import jinja2

from ..planners.base import (CATEGORIES, Buffer, Plan, alias_roots, live_bytes, lower_bound,
                             peak_step)
from ..resources import templates_dir

LAYER_KEYS = ("layer", "op", "out_shape", "params", "macs", "sram_bytes", "flash_bytes")

CATEGORY_COLORS = {
    "activation": "#8ecae6",
    "saved_activation": "#219ebc",
    "gradient": "#ffb703",
    "trainable": "#fb8500",
    "scratch": "#adb5bd",
    "input": "#90be6d",
    "label": "#b5838d",
}


def memory_summary(buffers: Sequence[Buffer], plan: Plan, *, layers: Sequence[dict],
                   flash_bytes: int, trainable_bytes: int = 0, data_bss_bytes: int | None = None,
                   stack_bytes: int = 0, extra: dict | None = None) -> dict:
    """The contents of memory.json: a dict with sorted keys (see the module docstring).

    `extra` adds the caller's own keys (e.g. which layers were fused); they may not replace
    the report's."""
    rows = [_layer_row(row) for row in layers]
    step = peak_step(buffers)
    roots = alias_roots(buffers)
    hull: dict[str, tuple[int, int]] = {}
    for b in buffers:
        lo, hi = hull.get(roots[b.name], (b.first, b.last))
        hull[roots[b.name]] = (min(lo, b.first), max(hi, b.last))
    at_peak = dict.fromkeys(CATEGORIES, 0)
    for b in buffers:  # alias groups count once, as their root, like lower_bound()
        if b.alias_of is None and hull[b.name][0] <= step <= hull[b.name][1]:
            at_peak[b.category] += b.size_bytes
    static = plan.arena_bytes + int(trainable_bytes) if data_bss_bytes is None else int(data_bss_bytes)
    if static < plan.arena_bytes + int(trainable_bytes):
        raise ValueError(f"data_bss_bytes {static} is less than the arena and the trained parameters")
    summary = {
        "arena_bytes": plan.arena_bytes,
        "buffers": len(buffers),
        "data_bss_bytes": static,
        "flash_bytes": int(flash_bytes),
        "layers": rows,
        "lower_bound_bytes": lower_bound(buffers),
        "other_static_bytes": static - plan.arena_bytes - int(trainable_bytes),
        "peak_sram_bytes": static + int(stack_bytes),
        "peak_step": step,
        "planner": plan.planner,
        "stack_bytes": int(stack_bytes),
        "trainable_bytes": int(trainable_bytes),
        "weights_bytes": sum(r["flash_bytes"] for r in rows),
    }
    summary.update({f"at_peak_{c}_bytes": n for c, n in at_peak.items()})
    clash = set(summary) & set(extra or {})
    if clash:
        raise ValueError(f"extra keys {sorted(clash)} would replace the report's")
    summary.update(extra or {})
    return dict(sorted(summary.items()))


def render_markdown(summary: dict) -> str:
    """memory.md: an ST-style summary block, then the per-layer table."""
    def line(label: str, n: int) -> str:
        return f"{label:<18s}: {n:>10,d} B ({n / 1024:9.2f} KiB)"

    lb = summary["lower_bound_bytes"]
    ratio = f"{summary['arena_bytes'] / lb:.3f}" if lb else "n/a"
    out = [
        "# Memory report",
        "",
        f"Arena planner `{summary['planner']}`, {summary['buffers']} buffers, busiest step "
        f"{summary['peak_step']}; arena / lower bound = {ratio}.",
        "",
        "```",
        line("weights (ro)", summary["weights_bytes"]),
        line("arena (rw)", summary["arena_bytes"]),
        line("trainable (rw)", summary["trainable_bytes"]),
        line("other static (rw)", summary["other_static_bytes"]),
        line("data + bss", summary["data_bss_bytes"]),
        line("stack (worst case)", summary["stack_bytes"]),
        line("ram (total)", summary["peak_sram_bytes"]),
        line("flash (total)", summary["flash_bytes"]),
        line("arena lower bound", lb),
        "```",
        "",
        "What each figure counts (KiB = 1024 B):",
        "",
        "- `arena (rw)`: the one static arena: activations, saved state (1-bit masks, kept "
        "channels), gradients (a fused weight gradient one block of output channels at a time), "
        "kernel scratch, the input and the label.",
        "- `trainable (rw)`: the trained parameters in SRAM as the C stores them (int8 weights, "
        "int32 biases, float32 masters with `--storage float32`; a partly trained 1x1 conv keeps "
        "only its trained input channels, its frozen columns stay in Flash), and with `--momentum` "
        "a float32 velocity per trained element.",
        "- `other static (rw)`: the engine's other static state (the SGD parameters, the "
        "stochastic-rounding counter) and alignment.",
        "- `data + bss`: the three above: everything the engine's objects add to the linker's "
        ".data + .bss (`TTE_RAM_BYTES`; a firmware adds its own).",
        "- `stack (worst case)`: the deepest call of the engine on the Cortex-M7: an entry "
        "point's frame plus the deepest kernel, from the compiler's call graph "
        "(`codegen/stack_usage.json`).",
        "- `ram (total)`: data + bss + stack: what `--budget` gates.",
        "",
        *[f"- {note}" for note in summary.get("notes", [])],
        *([""] if summary.get("notes") else []),
        "| layer | op | out shape | params | MACs | SRAM live at peak | flash bytes |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in summary["layers"]:
        shape = "x".join(str(d) for d in r["out_shape"])
        out.append(f"| {r['layer']} | {r['op']} | {shape} | {r['params']:,d} | {r['macs']:,d} "
                   f"| {r['sram_bytes']:,d} | {r['flash_bytes']:,d} |")
    return "\n".join(out) + "\n"


def render_svg(buffers: Sequence[Buffer], plan: Plan) -> str:
    """memory.svg: x = op step, y = address (0 at the bottom), a rect per buffer by category."""
    width, height = 900, 420
    left, right, top, bottom = 64, 720, 40, 370
    steps = [s for b in buffers for s in (b.first, b.last)]
    s0, s1 = (min(steps), max(steps)) if steps else (0, 0)
    sx = (right - left) / (s1 - s0 + 1)
    sy = (bottom - top) / max(plan.arena_bytes, 1)
    rects = [{
        "x": _px(left + (b.first - s0) * sx), "w": _px((b.last - b.first + 1) * sx),
        "y": _px(bottom - (plan.offsets[b.name] + b.size_bytes) * sy),
        "h": _px(b.size_bytes * sy), "color": CATEGORY_COLORS[b.category],
        "alias": b.alias_of is not None,
        "title": f"{b.name} ({b.category}): {b.size_bytes} B at {plan.offsets[b.name]}, "
                 f"steps {b.first}..{b.last}" + (f", alias of {b.alias_of}" if b.alias_of else ""),
    } for b in buffers]
    tick_every = max(1, -(-(s1 - s0 + 1) // 20))
    x_ticks = [{"x": _px(left + (s - s0 + 0.5) * sx), "y": bottom + 14, "label": s}
               for s in range(s0, s1 + 1, tick_every)]
    y_ticks = [{"x": left - 4, "y": _px(bottom - k / 4 * (bottom - top)),
                "label": f"{k / 4 * plan.arena_bytes / 1024:.1f}"} for k in range(5)]
    step = peak_step(buffers)
    peak = None if step is None else {
        "x": _px(left + (step - s0 + 0.5) * sx), "label_y": top - 4,
        "label": f"peak: step {step}, {live_bytes(buffers)[step]} B live",
        "lb_y": _px(bottom - lower_bound(buffers) * sy),
    }
    used = [c for c in CATEGORIES if any(b.category == c for b in buffers)]
    legend = [{"x": right + 20, "y": top + 18 * i, "text_x": right + 34, "text_y": top + 18 * i + 9,
               "color": CATEGORY_COLORS[c], "label": c} for i, c in enumerate(used)]
    return render_svg_template("memory.svg.j2",
        width=width, height=height, rects=rects, x_ticks=x_ticks, y_ticks=y_ticks, peak=peak,
        legend=legend, title=f"arena {plan.arena_bytes} B ({plan.planner})",
        plot={"left": left, "right": right, "top": top, "bottom": bottom,
              "mid_x": (left + right) // 2, "mid_y": (top + bottom) // 2,
              "x_title_y": bottom + 30})


def render_svg_template(name: str, **context) -> str:
    """A report SVG template of templates/ (autoescaped; an unset variable is an error)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir()), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template(name).render(**context)


def write_memory_report(folder: str | Path, buffers: Sequence[Buffer], plan: Plan, *,
                        layers: Sequence[dict], flash_bytes: int, trainable_bytes: int = 0,
                        data_bss_bytes: int | None = None, stack_bytes: int = 0,
                        extra: dict | None = None) -> dict:
    """Write memory.json, memory.md and memory.svg into `folder` (created if needed).

    `buffers` and `plan` describe the arena; the other figures are `memory_summary`'s; `layers`
    are per-layer rows (keys `LAYER_KEYS`).  Returns the dict written to memory.json.  Output
    is deterministic: the same input, the same bytes.
    """
    summary = memory_summary(buffers, plan, layers=layers, flash_bytes=flash_bytes,
                             trainable_bytes=trainable_bytes, data_bss_bytes=data_bss_bytes,
                             stack_bytes=stack_bytes, extra=extra)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in report_files(buffers, plan, summary).items():
        (out / name).write_text(text)
    return summary


def report_files(buffers: Sequence[Buffer], plan: Plan, summary: dict) -> dict[str, str]:
    """File name -> text of the three report files, for writers that place them themselves."""
    return {"memory.json": json.dumps(summary, indent=2) + "\n", "memory.md": render_markdown(summary),
            "memory.svg": render_svg(buffers, plan)}


def _layer_row(row: dict) -> dict:
    missing = [k for k in LAYER_KEYS if k not in row]
    if missing:
        raise ValueError(f"layer row {row.get('layer', row)!r} lacks {', '.join(missing)}")
    return {"layer": str(row["layer"]), "op": str(row["op"]),
            "out_shape": [int(d) for d in row["out_shape"]],
            **{k: int(row[k]) for k in ("params", "macs", "sram_bytes", "flash_bytes")}}


def _px(value: float) -> float:
    return round(value, 2)
