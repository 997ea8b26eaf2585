"""Compare two memory.json reports and gate on growth (`tte compare old.json new.json`).

Every key ending in `_bytes` whose value is an integer (not a bool) in either report is
compared.  A key regresses when new > old * (1 + max_regress); a key the old report has and
the new one lacks also fails the gate (the new report can no longer vouch for it).  A key only
the new report has is listed and passes.  Modelled on the 3% arena-growth gate of TFLM's
`memory_arena_threshold_test`.
"""

from __future__ import annotations

from ..errors import ConfigError


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
    return rows, any(r["status"] in ("regressed", "missing") for r in rows)


def format_comparison(rows: list[dict]) -> str:
    """A fixed-width table of `compare()` rows, for the CLI to print."""
    out = [f"{'key':<32s} {'old':>12s} {'new':>12s} {'change':>9s}  status"]
    for r in rows:
        change = "" if r["ratio"] is None else f"{(r['ratio'] - 1) * 100:+.2f}%"
        old = "-" if r["old"] is None else str(r["old"])
        new = "-" if r["new"] is None else str(r["new"])
        out.append(f"{r['key']:<32s} {old:>12s} {new:>12s} {change:>9s}  {r['status']}")
    return "\n".join(out)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
