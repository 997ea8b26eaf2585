"""Element-wise activations as lookup tables: the LUT op's values, computed once at import.

A LUT node carries `function` and its parameters (`alpha`, `beta`, `lo`, `hi`, `mid_scale`,
`mid_zero_point`); in an int8 graph also `table` (the int8 output for each int8 input
-128 .. 127) and `slope` (the straight-through derivative dy/dx in the real domain at each
input, 0 where y is at or past the real value of int8 -128 or 127: where the output
saturates), both made here from the input and output quantization.  reference/backward/lut.py
applies the same test to real inputs.

Functions (x and y real, hs(x) = max(0, min(1, alpha * x + beta))), one `ACTIVATIONS` entry each:
    clip             y = min(max(x, lo), hi)          (Relu, Relu6, Clip not fused into an op)
    hardsigmoid      y = hs(x)
    hardswish        y = x * hs(x), alpha = 1/6, beta = 1/2 (ONNX HardSwish)
    leakyrelu        y = x where x >= 0, else alpha * x (ONNX LeakyRelu)
    sigmoid          y = 1 / (1 + exp(-x))            (ONNX Sigmoid)
    tanh             y = tanh(x)                      (ONNX Tanh)
    mul_hardsigmoid  y = x * hs(x): `Mul(x, HardSigmoid(x))`, hard-swish as older exporters
                     write it, fused at import; in a QDQ model hs(x) is quantized in between
                     (to mid_scale, mid_zero_point) exactly as onnxruntime does, so the fused
                     table equals the two ops.  Its slope is the straight-through one,
                     hs(x) + x * hs'(x).

The int8 table follows onnxruntime's QDQ graph step by step in float32: x = float(q - zp) * s,
the function in float32 in the order above, then y_q = saturate(round_half_to_even(y / s_out)
+ zp_out); so a LUT equals onnxruntime's dequantize-op-quantize result (up to its float
library's rounding of the same expressions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .dtypes import QParams

HARDSWISH = {"alpha": 1.0 / 6.0, "beta": 0.5}   # ONNX HardSwish is x * HardSigmoid(x) with these
F32 = np.float32
Function = Callable[[np.ndarray, dict], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """One element-wise function: its real value and derivative in x's float dtype, and the
    ONNX op the front end imports as this LUT with that op's attributes and their ONNX defaults
    (no op: the front end makes the LUT some other way)."""
    real: Function
    derivative: Function
    onnx_op: str | None = None
    onnx_attrs: tuple[tuple[str, float], ...] = ()


def _hard_sigmoid(x: np.ndarray, attrs: dict) -> np.ndarray:
    dtype = x.dtype.type
    return np.maximum(dtype(0), np.minimum(dtype(1), x * dtype(attrs["alpha"]) + dtype(attrs["beta"])))


def _hard_sigmoid_slope(x: np.ndarray, attrs: dict) -> np.ndarray:
    dtype = x.dtype.type
    z = x * dtype(attrs["alpha"]) + dtype(attrs["beta"])
    return np.where((z > 0) & (z < 1), dtype(attrs["alpha"]), dtype(0))


def _x_hard_sigmoid(x: np.ndarray, attrs: dict) -> np.ndarray:
    return x * _hard_sigmoid(x, attrs)


def _x_hard_sigmoid_slope(x: np.ndarray, attrs: dict) -> np.ndarray:
    return _hard_sigmoid(x, attrs) + x * _hard_sigmoid_slope(x, attrs)


def _clip(x: np.ndarray, attrs: dict) -> np.ndarray:
    lo, hi = attrs.get("lo"), attrs.get("hi")
    dtype = x.dtype.type
    return np.clip(x, -np.inf if lo is None else dtype(lo), np.inf if hi is None else dtype(hi))


def _clip_slope(x: np.ndarray, attrs: dict) -> np.ndarray:
    lo, hi = attrs.get("lo"), attrs.get("hi")
    inside = (x > (-np.inf if lo is None else lo)) & (x < (np.inf if hi is None else hi))
    return np.where(inside, x.dtype.type(1), x.dtype.type(0))


def _sigmoid(x: np.ndarray, attrs: dict) -> np.ndarray:
    with np.errstate(over="ignore"):   # exp(-x) is inf far below 0, where the sigmoid is 0
        return x.dtype.type(1) / (x.dtype.type(1) + np.exp(-x))


def _sigmoid_slope(x: np.ndarray, attrs: dict) -> np.ndarray:
    """s(x) * s(-x): the same as s * (1 - s) without the cancellation of 1 - s where s nears 1."""
    return _sigmoid(x, attrs) * _sigmoid(-x, attrs)


def _tanh_slope(x: np.ndarray, attrs: dict) -> np.ndarray:
    """1 - tanh(x)^2 as 4e / (1 + e)^2, e = exp(-2|x|): no cancellation where tanh nears +-1,
    and no overflow."""
    e = np.exp(x.dtype.type(-2) * np.abs(x))
    return x.dtype.type(4) * e / ((x.dtype.type(1) + e) * (x.dtype.type(1) + e))


ACTIVATIONS: dict[str, Activation] = {
    # Relu and Clip with nothing to fuse into (the front end's clamp handler makes them)
    "clip": Activation(_clip, _clip_slope),
    "hardsigmoid": Activation(_hard_sigmoid, _hard_sigmoid_slope, "HardSigmoid", (("alpha", 0.2), ("beta", 0.5))),
    "hardswish": Activation(lambda x, a: _x_hard_sigmoid(x, HARDSWISH),
                            lambda x, a: _x_hard_sigmoid_slope(x, HARDSWISH), "HardSwish"),
    "leakyrelu": Activation(lambda x, a: np.where(x >= 0, x, x * x.dtype.type(a["alpha"])),
                            lambda x, a: np.where(x > 0, x.dtype.type(1), x.dtype.type(a["alpha"])),
                            "LeakyRelu", (("alpha", 0.01),)),
    "sigmoid": Activation(_sigmoid, _sigmoid_slope, "Sigmoid"),
    "tanh": Activation(lambda x, a: np.tanh(x), _tanh_slope, "Tanh"),
    # Mul(x, HardSigmoid(x)), fused by the front end's Mul handler
    "mul_hardsigmoid": Activation(_x_hard_sigmoid, _x_hard_sigmoid_slope),
}
FUNCTIONS = tuple(ACTIVATIONS)
ONNX_ACTIVATIONS = {a.onnx_op: name for name, a in ACTIVATIONS.items() if a.onnx_op is not None}


def real(function: str, x: np.ndarray, attrs: dict) -> np.ndarray:
    """y of the real-valued function, in x's float dtype (mul_hardsigmoid without its middle
    quantization)."""
    return ACTIVATIONS[function].real(x, attrs)


def derivative(function: str, x: np.ndarray, attrs: dict) -> np.ndarray:
    """dy/dx of `real`; at a kink, the value on its flat side (0 at a clip bound and where hs
    reaches 0 or 1)."""
    return ACTIVATIONS[function].derivative(x, attrs)


def _quantize(y: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    q = np.rint(y / F32(scale)) + zero_point   # rint: half to even, as onnxruntime
    return np.clip(q, -128, 127).astype(np.int64)


def _dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.int64) - zero_point).astype(F32) * F32(scale)


def int8_tables(function: str, attrs: dict, q_in: QParams,
                q_out: QParams) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """(table, slope) of a LUT over every int8 input (module docstring)."""
    x = _dequantize(np.arange(-128, 128), q_in.scale[0], q_in.zero_point[0])
    if function == "mul_hardsigmoid" and "mid_scale" in attrs:
        mid = attrs["mid_scale"], attrs["mid_zero_point"]
        y = x * _dequantize(_quantize(_hard_sigmoid(x, attrs), *mid), *mid)
    else:
        y = real(function, x, attrs)
    table = _quantize(y, q_out.scale[0], q_out.zero_point[0])
    lo, hi = _dequantize(np.array([-128, 127]), q_out.scale[0], q_out.zero_point[0])
    slope = np.where((y > lo) & (y < hi), derivative(function, x, attrs), F32(0)).astype(F32)
    return tuple(int(v) for v in table), tuple(float(v) for v in slope)
