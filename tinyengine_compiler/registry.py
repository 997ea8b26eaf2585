"""The op registry: one entry per OpKind, naming every part that makes the op work.

| part             | what it is                                           | written in                  |
|------------------|------------------------------------------------------|-----------------------------|
| `kernels`        | the runtime_c kernels that run it, each with the     | here                        |
|                  | predicate that picks it and its scratch formulas     |                             |
| `differentiable` | False for an op no gradient passes through (one made | here                        |
|                  | on the frozen prefix only)                           |                             |
| `reference`      | the bit-exact numpy op                               | reference/ops/ (int8        |
|                  |                                                      | forward), reference/backward/ |
| `real_forward`   | forward ops: the real-valued op the gradient checker | reference/real_forward.py   |
|                  | differentiates                                       |                             |
| `gradient`       | differentiable forward ops: the rule that emits      | grads/                      |
|                  | their backward ops                                   |                             |
| `build`          | the node's kernel call: arguments, static parameter  | codegen/calls.py,           |
|                  | objects                                              | codegen/backward_calls.py   |

The kernels are declared here because both the planner (`passes/lifetimes.py`, the arena's
scratch) and codegen (the call) read them: `kernel_for(g, node)` is the one choice of kernel and
`scratch_bytes(g, node, backend)` the one scratch size.  Every other part registers itself with
`implements(op, part)` in the file that writes it, so that the layers keep pointing down (this
module imports only `ir` and `errors`).  A module that reads a part imports the modules that
register it (`reference.ops`, `reference.backward`, `reference.real_forward`, `grads`,
`codegen.calls`, `codegen.backward_calls`), and tests/test_op_registry.py fails, naming the op
and the part, when an entry lacks one.  docs/adding-an-op.md is the checklist.

A kernel's `scratch_bytes(in_shape, filter_shape, out_shape)` is the formula of the C function
`<symbol>_scratch_bytes(input_dims, filter_dims, output_dims)` (NHWC shapes; filter_shape None
for ops without weights); tests/c/test_scratch.py checks the two agree.  `cmsis_scratch_bytes`
is that of the kernel's CMSIS-NN adapter (runtime_c/src/cmsis) on a Cortex-M7 built with GCC
(DSP extension, no Helium), where it has one; tests/codegen/test_cmsis_backend.py checks it
against CMSIS-NN's own *_get_buffer_size_dsp functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import UnsupportedError
from .ir import Graph, Node, OpKind
from .ir.ops import BACKWARD_OPS, WEIGHTED_OPS, is_pointwise

Shape = tuple[int, ...]
ScratchFormula = Callable[[Shape, "Shape | None", Shape], int]
PARTS = ("reference", "real_forward", "gradient", "build")


def _no_scratch(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    return 0


def _one_int8_plane(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """One [H, W] int8 channel of the kernel's input: the channel-at-a-time kernels."""
    return in_shape[1] * in_shape[2]


