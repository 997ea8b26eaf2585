"""inplace: let a node write its output over an input that dies at that node.

Takes: a training graph in its final order (after `reorder`); `masks` as `lifetimes` takes it
(it decides when a saved activation's full bytes die).

Guarantees: the same graph where these nodes carry `in_place=<input name>` when that input is
a non-constant tensor whose full bytes are read by no later node (`lifetimes.full_last_use`)
and is at least as large as the output:
  * ADD (the C kernel `tte_add_s8` allows the output to alias either input): the first such
    input;
  * CLAMP_GRAD, LUT_GRAD: the incoming gradient; GRAD_ACCUMULATE: the first such operand;
  * LUT (`tte_lut_s8`): its input; MUL (`tte_mul_s8`): the first operand of the output's shape;
    MUL_GRAD: its incoming gradient when the output has its shape (not the summed gradient of
    a broadcast operand);
  * DEPTHWISE_CONV2D (forward, int8): its input, computed one channel at a time through a
    one-channel scratch buffer (`registry.scratch_bytes`): the frozen prefix's in-place
    depthwise conv; likewise DEPTHWISE_CONV2D_GRAD_INPUT over its incoming gradient (same
    channel-by-channel trick, a one-channel float32 scratch).
With `banded=True` (the portable kernels), also `banded=<input name>` on a CONV2D that the
generic kernel runs (not pointwise: `ir.ops.is_pointwise`), batch 1, whose int8 input dies at
it: the kernel writes output rows in order, so the output may overwrite the input rows it has
finished with (the first conv's 48 KB input inside its 64 KB output).  `lifetimes` places
the input at the least offset inside the output where that holds (`planners.base.RowBanding`)
and the overlap checker proves every row.
Values are unchanged; `lifetimes` turns each decision into `Buffer.alias_of` and checks it.

Leaves to later passes: lifetimes and placement; codegen emits the aliasing kernels.

Paper: section 3, in-place update and TinyEngine's in-place depthwise convolution.
"""

from __future__ import annotations

from ..ir import DType, Graph, OpKind
from ..ir.ops import is_pointwise
from ..ir.verify import verify
from .lifetimes import full_last_use

FIRST_INPUT_ONLY = {OpKind.CLAMP_GRAD, OpKind.DEPTHWISE_CONV2D, OpKind.DEPTHWISE_CONV2D_GRAD_INPUT, OpKind.LUT,
                    OpKind.LUT_GRAD, OpKind.MUL_GRAD}
IN_PLACE_OPS = FIRST_INPUT_ONLY | {OpKind.ADD, OpKind.GRAD_ACCUMULATE, OpKind.MUL}
# element-wise kernels: the output may be an input of its very shape, nothing smaller or larger
ELEMENT_WISE = {OpKind.ADD, OpKind.GRAD_ACCUMULATE, OpKind.CLAMP_GRAD, OpKind.LUT, OpKind.LUT_GRAD, OpKind.MUL,
                OpKind.MUL_GRAD}


def inplace(g: Graph, *, masks: bool = True, banded: bool = True) -> Graph:
    g = g.copy()
    last = full_last_use(g, masks=masks)
    for i, n in enumerate(g.nodes):
        if banded and n.op == OpKind.CONV2D and not is_pointwise(g.tensors[n.inputs[1]].shape, n.attrs["pads"]):
            x = g.tensors[n.inputs[0]]
            if not x.is_constant and x.dtype == DType.INT8 and x.shape[0] == 1 and last.get(x.name) == i:
                n.attrs["banded"] = x.name
        if n.op not in IN_PLACE_OPS:
            continue
        out = g.tensors[n.outputs[0]]
        candidates = n.inputs[:1] if n.op in FIRST_INPUT_ONLY else n.inputs
        for name in candidates:
            t = g.tensors[name]
            if (not t.is_constant and last.get(name) == i and n.inputs.count(name) == 1
                    and t.dtype == out.dtype and t.nbytes >= out.nbytes
                    and (n.op not in ELEMENT_WISE or t.shape == out.shape)):
                n.attrs["in_place"] = name
                break
    return verify(g)
