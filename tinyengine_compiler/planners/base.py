"""What every arena planner consumes and produces, and the tools that judge a plan.

A planner sees only a list of `Buffer`s (one per tensor: bytes, an inclusive lifetime
[first, last] in op steps, a category) and returns a `Plan` (an offset per buffer and the arena
size).  It never sees a Graph; deriving the buffers is `passes/lifetimes.py`'s job, and which
categories live in the arena at all is the caller's choice (it passes only those buffers).

Aliases.  A buffer with `alias_of` set (an in-place output, a view) is not placed on its own:
it sits `alias_offset` bytes into its target and must fit inside the target's bytes.  All
planners therefore place *blocks*: one per alias group, as large as the root, live over the
hull of its members' lifetimes (`blocks()`).  `lower_bound()` counts the same blocks, so a
group is counted once.  Members of a group may share bytes (that is the point of in-place),
except where a buffer carries `banding`: an op reads it and writes its target row by row,
and `check_no_overlap` proves that no output row lands on an input row still to be read.

Also here: `check_no_overlap()` (run by codegen before any C is written, and by every test),
`lower_bound()` (the most block bytes live at any one step: no placement of the blocks can use
a smaller arena), and `format_plan()` (a text timeline, for `tte report` and test failures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

CATEGORIES = ("activation", "saved_activation", "gradient", "trainable", "scratch", "input",
              "label")


@dataclass(frozen=True)
class SavedState:
    """What a buffer keeps of forward tensor `tensor` for backward, instead of all of it:
    `form` "kept" (the input channels a partial weight gradient reads), "argmax" (the tap each
    window of a max pool picked) or "mask" (the packed 1-bit mask a ReLU gradient reads).
    `reader` is the backward node that reads it; None for a mask, which every CLAMP_GRAD of the
    tensor shares."""

    tensor: str
    form: str
    reader: str | None = None


SAVED_FORMS = ("kept", "argmax", "mask")


@dataclass(frozen=True)
class RowBanding:
    """How an op overwrites its input with its output, one row at a time: it writes output
    rows 0, 1, ... in order (`out_rows` rows of `out_row_bytes`), and once it writes any byte of
    output row r it reads only input rows >= r * stride - pad_top (rows of `in_row_bytes`).
    So output row r may cover input rows below that, which are finished with."""

    out_rows: int
    out_row_bytes: int
    in_rows: int
    in_row_bytes: int
    stride: int
    pad_top: int

    def first_live_input_row(self, r: int) -> int:
        return max(0, r * self.stride - self.pad_top)

    def min_offset(self) -> int:
        """The least offset of the input inside the output (input start - output start) at
        which no output row covers an input row still to be read."""
        return max(0, max((r + 1) * self.out_row_bytes - self.first_live_input_row(r) * self.in_row_bytes
                          for r in range(self.out_rows)))


@dataclass(frozen=True)
class Buffer:
    """One tensor to place: `size_bytes` bytes live from step `first` to step `last` inclusive.

    `align` is the alignment its offset needs (a power of two).  `alias_of` names a buffer whose
    bytes this one reuses (in-place), at `alias_offset` bytes into it; it must fit inside that
    buffer.  `banding`: this buffer is the input of an op that writes `alias_of` over it row by
    row (RowBanding); the overlap checker then proves each row.  What the bytes are for, when
    they are not simply a tensor of the graph: `saved` (part of a forward tensor kept for
    backward) or `scratch_of` (the node whose kernel works in them).  The name is for people
    (reports, errors); code reads these fields, never the name.
    """

    name: str
    size_bytes: int
    first: int
    last: int
    category: str
    align: int = 4
    alias_of: str | None = None
    alias_offset: int = 0
    banding: RowBanding | None = None
    saved: SavedState | None = None
    scratch_of: str | None = None

    def __post_init__(self):
        if self.size_bytes < 0:
            raise ValueError(f"buffer {self.name!r}: negative size {self.size_bytes}")
        if self.first > self.last:
            raise ValueError(f"buffer {self.name!r}: first step {self.first} > last {self.last}")
        if self.category not in CATEGORIES:
            raise ValueError(f"buffer {self.name!r}: unknown category {self.category!r}")
        if self.saved is not None and self.saved.form not in SAVED_FORMS:
            raise ValueError(f"buffer {self.name!r}: unknown saved form {self.saved.form!r}")
        if self.align < 1 or self.align & (self.align - 1):
            raise ValueError(f"buffer {self.name!r}: align {self.align} is not a power of two")
        if self.alias_offset and (self.alias_of is None or self.alias_offset < 0 or self.alias_offset % self.align):
            raise ValueError(f"buffer {self.name!r}: alias_offset {self.alias_offset} needs an alias and an "
                             f"aligned, non-negative value")
        if self.banding is not None and self.alias_of is None:
            raise ValueError(f"buffer {self.name!r}: banding needs the buffer it is written over (alias_of)")


@dataclass(frozen=True)
class Plan:
    """Byte offset of every buffer in the arena, the arena size, and the planner that made it."""

    offsets: dict[str, int]
    arena_bytes: int
    planner: str


@dataclass(frozen=True)
class Block:
    """The unit of placement: an alias group, named after its root buffer."""

    name: str
    size_bytes: int
    first: int
    last: int
    align: int


def align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def overlaps_in_time(a, b) -> bool:
    """Do two inclusive lifetimes (anything with .first and .last) share a step?"""
    return a.first <= b.last and b.first <= a.last


def alias_roots(buffers: Sequence[Buffer]) -> dict[str, str]:
    """Map each buffer name to the root of its alias chain; raise ValueError on a bad alias."""
    by_name: dict[str, Buffer] = {}
    for b in buffers:
        if b.name in by_name:
            raise ValueError(f"duplicate buffer name {b.name!r}")
        by_name[b.name] = b
    roots: dict[str, str] = {}
    for b in buffers:
        seen = [b.name]
        cur = b
        while cur.alias_of is not None:
            target = by_name.get(cur.alias_of)
            if target is None:
                raise ValueError(f"buffer {cur.name!r} aliases unknown buffer {cur.alias_of!r}")
            if cur.alias_offset + cur.size_bytes > target.size_bytes:
                raise ValueError(f"alias {cur.name!r} ({cur.size_bytes} B at +{cur.alias_offset}) does not fit "
                                 f"its target {target.name!r} ({target.size_bytes} B)")
            if target.name in seen:
                raise ValueError(f"alias cycle through {' -> '.join(seen + [target.name])}")
            seen.append(target.name)
            cur = target
        roots[b.name] = cur.name
    return roots


def blocks(buffers: Sequence[Buffer], align: int = 1) -> list[Block]:
    """One Block per alias group, in the order the roots appear in `buffers`.

    A block has its root's size, the hull of its members' lifetimes, and the largest of `align`
    and its members' alignments.
    """
    roots = alias_roots(buffers)
    groups: dict[str, list[Buffer]] = {}
    for b in buffers:
        groups.setdefault(roots[b.name], []).append(b)
    by_name = {b.name: b for b in buffers}
    return [Block(root, by_name[root].size_bytes, min(m.first for m in members),
                  max(m.last for m in members), max([align] + [m.align for m in members]))
            for root, members in groups.items()]


def make_plan(buffers: Sequence[Buffer], block_offsets: dict[str, int], planner: str) -> Plan:
    """Give every buffer its block's offset plus its alias offsets down the chain; the arena
    ends at the highest buffer end."""
    roots = alias_roots(buffers)
    by_name = {b.name: b for b in buffers}

    def inside(b: Buffer) -> int:
        return 0 if b.alias_of is None else b.alias_offset + inside(by_name[b.alias_of])

    offsets = {b.name: block_offsets[roots[b.name]] + inside(b) for b in buffers}
    arena = max((offsets[b.name] + b.size_bytes for b in buffers), default=0)
    return Plan(offsets, arena, planner)


def check_no_overlap(buffers: Sequence[Buffer], plan: Plan) -> None:
    """Raise ValueError unless `plan` is a valid placement of `buffers`.

    Checks that every buffer has an aligned, non-negative offset and ends inside the arena, that
    every alias sits at its alias_offset within its target's bytes, that a banded input and the
    output written over it never meet on a row still to be read (`RowBanding`), and that no two
    buffers that are live at the same step share a byte unless they belong to the same alias
    group.  The first offending pair in input order is named.  O(N^2) pairs, milliseconds for
    hundreds of buffers.
    """
    roots = alias_roots(buffers)
    by_name = {b.name: b for b in buffers}
    for b in buffers:
        if b.name not in plan.offsets:
            raise ValueError(f"plan has no offset for buffer {b.name!r}")
        off = plan.offsets[b.name]
        if off < 0 or off % b.align:
            raise ValueError(f"buffer {b.name!r}: offset {off} is negative or not "
                             f"{b.align}-aligned")
        if off + b.size_bytes > plan.arena_bytes:
            raise ValueError(f"buffer {b.name!r} [{off}, {off + b.size_bytes}) ends past the "
                             f"arena ({plan.arena_bytes} B)")
        if b.alias_of is not None:
            t = by_name[b.alias_of]
            t_off = plan.offsets.get(t.name, -1)
            if off != t_off + b.alias_offset or off + b.size_bytes > t_off + t.size_bytes:
                raise ValueError(f"alias {b.name!r} at [{off}, {off + b.size_bytes}) is not "
                                 f"+{b.alias_offset} inside its target {t.name!r} at "
                                 f"[{t_off}, {t_off + t.size_bytes})")
            if b.banding is not None:
                _check_banding(b, off, t.name, t_off)
    for i, a in enumerate(buffers):
        a_lo = plan.offsets[a.name]
        a_hi = a_lo + a.size_bytes
        for b in buffers[i + 1:]:
            if (roots[a.name] == roots[b.name] or not overlaps_in_time(a, b)
                    or not a.size_bytes or not b.size_bytes):
                continue
            b_lo = plan.offsets[b.name]
            if a_lo < b_lo + b.size_bytes and b_lo < a_hi:
                raise ValueError(
                    f"buffers {a.name!r} [{a_lo}, {a_hi}) steps {a.first}..{a.last} and "
                    f"{b.name!r} [{b_lo}, {b_lo + b.size_bytes}) steps {b.first}..{b.last} "
                    "are live at the same step and share bytes")


def _check_banding(b: Buffer, in_off: int, out_name: str, out_off: int) -> None:
    """Output row r, written over input `b`, must not cover an input row still to be read."""
    band = b.banding
    in_rows = band.in_rows
    for r in range(band.out_rows):
        lo, hi = out_off + r * band.out_row_bytes, out_off + (r + 1) * band.out_row_bytes
        first = band.first_live_input_row(r)
        live_lo, live_hi = in_off + first * band.in_row_bytes, in_off + in_rows * band.in_row_bytes
        if first < in_rows and lo < live_hi and live_lo < hi:
            raise ValueError(f"banded {out_name!r}: output row {r} at [{lo}, {hi}) covers input {b.name!r} "
                             f"row {first} or later, still to be read")


def live_bytes(buffers: Sequence[Buffer]) -> dict[int, int]:
    """Block bytes live at each step from the first to the last step of any buffer."""
    bs = blocks(buffers)
    if not bs:
        return {}
    delta: dict[int, int] = {}
    for blk in bs:
        delta[blk.first] = delta.get(blk.first, 0) + blk.size_bytes
        delta[blk.last + 1] = delta.get(blk.last + 1, 0) - blk.size_bytes
    live, running = {}, 0
    for step in range(min(delta), max(delta)):
        running += delta.get(step, 0)
        live[step] = running
    return live


def lower_bound(buffers: Sequence[Buffer]) -> int:
    """The most block bytes live at one step: every valid arena is at least this large.

    Blocks live at the same step must occupy disjoint bytes, so their sizes add up.
    """
    return max(live_bytes(buffers).values(), default=0)


def peak_step(buffers: Sequence[Buffer]) -> int | None:
    """The earliest step at which `lower_bound()` bytes are live (None if there are none)."""
    live = live_bytes(buffers)
    return max(live, key=lambda s: (live[s], -s)) if live else None


_IDS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def format_plan(buffers: Sequence[Buffer], plan: Plan, *, width: int = 64) -> str:
    """A text picture of `plan`: a legend, then one row per step.

    Each row is `width` columns spanning the arena (address 0 on the left); a column shows the
    id of a live buffer holding any of its bytes, `!` where two buffers of different alias
    groups that are live at that step share a byte, `.` where no live buffer is.  The row ends
    with the block bytes live at that step in KB (its maximum is `lower_bound()`).
    """
    roots = alias_roots(buffers)
    ids = {b.name: _IDS[i % len(_IDS)] for i, b in enumerate(buffers)}
    lines = [f"plan {plan.planner}: {len(buffers)} buffers, arena {plan.arena_bytes} B, "
             f"lower bound {lower_bound(buffers)} B",
             " id  offset     size  steps      category          name"]
    for b in buffers:
        alias = f" (alias of {b.alias_of})" if b.alias_of else ""
        lines.append(f"  {ids[b.name]} {plan.offsets[b.name]:7d} {b.size_bytes:8d}  "
                     f"{b.first:4d}..{b.last:<4d} {b.category:17s} {b.name}{alias}")
    scale = max(1, -(-plan.arena_bytes // width))  # bytes per column, rounded up
    live = live_bytes(buffers)
    lines.append(f"step  address 0 .. {plan.arena_bytes} B, {scale} B per column   live KB")
    for step, nbytes in live.items():
        row = []
        alive = [b for b in buffers if b.first <= step <= b.last and b.size_bytes]
        for col in range(width):
            lo, hi = col * scale, (col + 1) * scale
            here = [b for b in alive
                    if plan.offsets[b.name] < hi and lo < plan.offsets[b.name] + b.size_bytes]
            row.append(_column_char(here, plan, roots, ids))
        lines.append(f"{step:4d}  {''.join(row)}  {nbytes / 1024:8.2f}")
    return "\n".join(lines)


def _column_char(here: list[Buffer], plan: Plan, roots: dict[str, str],
                 ids: dict[str, str]) -> str:
    if not here:
        return "."
    for i, a in enumerate(here):
        for b in here[i + 1:]:
            a_lo, b_lo = plan.offsets[a.name], plan.offsets[b.name]
            if (roots[a.name] != roots[b.name] and a_lo < b_lo + b.size_bytes
                    and b_lo < a_lo + a.size_bytes):
                return "!"
    return ids[here[0].name]
