"""ctypes mirrors of runtime_c/include/tte_types.h and thin callers for each kernel.

Each caller takes numpy arrays and plain ints, copies the inputs into C-contiguous arrays of
the exact dtype, calls the kernel and returns (status, output).
"""

from __future__ import annotations

import ctypes as C

import numpy as np

from tinyengine_compiler.codegen.structs import STRUCTS

i32 = C.c_int32
P8 = C.POINTER(C.c_int8)
P32 = C.POINTER(C.c_int32)

TTE_OK = 0
TTE_ERR_ARG = -1


_CTYPES = {"int32_t": C.c_int32, "uint32_t": C.c_uint32, "float": C.c_float, "void *": C.c_void_p,
           "const int8_t *": C.POINTER(C.c_int8), "const int32_t *": C.POINTER(C.c_int32)}


def _mirror(name: str) -> type:
    """The ctypes Structure of tte_types.h struct `name`, from its one description."""
    return type(name, (C.Structure,), {"_fields_": [(f, _CTYPES[t]) for f, t in STRUCTS[name].fields]})


Dims, Ctx, ConvParams, FcParams, PerChannelQuant, AddParams, PoolParams, AvgRequant, GapParams = map(_mirror, (
    "tte_dims", "tte_ctx", "tte_conv_params", "tte_fc_params", "tte_per_channel_quant", "tte_add_params",
    "tte_pool_params", "tte_avg_requant", "tte_gap_params"))
RealLogitsParams, SoftmaxCeParams, ClampGradParams, ConvGradParams, FcGradParams, SgdParams = map(_mirror, (
    "tte_real_logits_params", "tte_softmax_ce_params", "tte_clamp_grad_params", "tte_conv_grad_params",
    "tte_fc_grad_params", "tte_sgd_params"))
Rescale, MulParams, MulGradParams, Rows, SplitFilter = map(_mirror, (
    "tte_rescale", "tte_mul_params", "tte_mul_grad_params", "tte_rows", "tte_split_filter"))

f32 = C.c_float
PF = C.POINTER(C.c_float)
PU32 = C.POINTER(C.c_uint32)

SCALE_PER_TENSOR, SCALE_PER_ROW, SCALE_PER_COLUMN = 0, 1, 2

# (symbol, argtypes after ctx) of the float32 training kernels
_PD, _PR = C.POINTER(Dims), C.POINTER(Rows)
BACKWARD_SIGNATURES = {
    "tte_real_logits_f32": [C.POINTER(RealLogitsParams), PF, _PD, P8, _PD, P8, P32, _PD, PF],
    "tte_softmax_cross_entropy_f32": [C.POINTER(SoftmaxCeParams), _PD, PF, P32, PF, PF],
    "tte_clamp_grad_f32": [C.POINTER(ClampGradParams), _PD, PF, P8, PF],
    "tte_conv2d_grad_input_f32": [C.POINTER(ConvGradParams), _PD, PF, _PD, P8, PF, _PD, PF],
    "tte_depthwise_conv2d_grad_input_f32": [C.POINTER(ConvGradParams), _PD, PF, _PD, P8, PF, _PD, PF],
    "tte_fully_connected_grad_input_f32": [_PD, PF, _PD, P8, PF, _PD, PF],
    "tte_conv2d_grad_weight_f32": [C.POINTER(ConvGradParams), _PD, P8, _PD, PF, P32, _PR, _PD, PF],
    "tte_depthwise_conv2d_grad_weight_f32": [C.POINTER(ConvGradParams), _PD, P8, _PD, PF, P32, _PD, PF],
    "tte_fully_connected_grad_weight_f32": [C.POINTER(FcGradParams), _PD, P8, _PD, PF, P32, _PR, _PD, PF],
    "tte_bias_grad_f32": [_PD, PF, _PD, PF],
    "tte_global_avg_pool_grad_f32": [_PD, PF, _PD, PF],
    "tte_avg_pool2d_grad_f32": [C.POINTER(PoolParams), _PD, PF, _PD, _PD, PF],
    "tte_max_pool2d_grad_f32": [C.POINTER(PoolParams), _PD, PF, C.POINTER(C.c_uint8), _PD, _PD, PF],
    "tte_grad_move_channels_f32": [_PD, PF, P32, P32, i32, _PD, PF],
    "tte_lut_grad_f32": [PF, _PD, PF, P8, PF],
    "tte_mul_grad_f32": [C.POINTER(MulGradParams), _PD, PF, _PD, P8, _PD, PF],
    "tte_grad_accumulate_f32": [_PD, PF, PF, PF],
    "tte_sgd_update_f32": [C.POINTER(SgdParams), _PD, _PD, PF, PF, P32, _PR, PF, P8, PF],
    "tte_sgd_update_int": [C.POINTER(SgdParams), _PD, _PD, PF, PF, P32, _PR, P8, P32, PU32, PF],
}

