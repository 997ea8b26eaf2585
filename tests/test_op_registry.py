"""Every op is complete: each OpKind's registry entry has its reference, its real-valued forward
and gradient rule (a differentiable forward op), its codegen call and its C kernels, and
docs/ops.md lists every ONNX op the front end takes and every IR op.  An op missing a part fails
here, naming the op and the part."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tinyengine_compiler.codegen.backward_calls  # noqa: F401  (each package registers its parts)
import tinyengine_compiler.grads  # noqa: F401
import tinyengine_compiler.reference.backward  # noqa: F401
import tinyengine_compiler.reference.ops  # noqa: F401
import tinyengine_compiler.reference.real_forward  # noqa: F401
from tinyengine_compiler.errors import UnsupportedError
from tinyengine_compiler.frontend.onnx_import import SUPPORTED_OPS
from tinyengine_compiler.ir import DType, Graph, Node, OpKind, Tensor
from tinyengine_compiler.registry import REGISTRY, implements, kernel_for

OPS_DOC = Path(__file__).resolve().parents[1] / "docs" / "ops.md"


def test_every_op_has_every_part():
    assert set(REGISTRY) == set(OpKind)
    for op, entry in sorted(REGISTRY.items(), key=lambda kv: kv[0].value):
        assert entry.missing() == [], f"{op.value} lacks {', '.join(entry.missing())} (docs/adding-an-op.md)"


def test_an_op_without_a_part_is_named():
    entry = REGISTRY[OpKind.LUT]
    rule, entry.gradient = entry.gradient, None
    try:
        assert entry.missing() == ["gradient"]
    finally:
        entry.gradient = rule


def test_only_frozen_prefix_ops_are_not_differentiable():
    """A gradient never passes through an op made on the frozen prefix only (passes/fuse_frozen_prefix.py)."""
    assert {op for op, e in REGISTRY.items() if not e.differentiable} == {OpKind.FUSED_EXPAND_DEPTHWISE}
    assert REGISTRY[OpKind.FUSED_EXPAND_DEPTHWISE].gradient is None


def test_a_part_is_registered_once():
    with pytest.raises(ValueError, match="LUT already has a reference"):
        implements(OpKind.LUT, "reference")(lambda g, node, x: x)
    with pytest.raises(ValueError, match="unknown part"):
        implements(OpKind.LUT, "kernel")


def test_the_kernel_rule_picks_by_the_node():
    g = Graph("g", {"x": Tensor("x", (1, 4, 4, 8), DType.INT8), "w": Tensor("w", (8, 1, 1, 8), DType.INT8),
                    "y": Tensor("y", (1, 4, 4, 8), DType.INT8)}, [], ["x"], ["y"])
    conv = Node("c", OpKind.CONV2D, ["x", "w"], ["y"], {"stride": (1, 1), "pads": (0, 0, 0, 0)})
    assert kernel_for(g, conv).symbol == "tte_conv2d_1x1_s8"
    conv.attrs["pads"] = (0, 0, 1, 1)
    assert kernel_for(g, conv).symbol == "tte_conv2d_s8"
    update = Node("u", OpKind.SGD_UPDATE, ["w"], ["w2"], {"storage": "int16"})
    with pytest.raises(UnsupportedError, match="node 'u': no C kernel runs this SGD_UPDATE"):
        kernel_for(g, update)


def test_docs_list_every_onnx_op_and_every_ir_op():
    text = OPS_DOC.read_text()
    onnx_section = text.split("## ONNX ops", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)`", onnx_section, re.M))
    assert SUPPORTED_OPS - documented == set(), "ONNX ops missing from docs/ops.md"
    assert documented - SUPPORTED_OPS == set(), "docs/ops.md lists ONNX ops the front end refuses"
    for op in OpKind:
        assert f"`{op.value}`" in text, f"{op.value} missing from docs/ops.md"
