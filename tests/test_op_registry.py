"""Every op is complete: each IR op has its reference, its real-valued forward (the gradient
checker's), its gradient rule, its C kernel and its codegen call, and docs/ops.md lists every
ONNX op the front end takes and every IR op.  Adding an op to one table and not the others fails
here, naming the op."""

from __future__ import annotations

import re
from pathlib import Path

from tinyengine_compiler.codegen.backward_calls import _BACKWARD
from tinyengine_compiler.codegen.calls import _FORWARD
from tinyengine_compiler.codegen.kernels import TTE_KERNELS
from tinyengine_compiler.frontend.onnx_import import SUPPORTED_OPS
from tinyengine_compiler.grads import trainable_ops
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.ir.ops import BACKWARD_OPS
from tinyengine_compiler.reference.backward import BACKWARD_OPS as BACKWARD_REFERENCE
from tinyengine_compiler.reference.ops import OPS
from tinyengine_compiler.reference.real_forward import _OPS as REAL_FORWARD

OPS_DOC = Path(__file__).resolve().parents[1] / "docs" / "ops.md"
FORWARD = set(OpKind) - BACKWARD_OPS
# made by a pass on the frozen prefix only (passes/fuse_frozen_prefix.py): never trained through
FROZEN_ONLY = {OpKind.FUSED_EXPAND_DEPTHWISE}


def test_every_forward_op_has_reference_real_forward_rule_kernel_and_call():
    for op in sorted(FORWARD, key=lambda o: o.value):
        assert op in OPS, f"{op.value}: no int8 reference (reference/ops)"
        assert op in _FORWARD, f"{op.value}: no codegen call (codegen/calls.py)"
        assert op in TTE_KERNELS, f"{op.value}: no C kernel (codegen/kernels.py)"
        if op not in FROZEN_ONLY:
            assert op in REAL_FORWARD, f"{op.value}: no real forward (reference/real_forward.py)"
            assert op in trainable_ops(), f"{op.value}: no gradient rule (grads/)"


def test_every_backward_op_has_reference_kernel_and_call():
    for op in sorted(BACKWARD_OPS, key=lambda o: o.value):
        assert op in BACKWARD_REFERENCE or op == OpKind.SGD_UPDATE, f"{op.value}: no reference (reference/backward)"
        assert op in _BACKWARD or op == OpKind.SGD_UPDATE, f"{op.value}: no codegen call (codegen/backward_calls.py)"
        assert op in TTE_KERNELS, f"{op.value}: no C kernel (codegen/kernels.py)"


def test_docs_list_every_onnx_op_and_every_ir_op():
    text = OPS_DOC.read_text()
    onnx_section = text.split("## ONNX ops", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)`", onnx_section, re.M))
    assert SUPPORTED_OPS - documented == set(), "ONNX ops missing from docs/ops.md"
    assert documented - SUPPORTED_OPS == set(), "docs/ops.md lists ONNX ops the front end refuses"
    for op in OpKind:
        assert f"`{op.value}`" in text, f"{op.value} missing from docs/ops.md"