# (symbol, argtypes after ctx) of the int8 forward kernels called through `call`
FORWARD_SIGNATURES = {
    "tte_max_pool2d_s8": [C.POINTER(PoolParams), C.POINTER(Rescale), _PD, P8, _PD, _PD, P8],
    "tte_copy_channels_s8": [C.POINTER(Rescale), _PD, P8, P32, P32, i32, _PD, P8],
    "tte_lut_s8": [P8, _PD, P8, P8],
    "tte_mul_s8": [C.POINTER(MulParams), _PD, P8, _PD, P8, P8],
}

# (symbol, argtypes after ctx) of the kernels that read a split weight (tte_kernels.h "SPLIT
# STORAGE"), with the twin each must equal
_PS = C.POINTER(SplitFilter)
SPLIT_SIGNATURES = {
    "tte_conv2d_1x1_split_s8": [C.POINTER(ConvParams), C.POINTER(PerChannelQuant), _PD, P8, _PD, _PS, P32, _PD, P8],
    "tte_conv2d_grad_input_split_f32": [C.POINTER(ConvGradParams), _PD, PF, _PD, _PS, PF, _PD, PF],
}

# (symbol, argtypes after ctx) of the saved-state kernels (tte_kernels.h "SAVED STATE")
PU8 = C.POINTER(C.c_uint8)
SAVED_STATE_SIGNATURES = {
    "tte_pack_mask_s8": [C.POINTER(ClampGradParams), _PD, P8, PU8],
    "tte_clamp_grad_mask_f32": [_PD, PF, PU8, PF],
    "tte_gather_channels_s8": [_PD, P8, P32, _PD, P8],
    "tte_max_pool2d_argmax_s8": [C.POINTER(PoolParams), _PD, P8, _PD, _PD, C.POINTER(C.c_uint8)],
    "tte_depthwise_conv2d_grad_weight_kept_f32": [C.POINTER(ConvGradParams), _PD, P8, _PD, PF, P32, _PD, PF],
}

# (symbol, argtypes after ctx) of the channel-at-a-time kernels (tte_kernels.h "FROZEN-PREFIX
# MEMORY SAVERS"); they need a real scratch context (tests/c/test_fused_kernels.py)
_CP, _Q = C.POINTER(ConvParams), C.POINTER(PerChannelQuant)
FROZEN_PREFIX_SIGNATURES = {
    "tte_fused_expand_depthwise_s8": [_CP, _Q, _CP, _Q, _PD, P8, _PD, P8, P32, _PD, P8, P32, _PD, P8],
    "tte_depthwise_conv2d_inplace_s8": [_CP, _Q, _PD, P8, _PD, P8, P32, _PD, P8],
    "tte_depthwise_conv2d_grad_input_inplace_f32": [C.POINTER(ConvGradParams), _PD, PF, _PD, P8, PF, _PD, PF],
}


