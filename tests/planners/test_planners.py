"""Arena planners against hand-computed placements, the overlap check and the lower bound."""

import random
import time

import pytest

from tinyengine_compiler.planners import PLANNERS, best_plan
from tinyengine_compiler.planners.base import (Buffer, Plan, RowBanding, check_no_overlap, format_plan,
                                               lower_bound)


def act(name, size, first, last, **kw):
    return Buffer(name, size, first, last, "activation", **kw)


# Five buffers; lifetimes (inclusive) and sizes:
#   A 40 B steps 0-1, B 24 B 1-3, C 32 B 2-4, D 16 B 3-5, E 48 B 5-6.
# Live bytes per step: 40, 64, 56, 72, 48, 64, 48, so the lower bound is 72 (step 3: B+C+D).
# 72 is reachable (B [0,24), C [24,56), D [56,72), A [24,64), E [0,48)), hence optimal.
FIVE = [act("A", 40, 0, 1), act("B", 24, 1, 3), act("C", 32, 2, 4), act("D", 16, 3, 5),
        act("E", 48, 5, 6)]

# Worked by hand with first fit (conflicts: A-B, B-C, B-D, C-D, D-E):
# by size, order E A C B D: E 0; A 0 (no conflict placed); C 0; B clears C [0,32) and
#   A [0,40) -> 40; D clears C [0,32), E [0,48), B [40,64) -> 64; arena 80.
# by conflicts (B 3, D 3, C 2, E 1, A 1; ties larger first), order B D C E A: B 0; D above B
#   -> 24; C above B, D -> 40; E must clear D [24,40), 48 B do not fit under 24 -> 40;
#   A clears B -> 24; arena 88.
# linear: 0, 40, 64, 96, 112; arena 160.
HAND = {
    "greedy_by_size": ({"A": 0, "B": 40, "C": 0, "D": 64, "E": 0}, 80),
    "greedy_by_conflicts": ({"A": 24, "B": 0, "C": 40, "D": 24, "E": 40}, 88),
    "linear": ({"A": 0, "B": 40, "C": 64, "D": 96, "E": 112}, 160),
}


def test_lower_bound_five_by_hand():
    assert lower_bound(FIVE) == 72


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_computed_offsets(name):
    offsets, arena = HAND[name]
    plan = PLANNERS[name](FIVE, align=4)
    check_no_overlap(FIVE, plan)
    assert plan.offsets == offsets
    assert plan.arena_bytes == arena
    assert plan.planner == name


def test_hill_climb_reaches_the_hand_optimum():
    plan = PLANNERS["hill_climb"](FIVE, align=4)
    check_no_overlap(FIVE, plan)
    assert plan.arena_bytes == 72  # == lower bound, optimal by the argument above


def test_best_plan_keeps_smallest():
    plan = best_plan(FIVE, 4)
    assert plan.arena_bytes == 72 and plan.planner == "hill_climb"


def test_best_plan_tie_goes_to_first_listed():
    # Two buffers that never meet: every reusing planner gives 8 B; greedy_by_size is first.
    bufs = [act("x", 8, 0, 0), act("y", 8, 1, 1)]
    assert best_plan(bufs, 4).planner == "greedy_by_size"


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_alignment(name):
    # 10 B buffers all live at once, align 8: offsets 0, 16, 32; arena 42.
    bufs = [act(f"b{i}", 10, 0, 2) for i in range(3)]
    plan = PLANNERS[name](bufs, align=8)
    check_no_overlap(bufs, plan)
    assert sorted(plan.offsets.values()) == [0, 16, 32]
    assert plan.arena_bytes == 42


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_buffer_align_beats_planner_align(name):
    bufs = [act("a", 4, 0, 1), act("b", 4, 0, 1, align=16)]
    plan = PLANNERS[name](bufs, align=4)
    check_no_overlap(bufs, plan)
    assert plan.offsets["b"] % 16 == 0


# X 64 B steps 0-1; Y aliases X (in-place), 32 B, steps 1-2; Z 64 B steps 2-3.
# The group {X, Y} is one 64 B block live 0-2, so Z cannot reuse X's bytes: arena 128.
# Live per step as blocks: 64, 64, 128, 64 -> lower bound 128 (Y is not counted on top of X).
ALIASED = [act("X", 64, 0, 1), act("Y", 32, 1, 2, alias_of="X"), act("Z", 64, 2, 3)]


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_alias_takes_target_offset(name):
    plan = PLANNERS[name](ALIASED, align=4)
    check_no_overlap(ALIASED, plan)
    assert plan.offsets["Y"] == plan.offsets["X"]
    assert plan.arena_bytes == 128


def test_alias_counted_once_in_lower_bound():
    assert lower_bound(ALIASED) == 128
    assert lower_bound(ALIASED[:2]) == 64


def test_alias_chain_follows_root():
    bufs = [act("a", 32, 0, 1), act("b", 16, 1, 2, alias_of="a"),
            act("c", 8, 2, 3, alias_of="b"), act("d", 32, 0, 3)]
    for fn in PLANNERS.values():
        plan = fn(bufs)
        check_no_overlap(bufs, plan)
        assert plan.offsets["a"] == plan.offsets["b"] == plan.offsets["c"]
        assert plan.arena_bytes == 64


@pytest.mark.parametrize("bufs, message", [
    ([act("a", 8, 0, 1), act("b", 16, 1, 2, alias_of="a")], "does not fit its target"),
    ([act("a", 16, 0, 1), act("b", 8, 1, 2, alias_of="a", alias_offset=12)], "does not fit its target"),
    ([act("a", 8, 0, 1, alias_of="zz")], "unknown buffer"),
    ([act("a", 8, 0, 1, alias_of="b"), act("b", 8, 0, 1, alias_of="a")], "alias cycle"),
    ([act("a", 8, 0, 1), act("a", 8, 2, 3)], "duplicate"),
])
def test_bad_aliases_rejected(bufs, message):
    with pytest.raises(ValueError, match=message):
        PLANNERS["greedy_by_size"](bufs)


