"""docs/BENCHMARKS.md is made of sections, each owned by one benchmark script and fenced by
`<!-- NAME:begin -->` / `<!-- NAME:end -->`; a script rewrites only its own section."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "BENCHMARKS.md"


def write_section(name: str, body: str) -> str:
    """Replace (or append) section `name` of docs/BENCHMARKS.md with `body`; returns the section."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = DOC.read_text() if DOC.is_file() else "# Benchmarks\n\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
    return section
