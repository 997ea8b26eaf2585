"""Deterministic natural test images: crops of scikit-learn's two sample photos, plus noise.

`sample_images(n, size)` returns n uint8 images of shape (size, size, 3).  Image i is a seeded
random square crop (70-100% of the short side) of china.jpg (even i) or flower.jpg (odd i), resized with Pillow's bilinear
filter, with Gaussian noise (sigma 3) added.  The same n and size always give the same images.
"""

from __future__ import annotations

import numpy as np


def sample_images(n: int, size: int = 128, seed: int = 0) -> np.ndarray:
    from PIL import Image
    from sklearn.datasets import load_sample_image

    photos = [load_sample_image("china.jpg"), load_sample_image("flower.jpg")]
    rng = np.random.default_rng(seed)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        photo = photos[i % 2]
        h, w = photo.shape[:2]
        side = int(rng.integers(int(0.7 * min(h, w)), min(h, w) + 1))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = Image.fromarray(photo[top:top + side, left:left + side]).resize((size, size), Image.BILINEAR)
        noisy = np.asarray(crop, np.float32) + rng.normal(0.0, 3.0, (size, size, 3))
        out[i] = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    return out


def china(size: int = 128) -> np.ndarray:
    """china.jpg resized (whole photo, bilinear) to size x size, uint8 HWC."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    return np.asarray(Image.fromarray(load_sample_image("china.jpg")).resize((size, size), Image.BILINEAR))
