"""Element types and quantization parameters.

Quantization follows TFLite/CMSIS-NN: real = scale * (q - zero_point).  Activations are
asymmetric int8 with one (scale, zero_point) per tensor; weights are symmetric int8 with one
scale per output channel (zero_point 0, `axis` names the channel dimension); biases are int32
at scale s_in * s_w[c].  Scales are kept as float32 values (ONNX stores them as float32), held
in Python floats so that JSON round trips are exact.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np


class DType(str, enum.Enum):
    INT8 = "int8"
    UINT8 = "uint8"
    INT32 = "int32"
    FLOAT32 = "float32"

    @property
    def itemsize(self) -> int:
        return np.dtype(self.value).itemsize

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.value)


@dataclass(frozen=True)
class QParams:
    """Per-tensor (`axis is None`, one entry) or per-channel quantization parameters."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int | None = None

    def __post_init__(self):
        if len(self.scale) != len(self.zero_point):
            raise ValueError("scale and zero_point must have the same length")
        if self.axis is None and len(self.scale) != 1:
            raise ValueError("per-tensor QParams take exactly one scale")

    @staticmethod
    def make(scale, zero_point=0, axis: int | None = None) -> "QParams":
        """Build from scalars or arrays; scales are rounded to float32 as ONNX stores them."""
        s = np.atleast_1d(np.asarray(scale, dtype=np.float32))
        z = np.atleast_1d(np.asarray(zero_point, dtype=np.int64))
        if z.size == 1 and s.size > 1:
            z = np.full(s.shape, int(z[0]))
        return QParams(tuple(float(v) for v in s), tuple(int(v) for v in z), axis)

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    def scales(self) -> np.ndarray:
        return np.asarray(self.scale, dtype=np.float32)

    def zeros(self) -> np.ndarray:
        return np.asarray(self.zero_point, dtype=np.int32)

    def to_json(self) -> dict:
        return {"scale": list(self.scale), "zero_point": list(self.zero_point), "axis": self.axis}

    @staticmethod
    def from_json(d: dict) -> "QParams":
        return QParams(tuple(float(v) for v in d["scale"]), tuple(int(v) for v in d["zero_point"]), d["axis"])
