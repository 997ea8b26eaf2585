"""A "visual wake words"-like binary task built from Fashion-MNIST: is an item of one target
class somewhere in a cluttered scene?

`make_vww(images, labels, target_class, count, seed)` takes 28x28 uint8 Fashion-MNIST items
and returns `count` scenes (uint8 [count, canvas, canvas, 3], grey repeated to 3 channels) and
their labels (int64, 1 = a target item is present, 0 = absent).  It guarantees:

* exactly count / 2 scenes of each label, in a shuffled order;
* every scene has a textured, noisy background no brighter than BG_MAX, and 1 to 3 items at
  random positions, each resized (`datasets.images.resize_bilinear`) to a random side of
  MIN_SIDE..MAX_SIDE pixels, lying wholly inside the canvas and pasted with max() so that
  overlapping items and the background show through;
* a positive scene holds exactly one item of `target_class` and 0 to 2 items of other classes,
  a negative one 1 to 3 items of other classes, with the same distribution of the number of
  items (so counting items says nothing about the label);
* every item stays recognisable: it has at least MIN_INK source pixels brighter than the
  background can be, and at least MIN_VISIBLE of its pasted pixels brighter than BG_MAX keep
  its own value in the scene (no other item outshines them);
* the result depends only on the arguments: one `numpy.random.default_rng(seed)` draws
  everything.

Not removed: items of different classes differ in size and brightness, so the bright area of a
scene says a little about the label (for sneakers, a threshold on it is right about 60% of the
time, against 50% chance).

The caller chooses the item pool: the Fashion-MNIST train file for a training split and the
t10k file for a test split, so no item appears in both.  `return_layout=True` also returns,
per scene, the pasted items as `Item(cls, index, top, left, side)` (index into `images`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .images import resize_bilinear

MIN_SIDE, MAX_SIDE = 28, 56
MAX_ITEMS = 3
# The background stays below every item pixel that counts as ink, so "visible" means the same
# thing whatever the background does under the item.
BG_MAX = 96
# About 6% of a 28x28 item: the darkest Fashion-MNIST items (some shirts, sandals) are almost
# all below BG_MAX and would vanish into the background, making a label unlearnable.
MIN_INK = 48
MIN_VISIBLE = 0.6
_MAX_TRIES = 1000


class Item(NamedTuple):
    cls: int      # Fashion-MNIST class
    index: int    # row of `images`
    top: int
    left: int
    side: int     # pasted as side x side pixels at rows top.., columns left..


def make_vww(images: np.ndarray, labels: np.ndarray, target_class: int, count: int, seed: int,
             canvas: int = 128, return_layout: bool = False):
    """(x uint8 [count, canvas, canvas, 3], y int64 [count]) and, with return_layout, a list of
    count lists of Item."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.dtype != np.uint8 or len(images) != len(labels):
        raise ValueError("images must be uint8 [N, H, W] with one label each")
    if count < 0 or count % 2:
        raise ValueError(f"count must be even (half positive, half negative), got {count}")
    if canvas < MAX_SIDE:
        raise ValueError(f"canvas {canvas} is smaller than the largest item ({MAX_SIDE} px)")
    usable = (images > BG_MAX).reshape(len(images), -1).sum(axis=1) >= MIN_INK
    targets = np.flatnonzero(usable & (labels == target_class))
    others = np.flatnonzero(usable & (labels != target_class))
    if len(targets) == 0 or len(others) == 0:
        raise ValueError(f"no usable items of class {target_class} or of the other classes")

    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(count) % 2).astype(np.int64)
    x = np.empty((count, canvas, canvas, 3), np.uint8)
    layouts = []
    for i, positive in enumerate(y):
        n_items = int(rng.integers(1, MAX_ITEMS + 1))
        picks = [int(rng.choice(others)) for _ in range(n_items)]
        if positive:
            picks[0] = int(rng.choice(targets))
        scene, layout = _scene(rng, images, labels, picks, canvas)
        x[i] = scene[:, :, None]
        layouts.append(layout)
    return (x, y, layouts) if return_layout else (x, y)


def _background(rng, canvas: int) -> np.ndarray:
    # Smooth blotches at a random scale plus pixel noise: a flat background would let a model
    # find items by any bright pixel, with no need to look at shapes.
    cells = int(rng.integers(3, 9))
    blotches = resize_bilinear(rng.random((cells, cells, 1)), canvas)[:, :, 0]
    level, amplitude = rng.uniform(10, 40), rng.uniform(0, 35)
    bg = level + amplitude * blotches + rng.normal(0, 6, (canvas, canvas))
    return np.clip(np.round(bg), 0, BG_MAX).astype(np.uint8)


def _paste(item: np.ndarray, side: int, top: int, left: int, canvas: int) -> np.ndarray:
    layer = np.zeros((canvas, canvas), np.uint8)
    resized = resize_bilinear(item.astype(np.float64)[:, :, None], side)[:, :, 0]
    layer[top:top + side, left:left + side] = np.clip(np.round(resized), 0, 255).astype(np.uint8)
    return layer


def _visible_enough(layers: list[np.ndarray]) -> bool:
    for j, layer in enumerate(layers):
        ink = layer > BG_MAX
        others = [l for k, l in enumerate(layers) if k != j]
        if not others:
            continue
        shown = layer[ink] >= np.max(others, axis=0)[ink]
        if shown.mean() < MIN_VISIBLE:
            return False
    return True


def _scene(rng, images, labels, picks: list[int], canvas: int):
    bg = _background(rng, canvas)
    # Items are placed one by one, each redrawn (side and position) until every item placed so
    # far is still visible; with at most 3 items of <= 56 px on 128 px this takes a few tries.
    layers, layout = [], []
    for idx in picks:
        for _ in range(_MAX_TRIES):
            side = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
            top, left = (int(v) for v in rng.integers(0, canvas - side + 1, size=2))
            layer = _paste(images[idx], side, top, left, canvas)
            if _visible_enough(layers + [layer]):
                break
        else:
            raise RuntimeError(f"could not place {len(picks)} visible items on a {canvas}px canvas")
        layers.append(layer)
        layout.append(Item(int(labels[idx]), idx, top, left, side))
    order = rng.permutation(len(layout))     # the target is not always the first item listed
    return np.max([bg] + layers, axis=0), [layout[k] for k in order]