def dims(shape) -> Dims:
    s = tuple(int(v) for v in shape)
    s = (1,) * (4 - len(s)) + s if len(s) < 4 else s
    return Dims(*s)


def _p8(a: np.ndarray):
    return a.ctypes.data_as(P8)


def _p32(a: np.ndarray | None):
    return None if a is None else a.ctypes.data_as(P32)


def _pf(a: np.ndarray | None):
    return None if a is None else a.ctypes.data_as(PF)


def f32c(a) -> np.ndarray:
    """A C-contiguous float32 copy (the C may write into it)."""
    return np.array(a, np.float32, copy=True, order="C")


class Runtime:
    """The kernels of one compiled libtte*.so."""

    def __init__(self, path):
        self.lib = lib = C.CDLL(str(path))
        PD = C.POINTER(Dims)
        weighted = [C.POINTER(Ctx), C.c_void_p, C.POINTER(PerChannelQuant), PD, P8, PD, P8, P32, PD, P8]
        for name in ("tte_conv2d_s8", "tte_conv2d_1x1_s8", "tte_depthwise_conv2d_s8",
                     "tte_fully_connected_s8"):
            getattr(lib, name).argtypes = weighted
            getattr(lib, name).restype = C.c_int
        lib.tte_add_s8.argtypes = [C.POINTER(Ctx), C.POINTER(AddParams), PD, P8, P8, P8]
        lib.tte_global_avg_pool_s8.argtypes = [C.POINTER(Ctx), C.POINTER(GapParams), PD, P8, PD, P8]
        lib.tte_avg_pool2d_s8.argtypes = [C.POINTER(Ctx), C.POINTER(PoolParams), C.POINTER(AvgRequant),
                                          PD, P8, PD, PD, P8]
        lib.tte_test_requantize.argtypes = [i32, i32, i32]
        lib.tte_test_requantize.restype = i32
        self.scratch_fns = {}
        for name in ("conv2d", "conv2d_1x1", "depthwise_conv2d", "fully_connected", "add",
                     "global_avg_pool", "avg_pool2d"):
            fn = getattr(lib, f"tte_{name}_s8_scratch_bytes")
            fn.argtypes = [PD, PD, PD]
            fn.restype = i32
            self.scratch_fns[f"tte_{name}_s8"] = fn
        for name, args in {**BACKWARD_SIGNATURES, **SAVED_STATE_SIGNATURES, **FROZEN_PREFIX_SIGNATURES,
                           **SPLIT_SIGNATURES, **FORWARD_SIGNATURES}.items():
            fn = getattr(lib, name)
            fn.argtypes = [C.POINTER(Ctx), *args]
            fn.restype = C.c_int
            fn = getattr(lib, f"{name}_scratch_bytes")
            fn.argtypes = [PD, PD, PD]
            fn.restype = i32
            self.scratch_fns[name] = fn
        for name in ("expf", "logf", "roundf"):
            getattr(lib, f"tte_test_{name}").argtypes = [PF, PF, i32]
            getattr(lib, f"tte_test_{name}").restype = None

    def mathf(self, name: str, x) -> np.ndarray:
        """tte_<name> of tte_mathf.h (expf, logf, roundf) over an array, through shim_mathf.c."""
        x = f32c(np.ravel(x))
        y = np.zeros_like(x)
        getattr(self.lib, f"tte_test_{name}")(_pf(x), _pf(y), x.size)
        return y

    def call(self, symbol: str, *args) -> int:
        """Call a kernel with ctx NULL; numpy arrays are passed as pointers (int8, uint8, int32,
        uint32 or float32 by dtype), tuples as tte_dims, ctypes structures by reference, ints as they are."""
        conv = []
        for a in args:
            if a is None:
                conv.append(None)
            elif isinstance(a, tuple):
                conv.append(C.byref(dims(a)))
            elif isinstance(a, C.Structure):
                conv.append(C.byref(a))
            elif isinstance(a, int):
                conv.append(a)
            else:
                assert a.flags.c_contiguous, symbol
                conv.append({np.dtype(np.int8): _p8, np.dtype(np.int32): _p32,
                             np.dtype(np.float32): _pf,
                             np.dtype(np.uint8): lambda u: u.ctypes.data_as(PU8),
                             np.dtype(np.uint32): lambda u: u.ctypes.data_as(PU32)}[a.dtype](a))
        return getattr(self.lib, symbol)(None, *conv)

    def requantize(self, val: int, mult: int, shift: int) -> int:
        return self.lib.tte_test_requantize(val, mult, shift)

    def scratch_bytes(self, symbol: str, in_shape, filter_shape, out_shape) -> int:
        fd = None if filter_shape is None else C.byref(dims(filter_shape))
        return self.scratch_fns[symbol](C.byref(dims(in_shape)), fd, C.byref(dims(out_shape)))

    def weighted(self, symbol, params, x, w, bias, mult, shift, out_shape):
        """Call a conv / depthwise / fully-connected kernel; NHWC x, weights as in the header."""
        x = np.ascontiguousarray(x, np.int8)
        w = np.ascontiguousarray(w, np.int8)
        b = None if bias is None else np.ascontiguousarray(bias, np.int32)
        m = np.ascontiguousarray(mult, np.int32)
        s = np.ascontiguousarray(shift, np.int32)
        out = np.zeros(out_shape, np.int8)
        q = PerChannelQuant(_p32(m), _p32(s))
        wshape = w.shape if w.ndim == 4 else (w.shape[0], 1, 1, w.shape[1])
        st = getattr(self.lib, symbol)(None, C.byref(params), C.byref(q), C.byref(dims(x.shape)), _p8(x),
                                       C.byref(dims(wshape)), _p8(w), _p32(b),
                                       C.byref(dims(out_shape)), _p8(out))
        return st, out

    def add(self, params: AddParams, a, b, *, inplace: str | None = None):
        """inplace: None, "a" (output is a's buffer) or "b"."""
        a = np.array(a, np.int8, copy=True, order="C")
        b = np.array(b, np.int8, copy=True, order="C")
        out = {"a": a, "b": b}.get(inplace) if inplace else np.zeros_like(a)
        st = self.lib.tte_add_s8(None, C.byref(params), C.byref(dims(a.shape)), _p8(a), _p8(b), _p8(out))
        return st, out.copy()

    def global_avg_pool(self, params: GapParams, x):
        """params.multiplier 0: input and output share their quantization."""
        x = np.ascontiguousarray(x, np.int8)
        oshape = (x.shape[0], 1, 1, x.shape[3])
        out = np.zeros(oshape, np.int8)
        st = self.lib.tte_global_avg_pool_s8(None, C.byref(params), C.byref(dims(x.shape)), _p8(x),
                                             C.byref(dims(oshape)), _p8(out))
        return st, out

    def avg_pool2d(self, params: PoolParams, x, kernel, out_shape, requant=None):
        """requant: None (equal qparams) or (input_offset, output_offset, mults, shifts) per count."""
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros(out_shape, np.int8)
        common = (C.byref(dims(x.shape)), _p8(x), C.byref(Dims(1, kernel[0], kernel[1], 1)),
                  C.byref(dims(out_shape)), _p8(out))
        if requant is None:
            st = self.lib.tte_avg_pool2d_s8(None, C.byref(params), None, *common)
        else:
            in_off, out_off, mults, shifts = requant
            m = np.ascontiguousarray(mults, np.int32)
            s = np.ascontiguousarray(shifts, np.int32)
            rq = AvgRequant(in_off, out_off, _p32(m), _p32(s))
            st = self.lib.tte_avg_pool2d_s8(None, C.byref(params), C.byref(rq), *common)
        return st, out
