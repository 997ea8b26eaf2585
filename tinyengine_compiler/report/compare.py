"""Compare two memory.json reports and gate on growth (`tte compare old.json new.json`).

Every key ending in `_bytes` whose value is an integer (not a bool) in either report is
compared.  A key regresses when new > old * (1 + max_regress); a key the old report has and
the new one lacks also fails the gate (the new report can no longer vouch for it).  A key only
the new report has is listed and passes.  Modelled on the 3% arena-growth gate of TFLM's
`memory_arena_threshold_test`.

`comparison()` adds what a reviewer wants beside the rows (the verdict, the peak op of each
report and the layers whose figures changed most); it is what `--format json` prints, and
`format_markdown()` renders it as a pull-request comment (`--format md`).
"""

from __future__ import annotations

import json

from ..errors import ConfigError, ModelFormatError

FAILING = ("regressed", "missing")  # the row statuses that fail the gate
TOP_LAYERS = 5
_NOT_RECORDED = "not recorded"


def parse_max_regress(text: str) -> float:
    """'3%' -> 0.03, '0.03' -> 0.03; raise ConfigError on anything else or a negative value."""
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise ConfigError(f"--max-regress {text!r}: expected a fraction (0.03) or a percentage "
                          "(3%)") from None
    if not value >= 0:  # also rejects nan
        raise ConfigError(f"--max-regress {text!r}: must not be negative")
    return value


def load_report(path: str) -> dict:
    """The dict of a memory.json file; ModelFormatError (one line) if it is not a JSON object."""
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        raise ModelFormatError(f"{path}: not a readable memory.json ({type(e).__name__})") from None
    if not isinstance(report, dict):
        raise ModelFormatError(f"{path}: not a memory.json (a JSON {type(report).__name__}, not an object)")
    return report


def compare(old: dict, new: dict, max_regress: float) -> tuple[list[dict], bool]:
    """One row per compared key (sorted), and whether any row fails the gate.

    A row is {"key", "old", "new", "delta", "ratio", "status"}, where "old"/"new" are None for
    a missing key, "ratio" is new / old (None when old is 0 or missing) and "status" is one of
    "ok", "improved", "regressed", "missing" (in old, not in new: fails), "added" (passes).
    """
    keys = sorted(k for k in set(old) | set(new)
                  if k.endswith("_bytes") and (_is_int(old.get(k)) or _is_int(new.get(k))))
    rows = []
    for k in keys:
        a = old.get(k) if _is_int(old.get(k)) else None
        b = new.get(k) if _is_int(new.get(k)) else None
        if b is None:
            status = "missing"
        elif a is None:
            status = "added"
        elif b > a * (1 + max_regress):
            status = "regressed"
        else:
            status = "improved" if b < a else "ok"
        rows.append({"key": k, "old": a, "new": b,
                     "delta": None if a is None or b is None else b - a,
                     "ratio": b / a if a and b is not None else None, "status": status})
    return rows, any(r["status"] in FAILING for r in rows)


def comparison(old: dict, new: dict, max_regress: float, top: int = TOP_LAYERS) -> dict:
    """Everything `tte compare` reports, as one JSON-ready dict:

    - "verdict": "pass" or "fail"; "max_regress": the limit (a fraction); "failing": the keys
      that fail the gate; "rows": `compare()`'s rows.
    - "peak": {"old": ..., "new": ...}, each {"op", "step", "live_bytes"} from the report's
      `peak_op`, `peak_step` and the `sram_bytes` of the peak op's layer row (None if absent).
    - "layers": {"compared", "changed", "top"}: how many layers either report lists, how many
      were added, removed or changed their `sram_bytes` (SRAM live while the layer runs) or
      `flash_bytes`, and the `top` of them by |SRAM change| + |Flash change|.
    """
    rows, failed = compare(old, new, max_regress)
    changes, compared = layer_changes(old, new)
    return {"verdict": "fail" if failed else "pass", "max_regress": max_regress,
            "failing": [r["key"] for r in rows if r["status"] in FAILING], "rows": rows,
            "peak": {"old": peak_of(old), "new": peak_of(new)},
            "layers": {"compared": compared, "changed": len(changes), "top": changes[:top]}}


def peak_of(report: dict) -> dict:
    """{"op", "step", "live_bytes"} of the report's busiest step; None for what it lacks.

    live_bytes is what memory.json counts live at that step, by category (its at_peak_*_bytes),
    so it holds for a backward op too, which has no layer row."""
    op = report.get("peak_op") if isinstance(report.get("peak_op"), str) else None
    step = report.get("peak_step") if _is_int(report.get("peak_step")) else None
    at_peak = [v for k, v in report.items() if k.startswith("at_peak_") and k.endswith("_bytes") and _is_int(v)]
    return {"op": op, "step": step, "live_bytes": sum(at_peak) if at_peak else None}


def layer_changes(old: dict, new: dict) -> tuple[list[dict], int]:
    """The layers added, removed or whose figures changed, most changed first, and how many
    layers the two reports list between them.

    Layers pair by name (the n-th of a name with the n-th).  A change is {"layer", "op",
    "status" ("added", "removed" or "changed"), "sram": {"old", "new", "delta"}, "flash": ...},
    with None for a figure a side lacks (counted as 0 in "delta").  Ties keep the new report's
    order, then the old one's."""
    before = _keyed_layers(old)
    after = _keyed_layers(new)
    keys = list(after) + [k for k in before if k not in after]
    changes = []
    for key in keys:
        a, b = before.get(key), after.get(key)
        figures = {name: _figure_change(a, b, f"{name}_bytes") for name in ("sram", "flash")}
        if a is not None and b is not None and all(f["old"] == f["new"] for f in figures.values()):
            continue
        status = "added" if a is None else "removed" if b is None else "changed"
        changes.append({"layer": key[0], "op": (b or a).get("op"), "status": status, **figures})
    changes.sort(key=lambda c: -(abs(c["sram"]["delta"]) + abs(c["flash"]["delta"])))
    return changes, len(keys)


