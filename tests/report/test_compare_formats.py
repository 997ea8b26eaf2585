"""`tte compare --format md|json`: the pull-request comment pinned line for line, the JSON
object's fields, and the exit codes, on two hand-written memory.json pairs (one passing, one
regressing).  Every expected figure below is worked out by hand from the dicts."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.conftest import REPO_ROOT
from tinyengine_compiler.cli import main


def layer(name, op, sram, flash):
    return {"layer": name, "op": op, "out_shape": [1, 8, 8, 4], "params": 0, "macs": 0,
            "sram_bytes": sram, "flash_bytes": flash}


OLD = {
    "arena_bytes": 10240, "flash_bytes": 51200, "peak_sram_bytes": 12288, "stack_bytes": 2048,
    "trainable_bytes": 0, "peak_op": "b.conv", "peak_step": 2, "planner": "greedy_by_size",
    "at_peak_activation_bytes": 8192, "at_peak_scratch_bytes": 2048,   # 10,240 B live at the peak
    "layers": [layer("a.conv", "CONV2D", 6000, 300), layer("b.conv", "CONV2D", 10240, 400),
               layer("c.pool", "AVG_POOL", 3000, 0), layer("d.fc", "FULLY_CONNECTED", 500, 1000)],
}
# Within 3%: Flash -1024 B, peak SRAM +307 B (+2.50%); two layers changed, one added.
PASSING = dict(OLD, flash_bytes=50176, peak_sram_bytes=12595, layers=[
    layer("a.conv", "CONV2D", 6000, 300), layer("b.conv", "CONV2D", 10240, 400),
    layer("c.pool", "AVG_POOL", 3200, 0), layer("d.fc", "FULLY_CONNECTED", 400, 1000),
    layer("e.softmax", "SOFTMAX", 64, 0)])
# Arena +410 B (+4.00%) and peak SRAM +512 B (+4.17%) over 3%, Flash +2.00% within it,
# trainable 0 -> 128 (growth from 0), stack_bytes gone, scratch_bytes new; the peak moves to
# c.pool.  Layers by |SRAM change| + |Flash change|: c.pool 7650, e.fc2 700 + 2000, d.fc
# (removed) 500 + 1000, b.conv 410, f.x 50, g.y 30 (the sixth, cut).
REGRESSING = {
    "arena_bytes": 10650, "flash_bytes": 52224, "peak_sram_bytes": 12800, "scratch_bytes": 256,
    "trainable_bytes": 128, "peak_op": "c.pool", "peak_step": 3, "planner": "greedy_by_size",
    "at_peak_activation_bytes": 8192, "at_peak_scratch_bytes": 2048,   # the same 10,240 B live
    "layers": [layer("a.conv", "CONV2D", 6000, 300), layer("b.conv", "CONV2D", 10650, 400),
               layer("c.pool", "AVG_POOL", 10650, 0), layer("e.fc2", "FULLY_CONNECTED", 700, 2000),
               layer("f.x", "RELU", 50, 0), layer("g.y", "RELU", 30, 0)],
}

PASSING_MD = """\
### Memory gate: passed (limit +3% per key)

No key grew by more than 3%. Peak SRAM 12.0 KB → 12.3 KB, Flash 50.0 KB → 49.0 KB (KB = 1024 B).

| key | old (B) | new (B) | change (B) | change | status |
|---|---:|---:|---:|---:|---|
| `arena_bytes` | 10,240 | 10,240 | +0 | +0.00% | ok |
| `at_peak_activation_bytes` | 8,192 | 8,192 | +0 | +0.00% | ok |
| `at_peak_scratch_bytes` | 2,048 | 2,048 | +0 | +0.00% | ok |
| `flash_bytes` | 51,200 | 50,176 | -1,024 | -2.00% | improved |
| `peak_sram_bytes` | 12,288 | 12,595 | +307 | +2.50% | ok |
| `stack_bytes` | 2,048 | 2,048 | +0 | +0.00% | ok |
| `trainable_bytes` | 0 | 0 | +0 | +0.00% | ok |

Peak op: `b.conv` (step 2, 10,240 B live) in both reports.

Most changed layers (3 of 3 changed; SRAM: live while the layer runs; Flash: its constant data):

