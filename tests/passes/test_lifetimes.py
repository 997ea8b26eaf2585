"""lifetimes + inplace on a hand-built residual net: every buffer's bytes and steps worked out
by hand (comments), the in-place aliases, and the overlap check for every planner."""

import numpy as np
import pytest

from tinyengine_compiler.passes.autodiff import autodiff
from tinyengine_compiler.passes.inplace import inplace
from tinyengine_compiler.passes.lifetimes import lifetimes
from tinyengine_compiler.passes.sparse_update import sparse_update
from tinyengine_compiler.planners import PLANNERS, check_no_overlap, lower_bound
from tinyengine_compiler.planners.base import SavedState
from tinyengine_compiler.scheme import LayerUpdate

from ..grads.nets import NetBuilder
from .test_autodiff import residual_net


def train_graph():
    """input 1x8x8x3 -> c0 (3x3/2, 4) -> c1 (1x1, 8) -> dw (3x3) -> c2 (1x1, 4) -> add(c0) ->
    pool -> fc (5).  fc trains in full; c2 trains input channels 1 and 5 of 8, no bias."""
    g = autodiff(residual_net().g)
    return sparse_update(g, {"c2": LayerUpdate(bias=False, channels=(1, 5)), "fc": LayerUpdate(True, (0, 1, 2, 3))})


def test_steps_of_the_graph():
    g = train_graph()
    assert [n.name for n in g.nodes] == [
        "c0", "c1", "dw", "c2", "add", "pool", "fc",                       # steps 0..6
        "fc.real_logits", "loss", "fc.grad_input", "fc.grad_weight",       # 7..10
        "fc.grad_bias", "fc.weight.sgd_update", "fc.bias.sgd_update",      # 11..13
        "pool.grad_input", "add.clamp_grad", "c2.clamp_grad", "c2.grad_weight",  # 14..17
        "c2.weight.sgd_update"]                                            # 18


def test_hand_computed_buffers():
    got = {b.name: (b.size_bytes, b.first, b.last, b.category, b.alias_of) for b in lifetimes(train_graph())}
    assert got == {
        "input": (8 * 8 * 3, 0, 0, "input", None),
        "label": (4, 0, 8, "label", None),                       # int32, read by the loss
        "c0.out": (4 * 4 * 4, 0, 4, "activation", None),         # read by c1 and the add
        "c1.out": (4 * 4 * 8, 1, 2, "activation", None),
        "dw.out": (4 * 4 * 8, 2, 3, "activation", None),         # full bytes die at c2 ...
        "dw.out.kept.c2.grad_weight": (4 * 4 * 2, 2, 17, "saved_activation", None),  # ... 2 of 8 kept
        "c2.out": (64, 3, 4, "activation", None),
        "c2.out.mask": (8, 3, 16, "saved_activation", None),     # 64 bits
        "add.out": (64, 4, 5, "activation", None),
        "add.out.mask": (8, 4, 15, "saved_activation", None),
        "pool.out": (4, 5, 10, "saved_activation", None),        # the real logits and fc's weight
                                                                 # gradient read it all
        "fc.out": (8, 6, 18, "activation", None),                # 5 B -> 8; no backward reader (the loss
                                                                 # reads the real logits); a graph output
        "fc.real_logits": (20, 7, 8, "gradient", None),          # float32 [1, 5], read by the loss
        "fc.real_logits.grad": (20, 8, 11, "gradient", None),    # read by fc's three gradients
        "loss": (4, 8, 18, "gradient", None),
        "pool.out.grad": (16, 9, 14, "gradient", None),
        "fc.weight.grad": (80, 10, 12, "gradient", None),        # float32 [5, 4]
        "fc.bias.grad": (20, 11, 13, "gradient", None),
        "add.out.grad": (256, 14, 15, "gradient", None),         # float32 4x4x4
        "add.preact.grad": (256, 15, 16, "gradient", None),
        "c2.preact.grad": (256, 16, 17, "gradient", None),
        "c2.weight.grad": (4 * 2 * 4, 17, 18, "gradient", None),  # [4, 1, 1, 2]
    }


def test_what_a_buffer_keeps_is_a_field_not_its_name():
    got = {b.name: (b.saved, b.scratch_of) for b in lifetimes(inplace(train_graph())) if b.saved or b.scratch_of}
    assert got == {"dw.out.kept.c2.grad_weight": (SavedState("dw.out", "kept", "c2.grad_weight"), None),
                   "c2.out.mask": (SavedState("c2.out", "mask"), None),
                   "add.out.mask": (SavedState("add.out", "mask"), None),
                   "dw.scratch": (None, "dw")}