def format_comparison(rows: list[dict]) -> str:
    """A fixed-width table of `compare()` rows, for the CLI to print."""
    out = [f"{'key':<32s} {'old':>12s} {'new':>12s} {'change':>9s}  status"]
    for r in rows:
        change = _percent(r["ratio"]) or ""
        old = "-" if r["old"] is None else str(r["old"])
        new = "-" if r["new"] is None else str(r["new"])
        out.append(f"{r['key']:<32s} {old:>12s} {new:>12s} {change:>9s}  {r['status']}")
    return "\n".join(out)


def format_markdown(result: dict) -> str:
    """A `comparison()` as Markdown for a pull-request comment: the verdict against the limit,
    a table of the keys, the peak op and the most changed layers.  KB = 1024 B."""
    limit = f"{result['max_regress'] * 100:g}%"
    rows = result["rows"]
    out = [f"### Memory gate: {'failed' if result['verdict'] == 'fail' else 'passed'} "
           f"(limit +{limit} per key)", "", _md_findings(rows, limit), "",
           "| key | old (B) | new (B) | change (B) | change | status |", "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        percent = _percent(r["ratio"]) or ("+0.00%" if r["old"] == 0 == r["new"] else "n/a")
        status = f"**{r['status']}**" if r["status"] in FAILING else r["status"]
        out.append(f"| {_code(r['key'])} | {_bytes(r['old'])} | {_bytes(r['new'])} | {_signed(r['delta'])} "
                   f"| {percent} | {status} |")
    old_peak, new_peak = (_peak_text(result["peak"][side]) for side in ("old", "new"))
    if old_peak != new_peak:
        out += ["", f"Peak op: {old_peak} before, {new_peak} after.", ""]
    else:
        out += ["", "Peak op: not recorded in either report." if new_peak == _NOT_RECORDED else
                f"Peak op: {new_peak} in both reports.", ""]
    layers = result["layers"]
    if not layers["compared"]:
        out.append("No per-layer figures in the reports.")
    elif not layers["changed"]:
        out.append(f"No layer changed (of {layers['compared']}).")
    else:
        out += [f"Most changed layers ({len(layers['top'])} of {layers['changed']} changed; SRAM: live while "
                "the layer runs; Flash: its constant data):", "",
                "| layer | op | SRAM old (B) | SRAM new (B) | SRAM change (B) | Flash change (B) | status |",
                "|---|---|---:|---:|---:|---:|---|"]
        for c in layers["top"]:
            sram = c["sram"]
            out.append(f"| {_code(c['layer'])} | {_cell(c['op'] or '')} | {_bytes(sram['old'])} "
                       f"| {_bytes(sram['new'])} | {_signed(sram['delta'])} | {_signed(c['flash']['delta'])} "
                       f"| {c['status']} |")
    return "\n".join(out)


def _md_findings(rows: list[dict], limit: str) -> str:
    """The sentence under the verdict: which keys fail, then peak SRAM and Flash in KB."""
    failing = [(what, [_code(r["key"]) for r in rows if r["status"] == status])
               for what, status in ((f"grew by more than {limit}", "regressed"),
                                    ("missing from the new report", "missing"))]
    text = "; ".join(f"{what}: {', '.join(keys)}" for what, keys in failing if keys)
    text = text[:1].upper() + text[1:] + "." if text else f"No key grew by more than {limit}."
    totals = [f"{label} {_kb(r['old'])} → {_kb(r['new'])}"
              for label, key in (("Peak SRAM", "peak_sram_bytes"), ("Flash", "flash_bytes"))
              for r in rows if r["key"] == key and r["old"] is not None and r["new"] is not None]
    return text + (" " + ", ".join(totals) + " (KB = 1024 B)." if totals else "")


def _layer_rows(report: dict) -> list[dict]:
    """The report's layer rows that name a layer (other rows and a non-list are ignored)."""
    layers = report.get("layers")
    return [r for r in layers if isinstance(r, dict) and isinstance(r.get("layer"), str)] \
        if isinstance(layers, list) else []


def _keyed_layers(report: dict) -> dict[tuple[str, int], dict]:
    seen: dict[str, int] = {}
    keyed = {}
    for r in _layer_rows(report):
        n = seen[r["layer"]] = seen.get(r["layer"], -1) + 1
        keyed[(r["layer"], n)] = r
    return keyed


def _figure_change(a: dict | None, b: dict | None, key: str) -> dict:
    old = a.get(key) if a is not None and _is_int(a.get(key)) else None
    new = b.get(key) if b is not None and _is_int(b.get(key)) else None
    return {"old": old, "new": new, "delta": (new or 0) - (old or 0)}


def _peak_text(peak: dict) -> str:
    if peak["op"] is None and peak["step"] is None:
        return _NOT_RECORDED
    details = ([] if peak["step"] is None else [f"step {peak['step']}"]) + \
        ([] if peak["live_bytes"] is None else [f"{peak['live_bytes']:,d} B live"])
    name = "?" if peak["op"] is None else _code(peak["op"])
    return f"{name} ({', '.join(details)})" if details else name


def _code(text: str) -> str:
    return f"`{_cell(text)}`"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipe ends the cell, no newline the row."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _percent(ratio: float | None) -> str | None:
    return None if ratio is None else f"{(ratio - 1) * 100:+.2f}%"


def _bytes(n: int | None) -> str:
    return "-" if n is None else f"{n:,d}"


def _signed(n: int | None) -> str:
    return "-" if n is None else f"{n:+,d}"


def _kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