| layer | op | SRAM old (B) | SRAM new (B) | SRAM change (B) | Flash change (B) | status |
|---|---|---:|---:|---:|---:|---|
| `c.pool` | AVG_POOL | 3,000 | 3,200 | +200 | +0 | changed |
| `d.fc` | FULLY_CONNECTED | 500 | 400 | -100 | +0 | changed |
| `e.softmax` | SOFTMAX | - | 64 | +64 | +0 | added |
"""

REGRESSING_MD = """\
### Memory gate: failed (limit +3% per key)

Grew by more than 3%: `arena_bytes`, `peak_sram_bytes`, `trainable_bytes`; missing from the new report: \
`stack_bytes`. Peak SRAM 12.0 KB → 12.5 KB, Flash 50.0 KB → 51.0 KB (KB = 1024 B).

| key | old (B) | new (B) | change (B) | change | status |
|---|---:|---:|---:|---:|---|
| `arena_bytes` | 10,240 | 10,650 | +410 | +4.00% | **regressed** |
| `at_peak_activation_bytes` | 8,192 | 8,192 | +0 | +0.00% | ok |
| `at_peak_scratch_bytes` | 2,048 | 2,048 | +0 | +0.00% | ok |
| `flash_bytes` | 51,200 | 52,224 | +1,024 | +2.00% | ok |
| `peak_sram_bytes` | 12,288 | 12,800 | +512 | +4.17% | **regressed** |
| `scratch_bytes` | - | 256 | - | n/a | added |
| `stack_bytes` | 2,048 | - | - | n/a | **missing** |
| `trainable_bytes` | 0 | 128 | +128 | n/a | **regressed** |

Peak op: `b.conv` (step 2, 10,240 B live) before, `c.pool` (step 3, 10,240 B live) after.

Most changed layers (5 of 6 changed; SRAM: live while the layer runs; Flash: its constant data):

