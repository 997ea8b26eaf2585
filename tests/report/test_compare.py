"""compare(): the regression gate over the integer *_bytes keys of two memory.json dicts."""

import json

import pytest

from tests.report.test_memory_report import BUFFERS, LAYERS, PLAN
from tinyengine_compiler.errors import ConfigError
from tinyengine_compiler.report.compare import compare, format_comparison, parse_max_regress
from tinyengine_compiler.report.memory import write_memory_report

OLD = {"arena_bytes": 1000, "flash_bytes": 2000, "peak_step": 4, "planner": "hill_climb",
       "scratch_bytes": 0}


def by_key(rows):
    return {r["key"]: r for r in rows}


def test_within_threshold_passes():
    new = dict(OLD, arena_bytes=1030, flash_bytes=1900)  # +3.0% exactly, and smaller
    rows, failed = compare(OLD, new, 0.03)
    assert not failed
    rows = by_key(rows)
    assert set(rows) == {"arena_bytes", "flash_bytes", "scratch_bytes"}  # no step, no planner
    assert rows["arena_bytes"]["status"] == "ok" and rows["arena_bytes"]["delta"] == 30
    assert rows["flash_bytes"]["status"] == "improved"


def test_over_threshold_fails():
    rows, failed = compare(OLD, dict(OLD, arena_bytes=1031), 0.03)
    assert failed and by_key(rows)["arena_bytes"]["status"] == "regressed"


def test_growth_from_zero_is_a_regression():
    rows, failed = compare(OLD, dict(OLD, scratch_bytes=1), 0.5)
    assert failed and by_key(rows)["scratch_bytes"]["ratio"] is None


def test_missing_key_fails_added_key_passes():
    new = {k: v for k, v in OLD.items() if k != "flash_bytes"}
    assert compare(OLD, new, 0.03)[1]
    rows, failed = compare(OLD, dict(OLD, lower_bound_bytes=10), 0.03)
    assert not failed and by_key(rows)["lower_bound_bytes"]["status"] == "added"


def test_format_comparison():
    rows, _ = compare(OLD, dict(OLD, arena_bytes=1100), 0.03)
    text = format_comparison(rows)
    assert "arena_bytes" in text and "+10.00%" in text and "regressed" in text


@pytest.mark.parametrize("text, value", [("3%", 0.03), ("0.03", 0.03), (" 10 % ", 0.10),
                                         ("0", 0.0)])
def test_parse_max_regress(text, value):
    assert parse_max_regress(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "-1%", "nan", "3%%"])
def test_parse_max_regress_rejects(text):
    with pytest.raises(ConfigError):
        parse_max_regress(text)


def test_compare_written_reports(tmp_path):
    old = write_memory_report(tmp_path / "old", BUFFERS, PLAN, layers=LAYERS, flash_bytes=5000)
    new = json.loads((tmp_path / "old" / "memory.json").read_text())
    new["arena_bytes"] += 4  # 96 -> 100: +4.2%
    rows, failed = compare(old, new, parse_max_regress("3%"))
    assert failed and [r["key"] for r in rows if r["status"] == "regressed"] == ["arena_bytes"]
    assert not compare(old, new, parse_max_regress("5%"))[1]
    assert "peak_sram_bytes" in {r["key"] for r in rows}
