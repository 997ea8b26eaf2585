"""OpKind -> the runtime_c kernels that implement it, and the scratch bytes each one needs.

Mirrors runtime_c/include/tte_kernels.h: `Kernel.scratch_bytes(in_shape, filter_shape,
out_shape)` is the formula of the C function `<symbol>_scratch_bytes(input_dims,
filter_dims, output_dims)` (NHWC shapes; filter_shape is None for ops without weights), and
tests/c/test_scratch.py checks the two agree on a grid of shapes.  The portable reference
kernels (runtime_c/src/ref) need no scratch except the channel-at-a-time ones of the
frozen prefix (fused expand+depthwise, in-place depthwise and its in-place input gradient):
one [H, W] channel of their input (two for the fused op), never more than passes/lifetimes.py `scratch_bytes`
reserves for the node.  A backend that needs more (an im2col buffer) changes the C and this
table together.

`TTE_KERNELS[op]` lists the kernels for an op, generic first; `Kernel.when` says when codegen
may use a specialised one.  Choosing among them is codegen's decision, not this table's.
`HELPER_KERNELS` make and read the compact saved state of passes/lifetimes.py (packed
CLAMP_GRAD masks, gathered kept channels), outside the OpKind table; `KERNELS_BY_SYMBOL`
holds both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from ..errors import UnsupportedError
from ..ir import OpKind
from ..ir.ops import is_pointwise
from ..resources import stack_table_path

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Kernel:
    symbol: str
    scratch_bytes: Callable[[Shape, Shape | None, Shape], int]
    when: str


def _no_scratch(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    return 0


def _one_int8_plane(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """One [H, W] int8 channel of the kernel's input: the channel-at-a-time kernels."""
    return in_shape[1] * in_shape[2]


