"""docs/transfer.svg's plot: valid SVG, one marker a point, placed by memory (log) and accuracy."""

import xml.etree.ElementTree as ET

from benchmarks.transfer_plot import svg

NS = {"s": "http://www.w3.org/2000/svg"}


def _centres(text):
    root = ET.fromstring(text)
    out = []
    for g in root.findall("s:g", NS):
        m = list(g)[1]
        if m.tag.endswith("circle"):
            out.append((float(m.get("cx")), float(m.get("cy"))))
        elif m.tag.endswith("rect"):
            out.append((float(m.get("x")) + 6, float(m.get("y")) + 6))
        else:
            xs = [float(v.split(",")[0]) for v in m.get("points").split()]
            ys = [float(v.split(",")[1]) for v in m.get("points").split()]
            out.append((xs[0], (min(ys) + max(ys)) / 2))
    return out


def test_points_are_placed_by_memory_and_accuracy():
    pts = [{"model": "a", "scheme": s, "peak_sram_bytes": kb * 1024, "top1": acc}
           for s, kb, acc in (("x", 100, 0.5), ("y", 1000, 0.7), ("z", 5000, 0.9), ("w", 200, 0.6))]
    centres = _centres(svg(pts, "t & <t>"))
    assert len(centres) == 4
    by_mem = [c for _, c in sorted(zip([p["peak_sram_bytes"] for p in pts], centres))]
    assert [c[0] for c in by_mem] == sorted(c[0] for c in by_mem)
    by_acc = [c for _, c in sorted(zip([p["top1"] for p in pts], centres))]
    assert [c[1] for c in by_acc] == sorted((c[1] for c in by_acc), reverse=True)   # SVG y grows down


def test_memory_axis_is_logarithmic():
    pts = [{"model": "a", "scheme": "s", "peak_sram_bytes": kb * 1024, "top1": 0.5} for kb in (100, 1000, 10000)]
    (x0, _), (x1, _), (x2, _) = _centres(svg(pts, "log"))
    assert x0 < x1 < x2 and abs((x1 - x0) - (x2 - x1)) < 0.2


def test_one_point_and_equal_values_do_not_divide_by_zero():
    one = [{"model": "m", "scheme": "s", "peak_sram_bytes": 2048, "top1": 0.5}]
    assert len(_centres(svg(one, "one"))) == 1
    same = one * 3
    assert len(_centres(svg(same, "same"))) == 3


def test_each_of_the_studys_runs_gets_its_own_marker():
    pts = [{"model": "a", "scheme": f"s{i}", "peak_sram_bytes": 1024 * (i + 1), "top1": 0.5} for i in range(10)]
    kinds = set()
    for g in ET.fromstring(svg(pts, "t")).findall("s:g", NS):
        m = list(g)[1]
        outline = m.get("points")
        if outline:   # a polygon: its vertices relative to the first one
            xy = [tuple(map(float, v.split(","))) for v in outline.split()]
            outline = tuple((round(a - xy[0][0], 1), round(b - xy[0][1], 1)) for a, b in xy)
        kinds.add((m.tag, m.get("fill"), outline))
    assert len(kinds) == 10