def _two_int8_planes(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """Two [H, W] int8 channels of the kernel's input: the pair of expanded channels the fused
    expand+depthwise kernel's pointwise tile computes at once."""
    return 2 * in_shape[1] * in_shape[2]


def _one_f32_plane(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """One [OH, OW] float32 channel of the kernel's input (an incoming gradient)."""
    return in_shape[1] * in_shape[2] * 4


def _cmsis_conv(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """arm_convolve_s8_get_buffer_size: two int16 im2col columns of KH * KW * C_in, rounded up
    to 4 (the generic kernel's, which bounds the 1xN and 1x1 ones)."""
    cols = filter_shape[1] * filter_shape[2] * in_shape[3]
    return 2 * (-(-cols // 4) * 4) * 2


def _cmsis_depthwise(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """arm_depthwise_conv_s8_opt_get_buffer_size on a DSP core (Cortex-M7): C * KH * KW int16."""
    return in_shape[3] * filter_shape[1] * filter_shape[2] * 2


def _always(g: Graph, node: Node) -> bool:
    return True


def _in_place(g: Graph, node: Node) -> bool:
    return bool(node.attrs.get("in_place"))


def _pointwise(g: Graph, node: Node) -> bool:
    return is_pointwise(g.tensors[node.inputs[1]].shape, node.attrs["pads"])


def _master_storage(g: Graph, node: Node) -> bool:
    return node.attrs["storage"] == "float32"


def _integer_storage(g: Graph, node: Node) -> bool:
    return node.attrs["storage"] in ("int8", "int32")


@dataclass(frozen=True)
class Kernel:
    """A runtime_c kernel: its C symbol, when it runs (`applies`, and `when` in words) and its
    scratch formulas."""
    symbol: str
    when: str
    applies: Callable[[Graph, Node], bool] = _always
    scratch_bytes: ScratchFormula = _no_scratch
    cmsis_scratch_bytes: ScratchFormula | None = None


@dataclass
class OpEntry:
    """Everything about one OpKind (see the module docstring for each part)."""
    op: OpKind
    kernels: tuple[Kernel, ...]
    differentiable: bool = True
    reference: Callable | None = None
    real_forward: Callable | None = None
    gradient: Callable | None = None
    build: Callable | None = None

    @property
    def forward(self) -> bool:
        return self.op not in BACKWARD_OPS

    def missing(self) -> list[str]:
        """The parts this op still lacks."""
        needed = ["reference", "build"]
        if self.forward and self.differentiable:
            needed += ["real_forward", "gradient"]
        return [part for part in needed if getattr(self, part) is None] + ([] if self.kernels else ["kernels"])


def _entries(*entries: OpEntry) -> dict[OpKind, OpEntry]:
    return {e.op: e for e in entries}


# Kernels are listed most specific first: `kernel_for` takes the first whose predicate holds.
REGISTRY: dict[OpKind, OpEntry] = _entries(
    OpEntry(OpKind.CONV2D, (
        Kernel("tte_conv2d_1x1_s8", "1x1 kernel and all pads 0 (any stride)", _pointwise,
               cmsis_scratch_bytes=_no_scratch),     # arm_convolve_1x1_s8_fast needs none with GCC
        Kernel("tte_conv2d_s8", "any kernel, stride and padding", cmsis_scratch_bytes=_cmsis_conv))),
    OpEntry(OpKind.DEPTHWISE_CONV2D, (
        Kernel("tte_depthwise_conv2d_inplace_s8", "in_place: the output overwrites the input, one channel "
               "at a time", _in_place, _one_int8_plane),
        Kernel("tte_depthwise_conv2d_s8", "depth multiplier 1, any kernel", cmsis_scratch_bytes=_cmsis_depthwise))),
    OpEntry(OpKind.FUSED_EXPAND_DEPTHWISE, (
        Kernel("tte_fused_expand_depthwise_s8", "always: two expanded [H, W] channels in scratch",
               scratch_bytes=_two_int8_planes),), differentiable=False),
    OpEntry(OpKind.FULLY_CONNECTED, (Kernel("tte_fully_connected_s8", "always", cmsis_scratch_bytes=_no_scratch),)),
    OpEntry(OpKind.ADD, (Kernel("tte_add_s8", "always; the output may alias either input",
                                cmsis_scratch_bytes=_no_scratch),)),
    OpEntry(OpKind.GLOBAL_AVG_POOL, (
        Kernel("tte_global_avg_pool_s8", "always; multiplier 0 when the qparams are equal (a rounded division)"),)),
    OpEntry(OpKind.AVG_POOL2D, (
        Kernel("tte_avg_pool2d_s8", "every pad smaller than the kernel; rq when the qparams differ"),)),
    OpEntry(OpKind.MAX_POOL2D, (
        Kernel("tte_max_pool2d_s8", "every pad smaller than the kernel; rq when the qparams differ"),)),
    OpEntry(OpKind.CONCAT, (Kernel("tte_copy_channels_s8", "one call per input, rq when its qparams differ"),)),
    OpEntry(OpKind.CHANNEL_SELECT, (Kernel("tte_copy_channels_s8", "rq when the qparams differ"),)),
    OpEntry(OpKind.LUT, (Kernel("tte_lut_s8", "always; the output may alias the input"),)),
    OpEntry(OpKind.MUL, (Kernel("tte_mul_s8", "b of a's shape or [1, 1, 1, C]; the output may alias a"),)),
    # float32 training kernels (runtime_c "TRAINING (float32)" section)
    OpEntry(OpKind.REAL_LOGITS, (Kernel("tte_real_logits_f32", "always"),)),
    OpEntry(OpKind.SOFTMAX_CROSS_ENTROPY, (Kernel("tte_softmax_cross_entropy_f32", "batch 1"),)),
    OpEntry(OpKind.CLAMP_GRAD, (Kernel("tte_clamp_grad_f32", "always; may run in place"),)),
    OpEntry(OpKind.CONV2D_GRAD_INPUT, (Kernel("tte_conv2d_grad_input_f32", "always"),)),
    OpEntry(OpKind.CONV2D_GRAD_WEIGHT, (Kernel("tte_conv2d_grad_weight_f32", "batch 1, any channel subset"),)),
    OpEntry(OpKind.DEPTHWISE_CONV2D_GRAD_INPUT, (
        Kernel("tte_depthwise_conv2d_grad_input_inplace_f32", "in_place: dx overwrites the incoming gradient, "
               "one channel at a time", _in_place, _one_f32_plane),
        Kernel("tte_depthwise_conv2d_grad_input_f32", "always"))),
    OpEntry(OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT, (
        Kernel("tte_depthwise_conv2d_grad_weight_f32", "batch 1, any channel subset"),)),
    OpEntry(OpKind.FULLY_CONNECTED_GRAD_INPUT, (Kernel("tte_fully_connected_grad_input_f32", "always"),)),
    OpEntry(OpKind.FULLY_CONNECTED_GRAD_WEIGHT, (
        Kernel("tte_fully_connected_grad_weight_f32", "any channel subset"),)),
    OpEntry(OpKind.BIAS_GRAD, (Kernel("tte_bias_grad_f32", "always"),)),
    OpEntry(OpKind.GLOBAL_AVG_POOL_GRAD, (Kernel("tte_global_avg_pool_grad_f32", "always"),)),
    OpEntry(OpKind.AVG_POOL2D_GRAD, (Kernel("tte_avg_pool2d_grad_f32", "batch 1, every pad smaller than the kernel"),)),
    OpEntry(OpKind.MAX_POOL2D_GRAD, (Kernel("tte_max_pool2d_grad_f32", "batch 1, reads `<x>.argmax.<reader>`"),)),
    OpEntry(OpKind.GRAD_MOVE_CHANNELS, (Kernel("tte_grad_move_channels_f32", "always"),)),
    OpEntry(OpKind.LUT_GRAD, (Kernel("tte_lut_grad_f32", "always; may run in place"),)),
    OpEntry(OpKind.MUL_GRAD, (Kernel("tte_mul_grad_f32", "batch 1; element-wise forms may run in place"),)),
    OpEntry(OpKind.GRAD_ACCUMULATE, (Kernel("tte_grad_accumulate_f32", "always; may run in place"),)),
    OpEntry(OpKind.SGD_UPDATE, (
        Kernel("tte_sgd_update_f32", "float32 master weights", _master_storage),
        Kernel("tte_sgd_update_int", "int8 weights or int32 biases, rounded update", _integer_storage))),
)

# Kernels of no OpKind: they make and read the compact saved state that passes/lifetimes.py
# plans instead of a whole int8 activation (runtime_c "SAVED STATE" section); codegen picks them
# from the plan, not from the node.
HELPER_KERNELS: tuple[Kernel, ...] = (
    Kernel("tte_pack_mask_s8", "when a CLAMP_GRAD's saved y is produced: its `<y>.mask` of act_min < y < act_max"),
    Kernel("tte_clamp_grad_mask_f32", "CLAMP_GRAD whose y is kept as `<y>.mask`; may run in place"),
    Kernel("tte_gather_channels_s8", "when a weight gradient's saved input is produced: its `<x>.kept.<reader>`"),
    Kernel("tte_max_pool2d_argmax_s8",
           "when a max pool whose gradient is kept runs: `<x>.argmax.<reader>`, the tap of each window"),
    Kernel("tte_depthwise_conv2d_grad_weight_kept_f32",
           "DEPTHWISE_CONV2D_GRAD_WEIGHT reading `<x>.kept.<reader>` (CONV2D_GRAD_WEIGHT reads it "
           "with tte_conv2d_grad_weight_f32 and channels NULL)"),
)

# The twins of whole-weight kernels that read a split weight (runtime_c "SPLIT STORAGE"): codegen
# swaps them in for the readers of a partly trained 1x1 conv (codegen/context.py SPLIT_TWINS).
SPLIT_KERNELS: tuple[Kernel, ...] = (
    Kernel("tte_conv2d_1x1_split_s8", "CONV2D 1x1 whose weight is split (trained columns in SRAM)"),
    Kernel("tte_conv2d_grad_input_split_f32",
           "CONV2D_GRAD_INPUT of a 1x1, stride 1, unpadded conv whose weight is split"),
)

KERNELS_BY_SYMBOL: dict[str, Kernel] = {k.symbol: k for ks in (*(e.kernels for e in REGISTRY.values()),
                                                               HELPER_KERNELS, SPLIT_KERNELS) for k in ks}


def implements(op: OpKind, part: str):
    """Decorator: `fn` is op's `part` (one of PARTS).  An op gets each part once."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; the parts are {', '.join(PARTS)}")

    def register(fn: Callable) -> Callable:
        entry = REGISTRY[op]
        if getattr(entry, part) is not None:
            raise ValueError(f"{op.value} already has a {part}: {getattr(entry, part).__qualname__}")
        setattr(entry, part, fn)
        return fn
    return register


def part_of(op: OpKind, part: str, what: str) -> Callable:
    """op's `part`, or an UnsupportedError saying that `what` has no such op."""
    fn = getattr(REGISTRY[op], part)
    if fn is None:
        raise UnsupportedError(f"{what} has no {op.value}")
    return fn


def ops_with(part: str) -> frozenset[OpKind]:
    """The ops that have `part`."""
    return frozenset(op for op, e in REGISTRY.items() if getattr(e, part) is not None)


def kernel_for(g: Graph, node: Node) -> Kernel:
    """The kernel that runs `node`: the first of its op's kernels whose predicate holds."""
    for kernel in REGISTRY[node.op].kernels:
        if kernel.applies(g, node):
            return kernel
    rules = "; ".join(f"{k.symbol}: {k.when}" for k in REGISTRY[node.op].kernels)
    raise UnsupportedError(f"node '{node.name}': no C kernel runs this {node.op.value} ({rules})")


def scratch_bytes(g: Graph, node: Node, backend: str = "portable") -> int:
    """The scratch memory `node`'s kernel needs with kernel `backend` (portable or cmsis_nn): the
    bytes the planner places in the arena for it, which codegen hands to the call."""
    kernel = kernel_for(g, node)
    formula = kernel.scratch_bytes
    if backend == "cmsis_nn" and kernel.cmsis_scratch_bytes is not None:
        formula = kernel.cmsis_scratch_bytes
    x, y = g.tensors[node.inputs[0]].shape, g.tensors[node.outputs[0]].shape
    w = g.tensors[node.inputs[1]].shape if node.op in WEIGHTED_OPS else None
    return formula(x, w, y)