def _two_int8_planes(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """Two [H, W] int8 channels of the kernel's input: the fused expand+depthwise pair."""
    return 2 * in_shape[1] * in_shape[2]


def _one_f32_plane(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """One [OH, OW] float32 channel of the kernel's input (an incoming gradient)."""
    return in_shape[1] * in_shape[2] * 4


TTE_KERNELS: dict[OpKind, tuple[Kernel, ...]] = {
    OpKind.CONV2D: (
        Kernel("tte_conv2d_s8", _no_scratch, "any kernel, stride and padding"),
        Kernel("tte_conv2d_1x1_s8", _no_scratch, "1x1 kernel and all pads 0 (any stride)"),
    ),
    OpKind.DEPTHWISE_CONV2D: (
        Kernel("tte_depthwise_conv2d_s8", _no_scratch, "depth multiplier 1, any kernel"),
        Kernel("tte_depthwise_conv2d_inplace_s8", _one_int8_plane,
               "in_place: the output overwrites the input, one channel at a time"),
    ),
    OpKind.FUSED_EXPAND_DEPTHWISE: (
        Kernel("tte_fused_expand_depthwise_s8", _two_int8_planes,
               "always: two expanded [H, W] channels in scratch"),
    ),
    OpKind.FULLY_CONNECTED: (
        Kernel("tte_fully_connected_s8", _no_scratch, "always"),
    ),
    OpKind.ADD: (
        Kernel("tte_add_s8", _no_scratch, "always; the output may alias either input"),
    ),
    OpKind.GLOBAL_AVG_POOL: (
        Kernel("tte_global_avg_pool_requant_s8", _no_scratch, "input and output qparams differ"),
        Kernel("tte_global_avg_pool_s8", _no_scratch, "input and output qparams are equal"),
    ),
    OpKind.AVG_POOL2D: (
        Kernel("tte_avg_pool2d_requant_s8", _no_scratch,
               "input and output qparams differ, every pad smaller than the kernel"),
        Kernel("tte_avg_pool2d_s8", _no_scratch,
               "input and output qparams equal, every pad smaller than the kernel"),
    ),
    OpKind.CONCAT: (Kernel("tte_copy_channels_s8", _no_scratch, "one call per input, rq when its qparams differ"),),
    OpKind.CHANNEL_SELECT: (Kernel("tte_copy_channels_s8", _no_scratch, "rq when the qparams differ"),),
    OpKind.MAX_POOL2D: (
        Kernel("tte_max_pool2d_s8", _no_scratch, "every pad smaller than the kernel; rq when the qparams differ"),
    ),
    OpKind.LUT: (Kernel("tte_lut_s8", _no_scratch, "always; the output may alias the input"),),
    OpKind.MUL: (Kernel("tte_mul_s8", _no_scratch, "b of a's shape or [1, 1, 1, C]; the output may alias a"),),
    # float32 training kernels (runtime_c "TRAINING (float32)" section)
    OpKind.REAL_LOGITS: (Kernel("tte_real_logits_f32", _no_scratch, "always"),),
    OpKind.SOFTMAX_CROSS_ENTROPY: (Kernel("tte_softmax_cross_entropy_f32", _no_scratch, "batch 1"),),
    OpKind.CLAMP_GRAD: (Kernel("tte_clamp_grad_f32", _no_scratch, "always; may run in place"),),
    OpKind.CONV2D_GRAD_INPUT: (Kernel("tte_conv2d_grad_input_f32", _no_scratch, "always"),),
    OpKind.CONV2D_GRAD_WEIGHT: (Kernel("tte_conv2d_grad_weight_f32", _no_scratch, "batch 1, any channel subset"),),
    OpKind.DEPTHWISE_CONV2D_GRAD_INPUT: (
        Kernel("tte_depthwise_conv2d_grad_input_f32", _no_scratch, "always"),
        Kernel("tte_depthwise_conv2d_grad_input_inplace_f32", _one_f32_plane,
               "in_place: dx overwrites the incoming gradient, one channel at a time"),
    ),
    OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT: (
        Kernel("tte_depthwise_conv2d_grad_weight_f32", _no_scratch, "batch 1, any channel subset"),),
    OpKind.FULLY_CONNECTED_GRAD_INPUT: (Kernel("tte_fully_connected_grad_input_f32", _no_scratch, "always"),),
    OpKind.FULLY_CONNECTED_GRAD_WEIGHT: (
        Kernel("tte_fully_connected_grad_weight_f32", _no_scratch, "any channel subset"),),
    OpKind.BIAS_GRAD: (Kernel("tte_bias_grad_f32", _no_scratch, "always"),),
    OpKind.GLOBAL_AVG_POOL_GRAD: (Kernel("tte_global_avg_pool_grad_f32", _no_scratch, "always"),),
    OpKind.AVG_POOL2D_GRAD: (Kernel("tte_avg_pool2d_grad_f32", _no_scratch, "batch 1, every pad smaller than the kernel"),),
    OpKind.GRAD_MOVE_CHANNELS: (Kernel("tte_grad_move_channels_f32", _no_scratch, "always"),),
    OpKind.MAX_POOL2D_GRAD: (Kernel("tte_max_pool2d_grad_f32", _no_scratch, "batch 1, reads `<x>.argmax.<reader>`"),),
    OpKind.LUT_GRAD: (Kernel("tte_lut_grad_f32", _no_scratch, "always; may run in place"),),
    OpKind.MUL_GRAD: (Kernel("tte_mul_grad_f32", _no_scratch, "batch 1; element-wise forms may run in place"),),
    OpKind.GRAD_ACCUMULATE: (Kernel("tte_grad_accumulate_f32", _no_scratch, "always; may run in place"),),
    OpKind.SGD_UPDATE: (
        Kernel("tte_sgd_update_f32", _no_scratch, "float32 master weights"),
        Kernel("tte_sgd_update_s8", _no_scratch, "int8 weights, rounded update"),
        Kernel("tte_sgd_update_s32", _no_scratch, "int32 biases, rounded update"),
    ),
}

def _cmsis_conv(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """arm_convolve_s8_get_buffer_size: two int16 im2col columns of KH * KW * C_in, rounded up
    to 4 (the generic kernel's, which bounds the 1xN and 1x1 ones)."""
    cols = filter_shape[1] * filter_shape[2] * in_shape[3]
    return 2 * (-(-cols // 4) * 4) * 2


def _cmsis_depthwise(in_shape: Shape, filter_shape: Shape | None, out_shape: Shape) -> int:
    """arm_depthwise_conv_s8_opt_get_buffer_size on a DSP core (Cortex-M7): C * KH * KW int16."""
    return in_shape[3] * filter_shape[1] * filter_shape[2] * 2


# The scratch of each CMSIS-NN adapter (runtime_c/src/cmsis/<symbol>.c, its _scratch_bytes
# function) on the Cortex-M7 built with GCC (DSP extension, no Helium): the bytes the planner
# places in the arena for each call.  tests/codegen/test_cmsis_backend.py checks them against
# CMSIS-NN's own *_get_buffer_size_dsp functions on every layer of the models.
CMSIS_SCRATCH: dict[str, Callable[[Shape, Shape | None, Shape], int]] = {
    "tte_conv2d_s8": _cmsis_conv,
    "tte_conv2d_1x1_s8": _no_scratch,       # arm_convolve_1x1_s8_fast needs none with GCC
    "tte_depthwise_conv2d_s8": _cmsis_depthwise,
    "tte_fully_connected_s8": _no_scratch,
    "tte_add_s8": _no_scratch,
}


def cmsis_scratch_bytes(g, node) -> int:
    """The arena scratch of a forward conv node run by a CMSIS-NN adapter (0 for the others)."""
    if node.op not in (OpKind.CONV2D, OpKind.DEPTHWISE_CONV2D):
        return 0
    x, w, y = (g.tensors[name].shape for name in (node.inputs[0], node.inputs[1], node.outputs[0]))
    symbol = ("tte_depthwise_conv2d_s8" if node.op == OpKind.DEPTHWISE_CONV2D
              else "tte_conv2d_1x1_s8" if is_pointwise(w, node.attrs["pads"]) else "tte_conv2d_s8")
    return CMSIS_SCRATCH[symbol](x, w, y)


# Kernels of no OpKind: they make and read the compact saved state that passes/lifetimes.py
# plans instead of a whole int8 activation (runtime_c "SAVED STATE" section).
HELPER_KERNELS: tuple[Kernel, ...] = (
    Kernel("tte_pack_mask_s8", _no_scratch,
           "when a CLAMP_GRAD's saved y is produced: its `<y>.mask` of act_min < y < act_max"),
    Kernel("tte_clamp_grad_mask_f32", _no_scratch,
           "CLAMP_GRAD whose y is kept as `<y>.mask`; may run in place"),
    Kernel("tte_gather_channels_s8", _no_scratch,
           "when a weight gradient's saved input is produced: its `<x>.kept.<reader>`"),
    Kernel("tte_max_pool2d_argmax_s8", _no_scratch,
           "when a max pool whose gradient is kept runs: `<x>.argmax.<reader>`, the tap of each window"),
    Kernel("tte_depthwise_conv2d_grad_weight_kept_f32", _no_scratch,
           "DEPTHWISE_CONV2D_GRAD_WEIGHT reading `<x>.kept.<reader>` (CONV2D_GRAD_WEIGHT reads it "
           "with tte_conv2d_grad_weight_f32 and channels NULL)"),
)

# The twins of whole-weight kernels that read a split weight (runtime_c "SPLIT STORAGE"): codegen
# swaps them in for the readers of a partly trained 1x1 conv (context.py SPLIT_TWINS).
SPLIT_KERNELS: tuple[Kernel, ...] = (
    Kernel("tte_conv2d_1x1_split_s8", _no_scratch, "CONV2D 1x1 whose weight is split (trained columns in SRAM)"),
    Kernel("tte_conv2d_grad_input_split_f32", _no_scratch,
           "CONV2D_GRAD_INPUT of a 1x1, stride 1, unpadded conv whose weight is split"),
)

KERNELS_BY_SYMBOL: dict[str, Kernel] = {k.symbol: k for ks in (*TTE_KERNELS.values(), HELPER_KERNELS, SPLIT_KERNELS)
                                        for k in ks}


# The worst-case stack of a call to each portable kernel on the Cortex-M7 (its frame and the
# deepest chain below it, the largest over -O2/-Os/-O3/-Ofast), measured from the compiler's
# call graph by targets/stack.py and checked by tests/qemu/test_stack.py.
STACK_TABLE = stack_table_path()
# A bound on the frame of a generated entry point (tte_train_step, tte_infer, tte_init: saved
# registers, the outgoing arguments of a 15-argument kernel call, two locals); 112 B measured
# on the paper's engines, checked on every QEMU test engine.
ENTRY_FRAME_BYTES = 128


@lru_cache(maxsize=None)
def _stack_table(backend: str) -> dict[str, int]:
    tables = json.loads(STACK_TABLE.read_text())
    # the cmsis_nn backend swaps in its adapters (runtime_c/src/cmsis) for the kernels it has
    return {**tables["kernels"], **(tables["cmsis_nn"] if backend == "cmsis_nn" else {})}


def engine_stack_bytes(kernels: Iterable[str], backend: str = "portable") -> int:
    """The worst-case stack of an engine that calls `kernels` with kernel `backend`: an entry
    point's frame plus the deepest kernel call."""
    table = _stack_table(backend)
    missing = sorted(set(kernels) - set(table))
    if missing:
        raise UnsupportedError(f"no stack figure for kernel {missing[0]}; regenerate {STACK_TABLE.name} "
                               "with python -m tinyengine_compiler.targets.stack")
    return ENTRY_FRAME_BYTES + max((table[k] for k in kernels), default=0)
