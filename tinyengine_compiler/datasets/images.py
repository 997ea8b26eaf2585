"""Reading image files, and the resizing shared by the data sets (the loaders and the synthetic
visual-wake-words canvases) and the calibration images of `tte quantize`."""

from __future__ import annotations

import os

import numpy as np

from ..errors import ConfigError

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg")   # read with Pillow
IMAGE_SUFFIXES = (*PICTURE_SUFFIXES, ".npy")    # every image file `read_image` reads


def image_files(folder: str) -> list[str]:
    """The image files of `folder`, by name; hidden ones (".DS_Store", macOS "._x.jpg") are not."""
    return sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_SUFFIXES) and not f.startswith("."))


def read_array(path: str) -> np.ndarray:
    """A .npy array, or a one-line ConfigError."""
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:
        raise ConfigError(f"{path}: not a readable .npy array ({type(e).__name__})") from None


def read_image(path: str) -> np.ndarray:
    """A .npy array as it is, or a PNG or JPEG of any mode as uint8 HxWx3 RGB (a 16-bit grey PNG
    keeps its top 8 bits; the EXIF orientation is not applied, as torchvision's and Keras' folder
    readers do not)."""
    if path.lower().endswith(".npy"):
        return read_array(path)
    try:
        from PIL import Image
    except ImportError:
        raise ConfigError(f"{path}: reading PNG and JPEG images needs Pillow (pip install pillow)") from None
    try:
        with Image.open(path) as im:
            if im.mode.startswith("I;16"):
                return (np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8)
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except Exception as e:   # a truncated or foreign file: PIL raises OSError, ValueError, SyntaxError...
        raise ConfigError(f"{path}: not a readable image ({type(e).__name__})") from None


def resize_bilinear(im: np.ndarray, size: int) -> np.ndarray:
    """HxWxC float -> size x size x C, bilinear with half-pixel centres, edges clamped."""
    def axis(n_in):
        pos = np.clip((np.arange(size) + 0.5) * (n_in / size) - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, pos - lo
    r0, r1, fr = axis(im.shape[0])
    c0, c1, fc = axis(im.shape[1])
    rows = im[r0] * (1 - fr)[:, None, None] + im[r1] * fr[:, None, None]
    return rows[:, c0] * (1 - fc)[None, :, None] + rows[:, c1] * fc[None, :, None]
