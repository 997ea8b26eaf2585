"""Model inputs from .npy files.

A uint8 HxWx3 image is normalized as the paper's models expect, real = (pixel - 128) / 127.5,
and quantized with the model's input parameters (for the paper's models, x_scale = 1/127.5 and
x_zero = 0, this is exactly q = pixel - 128).  An int8 tensor of the input's NHWC shape (with
or without the batch dimension) is used as is.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelFormatError
from ..ir import Graph

PIXEL_ZERO = 128.0
PIXEL_SCALE = 127.5


def image_to_real(image_u8: np.ndarray) -> np.ndarray:
    """uint8 pixels -> the float values the model was trained on (float32)."""
    return ((image_u8.astype(np.float32) - np.float32(PIXEL_ZERO)) / np.float32(PIXEL_SCALE)).astype(np.float32)


def quantize_image(g: Graph, image_u8: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 (or NHWC) image -> int8 NHWC input tensor, with the graph's input QParams."""
    t = g.tensors[g.inputs[0]]
    qp = t.qparams
    real = image_to_real(image_u8)
    q = np.round(real / np.float32(qp.scale[0])) + qp.zero_point[0]
    return np.clip(q, -128, 127).astype(np.int8).reshape(t.shape)


def load_input(g: Graph, path: str) -> np.ndarray:
    try:
        x = np.load(path, allow_pickle=False)
    except Exception as e:
        raise ModelFormatError(f"{path}: not a readable .npy array ({type(e).__name__})") from None
    shape = g.tensors[g.inputs[0]].shape
    if x.dtype == np.uint8 and x.shape in (shape[1:], shape):
        return quantize_image(g, x)
    if x.dtype == np.int8 and x.shape in (shape[1:], shape):
        return x.reshape(shape)
    raise ModelFormatError(f"{path}: expected a uint8 image of shape {shape[1:]} or an int8 tensor "
                           f"of shape {shape}, got {x.dtype} {x.shape}")
