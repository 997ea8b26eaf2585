"""docs/transfer.svg: top-1 against peak SRAM (log scale), one colour a model and one marker a
run, in the manner of the paper's Fig. 9c.  Plain SVG text, no plotting library."""

from __future__ import annotations

import math
from html import escape

W, H = 760, 460
LEFT, RIGHT, TOP, BOTTOM = 70, 250, 40, 60
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def _marker(shape: int, x: float, y: float, color: str) -> str:
    """Ten distinguishable markers: five shapes, filled then hollow (they repeat beyond ten)."""
    r, base = 6, shape % 5
    paint = f'fill="{color}"' if shape % 10 < 5 else f'fill="white" stroke="{color}" stroke-width="2"'
    if base == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" {paint}/>'
    if base == 1:
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" {paint}/>'
    # polygons list the vertex on the vertical axis first
    corners = {2: ((0, -r), (r, r), (-r, r)),            # triangle up
               3: ((0, -r), (r, 0), (0, r), (-r, 0)),    # diamond
               4: ((0, r), (r, -r), (-r, -r))}[base]     # triangle down
    pts = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)
    return f'<polygon points="{pts}" {paint}/>'


def svg(points: list[dict], title: str) -> str:
    """points: dicts with model, scheme, peak_sram_bytes and top1 (0..1)."""
    models = list(dict.fromkeys(p["model"] for p in points))
    schemes = list(dict.fromkeys(p["scheme"] for p in points))
    kb = [p["peak_sram_bytes"] / 1024 for p in points]
    lo, hi = math.floor(math.log10(min(kb))), math.ceil(math.log10(max(kb)))
    hi = max(hi, lo + 1)
    acc = [100 * p["top1"] for p in points]
    a_lo, a_hi = 10 * math.floor(min(acc) / 10), 10 * math.ceil(max(acc) / 10)
    a_lo, a_hi = (a_lo, a_hi) if a_hi > a_lo else (min(a_lo, 90), min(a_lo, 90) + 10)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(v_kb):
        return LEFT + pw * (math.log10(v_kb) - lo) / (hi - lo)

    def py(v_acc):
        return TOP + ph * (1 - (v_acc - a_lo) / (a_hi - a_lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" '
           f'font-size="12">', f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT}" y="24" font-size="15">{escape(title)}</text>',
           f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>']
    for e in range(lo, hi + 1):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo <= math.log10(v) <= hi:
                x = px(v)
                out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + ph}" stroke="#ddd"/>')
                out.append(f'<text x="{x:.1f}" y="{TOP + ph + 16}" text-anchor="middle">{v:g}</text>')
    for a in range(a_lo, a_hi + 1, 10):
        y = py(a)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{a}</text>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 18}" text-anchor="middle">peak SRAM (KB, log scale)</text>')
    out.append(f'<text transform="translate(20,{TOP + ph / 2}) rotate(-90)" text-anchor="middle">top-1 (%)</text>')
    for p, v_kb, v_acc in zip(points, kb, acc):
        out.append(f'<g class="point"><title>{escape(p["model"])}, {escape(p["scheme"])}: {v_acc:.1f} %, '
                   f'{v_kb:.0f} KB</title>'
                   + _marker(schemes.index(p["scheme"]), px(v_kb), py(v_acc),
                             COLORS[models.index(p["model"]) % len(COLORS)]) + '</g>')
    y = TOP + 8
    for i, m in enumerate(models):
        out.append(f'<rect x="{W - RIGHT + 20}" y="{y}" width="12" height="12" fill="{COLORS[i % len(COLORS)]}"/>'
                   f'<text x="{W - RIGHT + 38}" y="{y + 10}">{escape(m)}</text>')
        y += 20
    y += 10
    for i, s in enumerate(schemes):
        out.append(_marker(i, W - RIGHT + 26, y + 6, "#555") + f'<text x="{W - RIGHT + 38}" y="{y + 10}">'
                   f'{escape(s)}</text>')
        y += 20
    out.append("</svg>")
    return "\n".join(out) + "\n"