def test_without_masks_the_outputs_are_saved_whole():
    got = {b.name: (b.size_bytes, b.first, b.last, b.category) for b in lifetimes(train_graph(), masks=False)}
    assert got["c2.out"] == (64, 3, 16, "saved_activation") and "c2.out.mask" not in got
    assert got["add.out"] == (64, 4, 15, "saved_activation")


def test_inplace_aliases_and_scratch():
    g = inplace(train_graph())
    marks = {n.name: n.attrs["in_place"] for n in g.nodes if n.attrs.get("in_place")}
    # dw: c1.out dies at dw; add: both c0.out and c2.out (its mask lives on) die there, the
    # first is taken; each clamp_grad overwrites its incoming gradient (fc has none: the loss
    # reads its real logits).  c0 is not in-place.
    assert marks == {"dw": "c1.out", "add": "c0.out", "add.clamp_grad": "add.out.grad",
                     "c2.clamp_grad": "add.preact.grad"}
    bufs = {b.name: b for b in lifetimes(g)}
    assert bufs["dw.out"].alias_of == "c1.out"
    # one input channel, what the in-place kernel asks for
    assert (bufs["dw.scratch"].size_bytes, bufs["dw.scratch"].first) == (4 * 4, 2)
    assert bufs["c2.preact.grad"].alias_of == "add.preact.grad"


def test_a_bad_in_place_mark_is_refused():
    g = train_graph()
    g.node("c1").attrs["in_place"] = "c0.out"   # c0.out is still read by the add at step 4
    with pytest.raises(ValueError, match="read until step 4"):
        lifetimes(g)


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_every_planner_places_the_tiny_graph(planner):
    bufs = lifetimes(inplace(train_graph()))
    plan = PLANNERS[planner](bufs)
    check_no_overlap(bufs, plan)
    assert plan.arena_bytes >= lower_bound(bufs)


def se_net():
    """input 1x4x4x3 -> a (3x3, 6) -> squeeze-excite: pool, fc1 (1x1), gate = hardsigmoid LUT,
    scale = a * gate (MUL, gate broadcast) -> act = hardswish LUT -> pool -> fc (3)."""
    net = NetBuilder(np.random.default_rng(3), shape=(1, 4, 4, 3))
    net.conv("a", 6, 3, relu=False)
    a = net.current
    net.pool("se")
    net.conv("fc1", 6, 1, relu=False)
    net.lut("gate", "hardsigmoid", alpha=0.2, beta=0.5)
    gate, net.current = net.current, a
    net.mul("scale", gate)
    net.lut("act", "hardswish")
    net.pool()
    net.fc("fc", 3)
    return net.g


def test_inplace_element_wise_ops_of_a_trained_squeeze_excite():
    g = inplace(autodiff(se_net()))
    marks = {n.name: n.attrs.get("in_place") for n in g.nodes}
    # the forward LUTs and MUL keep their inputs (their gradients read them): nothing in place
    assert marks["gate"] is marks["scale"] is marks["act"] is None
    # each LUT gradient overwrites its incoming gradient
    assert marks["act.grad_input"] == "act.out.grad" and marks["gate.grad_input"] == "gate.out.grad"
    # the gate's gradient is the last reader of scale.preact.grad, but sums it over the pixels
    # into one value a channel: it must not write over what it is still reading
    assert g.node("scale.grad_input1").inputs[0] == "scale.preact.grad" and marks["scale.grad_input1"] is None
    check_no_overlap(bufs := lifetimes(g), PLANNERS["greedy_by_size"](bufs))


def test_inplace_frozen_lut_and_mul_overwrite_their_input():
    g = inplace(sparse_update(autodiff(se_net()), {"fc": LayerUpdate(True, (0, 1, 2, 3, 4, 5))}))
    marks = {n.name: n.attrs.get("in_place") for n in g.nodes}
    # below the trained layer nothing is saved: the tables run in place, and the product
    # overwrites `a` (read last by it), never the broadcast gate
    assert marks["gate"] == "fc1.out" and marks["act"] == "scale.out" and marks["scale"] == "a.out"
    check_no_overlap(bufs := lifetimes(g), PLANNERS["greedy_by_size"](bufs))