| layer | op | SRAM old (B) | SRAM new (B) | SRAM change (B) | Flash change (B) | status |
|---|---|---:|---:|---:|---:|---|
| `c.pool` | AVG_POOL | 3,000 | 10,650 | +7,650 | +0 | changed |
| `e.fc2` | FULLY_CONNECTED | - | 700 | +700 | +2,000 | added |
| `d.fc` | FULLY_CONNECTED | 500 | - | -500 | -1,000 | removed |
| `b.conv` | CONV2D | 10,240 | 10,650 | +410 | +0 | changed |
| `f.x` | RELU | - | 50 | +50 | +0 | added |
"""


def write_pair(tmp_path, old, new):
    paths = tmp_path / "old.json", tmp_path / "new.json"
    for path, report in zip(paths, (old, new)):
        path.write_text(json.dumps(report, indent=2))
    return [str(p) for p in paths]


def tte(*args):
    """`tte ARGS` in a subprocess, as CI runs it: stdout (the report) and stderr (the error) apart."""
    return subprocess.run([sys.executable, "-m", "tinyengine_compiler.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO_ROOT)


def test_md_passing(tmp_path):
    r = tte("compare", *write_pair(tmp_path, OLD, PASSING), "--format", "md")
    assert (r.returncode, r.stdout, r.stderr) == (0, PASSING_MD, "")


def test_md_regressing_prints_then_exits_1(tmp_path):
    r = tte("compare", *write_pair(tmp_path, OLD, REGRESSING), "--format", "md")
    assert (r.returncode, r.stdout) == (1, REGRESSING_MD)
    assert r.stderr == ("error: memory regressed by more than 3% in arena_bytes, peak_sram_bytes, stack_bytes, "
                        "trainable_bytes\n")


def test_md_limit_follows_max_regress(tmp_path):
    r = tte("compare", *write_pair(tmp_path, OLD, REGRESSING), "--format", "md", "--max-regress", "5%")
    # Only the growth from 0 and the missing key are left over 5%.
    assert r.returncode == 1
    assert r.stdout.splitlines()[:3] == [
        "### Memory gate: failed (limit +5% per key)", "",
        "Grew by more than 5%: `trainable_bytes`; missing from the new report: `stack_bytes`. "
        "Peak SRAM 12.0 KB → 12.5 KB, Flash 50.0 KB → 51.0 KB (KB = 1024 B)."]
    assert "| `arena_bytes` | 10,240 | 10,650 | +410 | +4.00% | ok |" in r.stdout.splitlines()


def test_json_fields(tmp_path):
    r = tte("compare", *write_pair(tmp_path, OLD, REGRESSING), "--format", "json")
    assert r.returncode == 1 and r.stderr.startswith("error: memory regressed by more than 3% in ")
    result = json.loads(r.stdout)
    assert set(result) == {"verdict", "max_regress", "failing", "rows", "peak", "layers"}
    assert result["verdict"] == "fail" and result["max_regress"] == 0.03
    assert result["failing"] == ["arena_bytes", "peak_sram_bytes", "stack_bytes", "trainable_bytes"]
    assert [r["key"] for r in result["rows"]] == ["arena_bytes", "at_peak_activation_bytes", "at_peak_scratch_bytes",
                                                  "flash_bytes", "peak_sram_bytes", "scratch_bytes", "stack_bytes",
                                                  "trainable_bytes"]
    assert result["rows"][0] == {"key": "arena_bytes", "old": 10240, "new": 10650, "delta": 410,
                                 "ratio": 10650 / 10240, "status": "regressed"}
    assert result["rows"][6] == {"key": "stack_bytes", "old": 2048, "new": None, "delta": None,
                                 "ratio": None, "status": "missing"}
    assert result["peak"] == {"old": {"op": "b.conv", "step": 2, "live_bytes": 10240},
                              "new": {"op": "c.pool", "step": 3, "live_bytes": 10240}}
    assert (result["layers"]["compared"], result["layers"]["changed"]) == (7, 6)
    top = result["layers"]["top"]
    assert [c["layer"] for c in top] == ["c.pool", "e.fc2", "d.fc", "b.conv", "f.x"]
    assert top[1] == {"layer": "e.fc2", "op": "FULLY_CONNECTED", "status": "added",
                      "sram": {"old": None, "new": 700, "delta": 700},
                      "flash": {"old": None, "new": 2000, "delta": 2000}}
    assert top[2] == {"layer": "d.fc", "op": "FULLY_CONNECTED", "status": "removed",
                      "sram": {"old": 500, "new": None, "delta": -500},
                      "flash": {"old": 1000, "new": None, "delta": -1000}}


def test_json_passing(tmp_path):
    r = CliRunner().invoke(main, ["compare", *write_pair(tmp_path, OLD, PASSING), "--format", "json"])
    assert r.exit_code == 0
    result = json.loads(r.output)
    assert (result["verdict"], result["failing"]) == ("pass", [])
    assert result["peak"]["old"] == result["peak"]["new"] == {"op": "b.conv", "step": 2, "live_bytes": 10240}
    assert [(c["layer"], c["status"]) for c in result["layers"]["top"]] == [
        ("c.pool", "changed"), ("d.fc", "changed"), ("e.softmax", "added")]


def test_text_is_the_default(tmp_path):
    pair = write_pair(tmp_path, OLD, PASSING)
    default = CliRunner().invoke(main, ["compare", *pair])
    text = CliRunner().invoke(main, ["compare", *pair, "--format", "text"])
    assert default.exit_code == text.exit_code == 0 and default.output == text.output
    assert default.output.splitlines()[0].split() == ["key", "old", "new", "change", "status"]


def test_reports_without_layers_or_peak(tmp_path):
    old, new = {"arena_bytes": 1000}, {"arena_bytes": 1000}
    r = tte("compare", *write_pair(tmp_path, old, new), "--format", "md")
    assert r.returncode == 0
    assert r.stdout.splitlines()[-3:] == ["Peak op: not recorded in either report.", "",
                                          "No per-layer figures in the reports."]


def test_md_escapes_pipes_in_names(tmp_path):
    old = {"arena_bytes": 1000, "layers": [layer("a|b", "CONV2D", 10, 0)]}
    new = {"arena_bytes": 1000, "layers": [layer("a|b", "CONV2D", 20, 0)]}
    r = tte("compare", *write_pair(tmp_path, old, new), "--format", "md")
    assert "| `a\\|b` | CONV2D | 10 | 20 | +10 | +0 | changed |" in r.stdout.splitlines()


@pytest.mark.parametrize("content, message", [
    ("[1, 2]", "not a memory.json (a JSON list, not an object)"),
    ("{", "not a readable memory.json (JSONDecodeError)"),
])
def test_bad_report_is_one_line(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    good = write_pair(tmp_path, OLD, PASSING)[0]
    r = tte("compare", good, str(bad), "--format", "md")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == f"error: {bad}: {message}\n"


def test_unknown_format_is_a_usage_error(tmp_path):
    r = CliRunner().invoke(main, ["compare", *write_pair(tmp_path, OLD, PASSING), "--format", "html"])
    assert r.exit_code == 2 and "--format" in r.output