# A conv writing 4 output rows of 8 B over an input of 8 rows of 4 B, stride 2, pad 1: output
# row r is written once input rows >= 2r - 1 are all that is still read.  By hand, the rows
# need (r + 1) * 8 - max(0, 2r - 1) * 4 <= offset: 8, 12, 12, 12, so the input goes 12 B in.
BAND = RowBanding(out_rows=4, out_row_bytes=8, in_rows=8, in_row_bytes=4, stride=2, pad_top=1)


def test_banding_needs_the_hand_computed_offset():
    assert BAND.min_offset() == 12


@pytest.mark.parametrize("offset, ok", [(12, True), (16, True), (8, False), (0, False)])
def test_the_checker_proves_every_banded_row(offset, ok):
    bufs = [act("out", max(32, offset + 32), 1, 3), act("in", 32, 0, 1, alias_of="out", alias_offset=offset,
                                                         banding=BAND)]
    plan = PLANNERS["greedy_by_size"](bufs)
    assert plan.offsets["in"] == plan.offsets["out"] + offset
    if ok:
        check_no_overlap(bufs, plan)
    else:
        with pytest.raises(ValueError, match="output row .* covers input 'in' row"):
            check_no_overlap(bufs, plan)


def test_bad_buffer_fields_rejected():
    with pytest.raises(ValueError, match="first step"):
        act("a", 8, 3, 2)
    with pytest.raises(ValueError, match="category"):
        Buffer("a", 8, 0, 1, "weights")
    with pytest.raises(ValueError, match="power of two"):
        act("a", 8, 0, 1, align=6)


def test_check_catches_overlap_and_names_pair():
    broken = Plan({"A": 0, "B": 16, "C": 0, "D": 64, "E": 0}, 80, "broken")  # A and B share
    with pytest.raises(ValueError, match="'A'.*'B'"):
        check_no_overlap(FIVE, broken)


def test_check_allows_time_disjoint_reuse_and_zero_size():
    bufs = [act("a", 8, 0, 1), act("b", 8, 2, 3), act("z", 0, 0, 3)]
    check_no_overlap(bufs, Plan({"a": 0, "b": 0, "z": 4}, 8, "hand"))


@pytest.mark.parametrize("plan, message", [
    (Plan({"X": 0, "Y": 40, "Z": 64}, 128, "p"), r"is not \+0 inside its target"),
    (Plan({"X": 0, "Y": 0}, 128, "p"), "no offset"),
    (Plan({"X": 2, "Y": 2, "Z": 68}, 132, "p"), "aligned"),
    (Plan({"X": 0, "Y": 0, "Z": 64}, 100, "p"), "past the arena"),
    (Plan({"X": 0, "Y": 0, "Z": 16}, 128, "p"), "'Y'.*'Z'"),  # Z meets Y at step 2
])
def test_check_catches_bad_plans(plan, message):
    with pytest.raises(ValueError, match=message):
        check_no_overlap(ALIASED, plan)


def random_buffers(seed, n, steps, max_len, aliases=True):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        first = rng.randrange(steps)
        last = min(steps - 1, first + rng.randrange(max_len))
        size = rng.choice([4, 12, 64, 100, 768, 1024, 3000, 4096 * rng.randint(1, 4)])
        target = None
        if aliases and out and rng.random() < 0.1:
            cand = out[-1]
            if cand.alias_of is None and cand.size_bytes >= size:
                target = cand.name
        out.append(Buffer(f"t{i}", size, first, last, rng.choice(["activation", "gradient"]),
                          align=rng.choice([1, 4, 8]), alias_of=target))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_lifetimes_all_planners(seed):
    bufs = random_buffers(seed, n=60, steps=40, max_len=8 + 4 * seed)
    lb = lower_bound(bufs)
    arenas = {}
    for name, fn in PLANNERS.items():
        plan = fn(bufs, align=4)
        check_no_overlap(bufs, plan)
        assert plan.arena_bytes >= lb, name
        arenas[name] = plan.arena_bytes
    assert arenas["hill_climb"] <= min(arenas["greedy_by_size"], arenas["greedy_by_conflicts"])


def test_hill_climb_500_buffers_fast_and_deterministic():
    bufs = random_buffers(99, n=500, steps=200, max_len=30, aliases=False)
    t0 = time.perf_counter()
    plan = PLANNERS["hill_climb"](bufs)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0
    check_no_overlap(bufs, plan)
    assert plan.arena_bytes >= lower_bound(bufs)
    assert PLANNERS["hill_climb"](bufs) == plan


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_empty(name):
    plan = PLANNERS[name]([])
    assert plan.offsets == {} and plan.arena_bytes == 0
    assert lower_bound([]) == 0


def test_format_plan_timeline():
    text = format_plan(FIVE, PLANNERS["greedy_by_size"](FIVE))
    lines = text.splitlines()
    assert "arena 80 B" in lines[0] and "lower bound 72 B" in lines[0]
    rows = lines[lines.index(next(ln for ln in lines if ln.startswith("step"))) + 1:]
    assert len(rows) == 7  # steps 0..6
    assert rows[3].split()[-1] == f"{72 / 1024:.2f}"  # step 3 is the peak
    assert "!" not in text


def test_format_plan_marks_collision():
    broken = Plan({"A": 0, "B": 16, "C": 0, "D": 64, "E": 0}, 80, "broken")
    step1 = [ln for ln in format_plan(FIVE, broken).splitlines() if ln.startswith("   1  ")]
    assert "!" in step1[0]
