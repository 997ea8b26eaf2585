"""The compact saved state of backward (passes/lifetimes.py `backward_reads`), as plain
functions over arrays: what the forward pass keeps instead of a whole int8 activation.

  pack_mask(y, act_min, act_max)  the `<t>.mask` bytes: element i (flat, NHWC order) is bit
                                  i % 8 of byte i // 8, LSB first, 1 where act_min < y <
                                  act_max; unused high bits of the last byte are 0
  unpack_mask(mask, count)        the bool array back (what CLAMP_GRAD reads)
  gather_channels(x, channels)    the `<t>.kept.<reader>` tensor: x[..., channels]

These are not OpKinds: codegen calls their C kernels (tte_pack_mask_s8,
tte_gather_channels_s8) when the tensor is produced, and its tests can use these to predict
the arena's bytes.
"""

from __future__ import annotations

import numpy as np


def pack_mask(y: np.ndarray, act_min: int | None, act_max: int | None) -> np.ndarray:
    lo, hi = (-128 if act_min is None else act_min), (127 if act_max is None else act_max)
    y = np.asarray(y).ravel()
    return np.packbits((y > lo) & (y < hi), bitorder="little")


def unpack_mask(mask: np.ndarray, count: int) -> np.ndarray:
    return np.unpackbits(np.asarray(mask, np.uint8), count=count, bitorder="little").astype(bool)


def gather_channels(x: np.ndarray, channels) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x)[..., list(channels)])
