"""reorder: with fused updates no two weight gradients are ever live together and each update
runs right after its gradient; without, all updates run last and the gradients pile up."""

from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.passes.lifetimes import lifetimes
from tinyengine_compiler.passes.reorder import reorder
from tinyengine_compiler.planners.base import lower_bound, overlaps_in_time

from .test_lifetimes import train_graph


def weight_grads(g):
    names = {n.inputs[1] for n in g.nodes if n.op == OpKind.SGD_UPDATE and n.attrs["param"] == "weight"}
    return [b for b in lifetimes(g) if b.name in names]


def test_no_reorder_runs_every_update_last():
    g = reorder(train_graph(), fuse_updates=False)
    ops = [n.op for n in g.nodes]
    first_update = ops.index(OpKind.SGD_UPDATE)
    assert all(op == OpKind.SGD_UPDATE for op in ops[first_update:])
    fc, c2 = weight_grads(g)
    assert overlaps_in_time(fc, c2)          # fc.weight.grad is held until c2's is made


def test_reorder_applies_each_gradient_at_once():
    g = reorder(train_graph())
    for upd in (n for n in g.nodes if n.op == OpKind.SGD_UPDATE):
        grad = g.producer(upd.inputs[1])
        assert g.nodes.index(upd) == g.nodes.index(grad) + 1
        # conv and FC weight gradients are made and applied a block at a time; the others whole
        fused = grad.op in (OpKind.CONV2D_GRAD_WEIGHT, OpKind.FULLY_CONNECTED_GRAD_WEIGHT)
        assert grad.attrs.get("fused_update") == (upd.name if fused else None), grad.name
    fc, c2 = weight_grads(g)
    assert not overlaps_in_time(fc, c2)
    # fused: a block of 4 output channels of fc's [5, 4] float32 gradient is live, at its
    # producer's step only (64 B, not 80 B)
    assert fc.size_bytes == 64 and fc.last == fc.first


def test_reorder_lowers_the_peak_and_keeps_the_forward_order():
    before = train_graph()
    after = reorder(before)
    forward = [n.name for n in before.nodes if n.op.value in ("CONV2D", "DEPTHWISE_CONV2D", "ADD",
                                                              "GLOBAL_AVG_POOL", "FULLY_CONNECTED")]
    assert [n.name for n in after.nodes][:len(forward)] == forward
    assert lower_bound(lifetimes(after)) <= lower_bound(lifetimes(reorder(before, fuse_updates=False)))


def test_paper_model_weight_gradients_never_overlap(paper_models_dir):
    from tinyengine_compiler.frontend import load_model
    from tinyengine_compiler.pipeline import training_engine
    from tinyengine_compiler.scheme import load_scheme

    g = load_model(f"{paper_models_dir}/mbv2-w0.35.pkl")
    mp = training_engine(g, load_scheme("paper-mbv2-w0.35"))
    grads = [b for b in mp.buffers if b.name.endswith(".weight.grad")]
    assert len(grads) == 9   # 8 expand convs + the classifier
    assert not any(overlaps_in_time(a, b) for i, a in enumerate(grads) for b in grads[i + 1:])


def test_no_parameter_is_read_after_its_update(paper_models_dir):
    """An update overwrites its parameter in place: every other reader (the forward op, the
    layer's input gradient) must come before it, or the step would use half-updated weights."""
    from tinyengine_compiler.frontend import load_model
    from tinyengine_compiler.pipeline import training_engine
    from tinyengine_compiler.scheme import load_scheme

    g = load_model(f"{paper_models_dir}/mcunet-5fps.pkl")
    sched = training_engine(g, load_scheme("paper-mcunet-5fps")).graph
    position = {n.name: i for i, n in enumerate(sched.nodes)}
    updates = [n for n in sched.nodes if n.op == OpKind.SGD_UPDATE]
    assert updates
    for upd in updates:
        readers = [n for n in sched.nodes if upd.inputs[0] in n.inputs and n is not upd]
        assert readers and all(position[r.name] < position[upd.name] for r in readers), upd.name
        assert position[sched.producer(upd.inputs[1]).name] > max(position[r.name] for r in readers), upd.name
