"""fuse_frozen_prefix: which pairs fuse, and the fused op bit-identical to the unfused pair
(random nets and the first blocks of a paper model, through the reference executor)."""

import numpy as np
import pytest

from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.passes.fuse_frozen_prefix import fuse_frozen_prefix
from tinyengine_compiler.reference.interp import run_graph_all

from ..grads.nets import NetBuilder
from .test_autodiff import residual_net
from .test_lifetimes import train_graph


def test_fuses_only_where_backward_does_not_read_the_expanded_tensor():
    fused = fuse_frozen_prefix(residual_net().g)          # forward only: c1 (1x1) + dw fuse
    node = fused.node("c1+dw")
    assert node.op == OpKind.FUSED_EXPAND_DEPTHWISE and node.attrs["fused_from"] == ("c1", "dw")
    assert node.inputs == ["c0.out", "c1.weight", "c1.bias", "dw.weight", "dw.bias"]
    assert "c1.out" not in fused.tensors
    # training c2 reads dw.out (kept channels) but not c1.out: still fused
    assert fuse_frozen_prefix(train_graph()).node("c1+dw")


def test_trained_depthwise_blocks_fusion():
    from tinyengine_compiler.passes.autodiff import autodiff
    from tinyengine_compiler.passes.sparse_update import sparse_update
    from tinyengine_compiler.scheme import LayerUpdate

    def fused(trained):
        return any(n.op == OpKind.FUSED_EXPAND_DEPTHWISE
                   for n in fuse_frozen_prefix(sparse_update(autodiff(residual_net().g), trained)).nodes)

    # dw's bias gradient needs only dw.out's mask: c1.out is still never read by backward
    assert fused({"dw": LayerUpdate(True, None), "fc": LayerUpdate(True, None)})
    # dw's weight gradient reads c1.out: no fusion
    assert not fused({"dw": LayerUpdate(True, tuple(range(8))), "fc": LayerUpdate(True, None)})


@pytest.mark.parametrize("seed,stride,k", [(0, 1, 3), (1, 2, 3), (2, 1, 5), (3, 2, 7)])
def test_fused_is_bit_identical_on_random_nets(seed, stride, k):
    net = NetBuilder(np.random.default_rng(seed), shape=(1, 9, 11, 5))
    net.conv("e", 12, 1)
    net.depthwise("d", k, stride)
    net.conv("p", 4, 1, relu=False)
    a, b = run_graph_all(net.g, net.x), run_graph_all(fuse_frozen_prefix(net.g), net.x)
    assert any(n.op == OpKind.FUSED_EXPAND_DEPTHWISE for n in fuse_frozen_prefix(net.g).nodes)
    np.testing.assert_array_equal(a["d.out"], b["d.out"])
    np.testing.assert_array_equal(a["p.out"], b["p.out"])


def test_fused_is_bit_identical_on_a_paper_model(paper_models_dir):
    from tinyengine_compiler.frontend import load_model

    g = load_model(f"{paper_models_dir}/mcunet-5fps.pkl")
    g.nodes = g.nodes[:9]          # first_conv and the first blocks (two expand+depthwise pairs)
    g.outputs = [g.nodes[-1].outputs[0]]
    fused = fuse_frozen_prefix(g)
    names = [n.name for n in fused.nodes if n.op == OpKind.FUSED_EXPAND_DEPTHWISE]
    assert len(names) >= 2
    x = np.random.default_rng(0).integers(-128, 128, g.tensors["input"].shape).astype(np.int8)
    a, b = run_graph_all(g, x), run_graph_all(fused, x)
    for name in b:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
