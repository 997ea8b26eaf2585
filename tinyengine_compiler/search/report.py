"""The report beside a searched scheme: `<stem>.md` (the contributions, the choice at each
budget, the frontier) and `<stem>.svg` (summed contribution against planned SRAM)."""

from __future__ import annotations

from ..report.memory import render_svg_template
from .optimize import Contributions, Result, frontier
from .space import Candidate, SearchSpace

KB = 1024


def _kb(n: int) -> str:
    return f"{n / KB:.1f} KB"


def render_markdown(title: str, space: SearchSpace, contrib: Contributions, base: int,
                    measured: dict[Candidate, float], choices: list[tuple[int, Result]], protocol: dict) -> str:
    lines = [f"# {title}", "",
             f"Fine-tuning protocol of every run: {protocol['describe']}.", "",
             f"The memory below is that of `{protocol['compile']}`.", "",
             "## Contributions", "",
             "Top-1 gain in points. Biases of the last d numbered convs, over the classifier alone:", "",
             "| bias depth d | top-1 | contribution |", "|---:|---:|---:|"]
    for d in space.depths:
        c = space.biases_only(d)
        lines.append(f"| {d} | {100 * measured[c]:.1f} % | {contrib.bias[d]:+.1f} |")
    lines += ["", f"Weights of each layer at each ratio of its input channels, over the biases of the last "
                  f"{base} convs (the base depth, the best of the table above):", "",
              "| layer | " + " | ".join(f"ratio {r:g}" for r in space.ratios if r) + " |",
              "|---:|" + "---:|" * sum(1 for r in space.ratios if r)]
    for layer in space.layers:
        lines.append(f"| {layer} | " + " | ".join(f"{contrib.weight[(layer, r)]:+.1f}" for r in space.ratios if r) + " |")
    lines += ["", "## The choice at each budget", "",
              "Planned SRAM is what `tte compile` allocates for the scheme (memory.json `peak_sram_bytes`).", "",
              "| budget | scheme | summed contribution | planned SRAM | found by |", "|---:|---|---:|---:|---|"]
    for budget, r in choices:
        if r.found is None:
            lines.append(f"| {_kb(budget)} | nothing fits | | | |")
        else:
            how = "exact (proven optimum)" if r.complete else "evolutionary search"
            lines.append(f"| {_kb(budget)} | {space.describe(r.found)} | {r.value:+.1f} | {_kb(r.bytes)} | {how} |")
    planned = choices[-1][1].planned
    lines += ["", "## Frontier of the planned candidates", "",
              f"Of the candidates the searches planned ({len(planned)} here), the ones no other beats in both SRAM "
              "and summed contribution:", "",
              "| planned SRAM | summed contribution | scheme |", "|---:|---:|---|"]
    for need, value, c in frontier(planned, space, contrib):
        lines.append(f"| {_kb(need)} | {value:+.1f} | {space.describe(c)} |")
    return "\n".join(lines) + "\n"


def render_svg(title: str, space: SearchSpace, contrib: Contributions, choices: list[tuple[int, Result]]) -> str:
    width, height = 760, 420
    left, right, top, bottom = 64, 730, 40, 370
    planned = choices[-1][1].planned
    values = [contrib.value(space, c) for c in planned] or [0.0]
    xs = [b for b in planned.values()] + [b for b, _ in choices]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(values + [0.0]), max(values + [0.0])
    sx = (right - left) / max(x1 - x0, 1)
    sy = (bottom - top) / max(y1 - y0, 1e-9)

    def px(need: int, v: float) -> tuple[float, float]:
        return round(left + (need - x0) * sx, 1), round(bottom - (v - y0) * sy, 1)

    points = [dict(zip(("x", "y"), px(need, contrib.value(space, c))),
                   title=f"{space.describe(c)}: {_kb(need)}, {contrib.value(space, c):+.1f}") for c, need in planned.items()]
    front = " ".join(f"{x},{y}" for x, y in (px(n, v) for n, v, _ in frontier(planned, space, contrib)))
    chosen = [dict(zip(("x", "y"), px(r.bytes, r.value)), title=f"at {_kb(b)}: {space.describe(r.found)}")
              for b, r in choices if r.found is not None]
    budgets = [{"x": px(b, y0)[0], "label": f"budget {_kb(b)}"} for b, _ in choices]
    x_ticks = [{"x": round(left + k / 4 * (right - left), 1), "y": bottom + 14,
                "label": f"{(x0 + k / 4 * (x1 - x0)) / KB:.0f}"} for k in range(5)]
    y_ticks = [{"x": left - 4, "y": round(bottom - k / 4 * (bottom - top), 1), "label": f"{y0 + k / 4 * (y1 - y0):.1f}"}
               for k in range(5)]
    return render_svg_template("search.svg.j2",
        width=width, height=height, title=title, points=points, frontier=front, chosen=chosen, budgets=budgets,
        x_ticks=x_ticks, y_ticks=y_ticks,
        plot={"left": left, "right": right, "top": top, "bottom": bottom, "mid_x": (left + right) // 2,
              "mid_y": (top + bottom) // 2, "x_title_y": bottom + 30})
