"""Image resizing shared by the data sets (the loaders and the synthetic visual-wake-words canvases)."""

from __future__ import annotations

import numpy as np


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
