"""memory.json / memory.md / memory.svg from a hand-made buffer list and plan."""

import json
import xml.etree.ElementTree as ET

import pytest

from tinyengine_compiler.planners.base import Buffer, Plan, check_no_overlap
from tinyengine_compiler.report.memory import write_memory_report

# Hand plan.  Live bytes per step (alias y counted with x): 0: x 64 + in 16 = 80;
# 1: x 64 + w 32 = 96; 2: x 64 (y) + g 32 = 96; 3: g 32.  Lower bound 96, first at step 1.
BUFFERS = [
    Buffer("in", 16, 0, 0, "input"),
    Buffer("x", 64, 0, 1, "saved_activation"),
    Buffer("w", 32, 1, 1, "trainable"),
    Buffer("y", 32, 1, 2, "activation", alias_of="x"),
    Buffer("g", 32, 2, 3, "gradient"),
]
PLAN = Plan({"in": 64, "x": 0, "w": 64, "y": 0, "g": 64}, 96, "hand")
LAYERS = [
    {"layer": "conv0", "op": "CONV2D", "out_shape": [1, 8, 8, 4], "params": 112, "macs": 6912,
     "sram_bytes": 96, "flash_bytes": 120},
    {"layer": "fc", "op": "LINEAR", "out_shape": (1, 10), "params": 2570, "macs": 2560,
     "sram_bytes": 48, "flash_bytes": 2600},
]


@pytest.fixture()
def report(tmp_path):
    check_no_overlap(BUFFERS, PLAN)
    summary = write_memory_report(tmp_path, BUFFERS, PLAN, layers=LAYERS, flash_bytes=5000,
                                  trainable_bytes=300, data_bss_bytes=96 + 300 + 24, stack_bytes=40)
    return tmp_path, summary


def test_json_keys_and_values(report):
    folder, summary = report
    text = (folder / "memory.json").read_text()
    data = json.loads(text)
    assert data == summary
    assert list(data) == sorted(data)  # stable key order
    for key in ("peak_sram_bytes", "arena_bytes", "lower_bound_bytes", "trainable_bytes",
                "other_static_bytes", "data_bss_bytes", "stack_bytes", "flash_bytes"):
        assert type(data[key]) is int, key
    assert all(type(v) is int for k, v in data.items() if k.endswith("_bytes"))
    assert data["planner"] == "hand"
    assert data["arena_bytes"] == 96
    assert data["lower_bound_bytes"] == 96
    assert data["peak_step"] == 1
    assert data["other_static_bytes"] == 24
    assert data["peak_sram_bytes"] == 96 + 300 + 24 + 40
    assert data["weights_bytes"] == 120 + 2600
    # step 1 holds the x/y block (saved_activation, 64) and w (trainable, 32)
    assert data["at_peak_saved_activation_bytes"] == 64
    assert data["at_peak_trainable_bytes"] == 32
    assert sum(v for k, v in data.items() if k.startswith("at_peak_")) == 96


def test_markdown_labels_and_table(report):
    folder, _ = report
    md = (folder / "memory.md").read_text()
    for label in ("weights (ro)", "arena (rw)", "trainable (rw)", "other static (rw)", "data + bss",
                  "stack (worst case)", "ram (total)", "flash (total)"):
        assert label in md
    assert "| layer | op | out shape | params | MACs | SRAM live at peak | flash bytes |" in md
    assert "| conv0 | CONV2D | 1x8x8x4 | 112 | 6,912 | 96 | 120 |" in md
    ram_line = next(ln for ln in md.splitlines() if ln.startswith("ram (total)"))
    assert "460 B" in ram_line


def test_svg_one_rect_per_buffer(report):
    folder, _ = report
    root = ET.parse(folder / "memory.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    rects = [r for r in root.iter(ns + "rect") if r.get("class") == "buffer"]
    assert len(rects) == len(BUFFERS)
    assert [r.find(ns + "title").text.split()[0] for r in rects] == [b.name for b in BUFFERS]
    # address 0 at the bottom: x (offset 0) reaches lower than g (offset 64)
    by_name = {r.find(ns + "title").text.split()[0]: r for r in rects}
    assert float(by_name["x"].get("y")) > float(by_name["g"].get("y"))
    assert len([e for e in root.iter(ns + "line") if e.get("class") == "peak"]) == 1


def test_report_is_deterministic(tmp_path):
    for sub in ("a", "b"):
        write_memory_report(tmp_path / sub, BUFFERS, PLAN, layers=LAYERS, flash_bytes=5000)
    for name in ("memory.json", "memory.md", "memory.svg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_names_are_escaped_in_svg(tmp_path):
    bufs = [Buffer("a<b>&c", 8, 0, 0, "scratch")]
    write_memory_report(tmp_path, bufs, Plan({"a<b>&c": 0}, 8, "p"), layers=[], flash_bytes=0)
    ET.parse(tmp_path / "memory.svg")


def test_layer_row_missing_key(tmp_path):
    with pytest.raises(ValueError, match="macs"):
        write_memory_report(tmp_path, BUFFERS, PLAN, flash_bytes=0,
                            layers=[{k: v for k, v in LAYERS[0].items() if k != "macs"}])
