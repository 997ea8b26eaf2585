"""fashion-vww (datasets/synthetic_vww.py): seeded, balanced scenes whose label says whether an
item of the target class was pasted, checked against the Fashion-MNIST files' own labels and
pixels; load_split's fashion-vww; and `tte train-sim --dataset fashion-vww` on the example
MCUNet-5FPS."""

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main
from tinyengine_compiler.datasets import synthetic_vww as V
from tinyengine_compiler.datasets import FASHION_MNIST_DIR, _read_idx_pair, load_split, resize_bilinear
from tinyengine_compiler.errors import ConfigError

pytestmark = pytest.mark.skipif(not os.path.isdir(FASHION_MNIST_DIR),
                                reason=f"{FASHION_MNIST_DIR} is missing (Debian package dataset-fashion-mnist)")

SNEAKER = 7


@pytest.fixture(scope="module")
def items():
    images, labels = _read_idx_pair("train", FASHION_MNIST_DIR)
    return images[:3000], labels[:3000]


@pytest.fixture(scope="module")
def scenes(items):
    return V.make_vww(*items, SNEAKER, 40, seed=3, return_layout=True)


def _pasted(images, item):
    """The item as pasted: its 28x28 source resized to side x side and rounded."""
    up = resize_bilinear(images[item.index].astype(np.float64)[:, :, None], item.side)[:, :, 0]
    return np.clip(np.round(up), 0, 255).astype(np.uint8)


def test_shapes_dtypes_and_balanced_shuffled_labels(scenes):
    x, y, layouts = scenes
    assert x.shape == (40, 128, 128, 3) and x.dtype == np.uint8
    assert y.shape == (40,) and y.dtype == np.int64
    assert sorted(y.tolist()) == [0] * 20 + [1] * 20
    assert y[:20].tolist() != [0] * 20 and y[:20].tolist() != [1] * 20, "labels not shuffled"
    assert np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 0], x[..., 2])
    assert len(layouts) == 40


def test_same_seed_same_scenes_other_seed_other_scenes(items, scenes):
    x, y = V.make_vww(*items, SNEAKER, 40, seed=3)
    assert np.array_equal(x, scenes[0]) and np.array_equal(y, scenes[1])
    x2, y2 = V.make_vww(*items, SNEAKER, 40, seed=4)
    assert not np.array_equal(x2, x)


def test_positives_hold_one_target_and_negatives_none(items, scenes):
    images, labels = items
    _, y, layouts = scenes
    for label, layout in zip(y, layouts):
        # classes from the source file's labels, not from what the layout says about itself
        classes = [int(labels[it.index]) for it in layout]
        assert classes == [it.cls for it in layout]
        assert 1 <= len(layout) <= 3
        assert classes.count(SNEAKER) == (1 if label == 1 else 0)
    counts = {k: sorted(len(l) for l, v in zip(layouts, y) if v == k) for k in (0, 1)}
    assert set(counts[0]) == set(counts[1]) == {1, 2, 3}


def test_layout_matches_the_pixels_and_every_item_shows(items, scenes):
    images, _ = items
    x, y, layouts = scenes
    for scene, layout in zip(x[..., 0], layouts):
        covered = np.zeros(scene.shape, bool)
        for it in layout:
            assert V.MIN_SIDE <= it.side <= V.MAX_SIDE
            assert 0 <= it.top <= 128 - it.side and 0 <= it.left <= 128 - it.side
            box = scene[it.top:it.top + it.side, it.left:it.left + it.side]
            item = _pasted(images, it)
            assert np.all(box >= item), "pasting with max() never darkens an item"
            ink = item > V.BG_MAX
            assert ink.sum() >= V.MIN_INK
            # the item's own ink, brighter than any background, appears with its own values
            assert np.mean(box[ink] == item[ink]) >= V.MIN_VISIBLE
            covered[it.top:it.top + it.side, it.left:it.left + it.side] = True
        assert scene[~covered].max() <= V.BG_MAX, "the background is dark outside the items"
        assert scene[~covered].std() > 2, "the background is textured, not flat"


def test_bad_arguments(items):
    with pytest.raises(ValueError, match="even"):
        V.make_vww(*items, SNEAKER, 3, seed=0)
    with pytest.raises(ValueError, match="class 11"):
        V.make_vww(*items, 11, 2, seed=0)
    assert V.make_vww(*items, SNEAKER, 0, seed=0)[0].shape == (0, 128, 128, 3)


def test_load_split_fashion_vww():
    tr_x, tr_y, te_x, te_y = load_split("fashion-vww", [0, 1], 3, 2, 128)
    assert tr_x.shape == (6, 128, 128, 3) and te_x.shape == (4, 128, 128, 3) and tr_x.dtype == np.uint8
    assert sorted(tr_y.tolist()) == [0, 0, 0, 1, 1, 1] and sorted(te_y.tolist()) == [0, 0, 1, 1]
    again = load_split("fashion-vww", [0, 1], 3, 2, 128)
    assert np.array_equal(again[0], tr_x) and np.array_equal(again[2], te_x)
    assert not np.array_equal(tr_x[:4], te_x), "train and test use different seeds and item files"
    with pytest.raises(ConfigError, match="fashion-vww"):
        load_split("fashion-vww", [0, 2], 3, 2, 128)


def test_the_validation_split_of_fashion_vww_comes_from_the_training_canvases():
    """Held out for tte search: 2(N + M) canvases of training-file items, the first N of each
    class train and the next M validate; no test canvas among them."""
    tr_x, tr_y, va_x, va_y = load_split("fashion-vww", [0, 1], 3, 2, 128, validation=True)
    pool_x, pool_y = V.make_vww(*_read_idx_pair("train", FASHION_MNIST_DIR), SNEAKER, 10, seed=1)
    for label in (0, 1):
        of = pool_x[pool_y == label]
        assert np.array_equal(tr_x[tr_y == label], of[:3]) and np.array_equal(va_x[va_y == label], of[3:5])
    test_x = load_split("fashion-vww", [0, 1], 3, 2, 128)[2]
    assert not any(np.array_equal(v, t) for v in va_x for t in test_x)


def test_the_validation_split_of_fashion_vww_never_reads_the_test_file(monkeypatch):
    from tinyengine_compiler import datasets

    read = datasets._read_idx_pair

    def training_file_only(prefix, folder):
        assert prefix == "train", f"read the {prefix} file"
        return read(prefix, folder)
    monkeypatch.setattr(datasets, "_read_idx_pair", training_file_only)
    assert load_split("fashion-vww", [0, 1], 1, 1, 128, validation=True)[2].shape == (2, 128, 128, 3)


def test_train_sim_runs_on_fashion_vww(example_models):
    r = CliRunner().invoke(main, [
        "train-sim", example_models["mcunet-5fps"]["int8"], "--update", "last-layer", "--num-classes", "2",
        "--dataset", "fashion-vww", "--classes", "0,1", "--train-per-class", "2", "--test-per-class", "2",
        "--epochs", "1", "--lr", "0.01", "--json"])
    assert r.exit_code == 0, r.output
    epochs = json.loads(r.output.strip().splitlines()[-1])["epochs"]
    assert len(epochs) == 1 and np.isfinite(epochs[0]["loss"]) and 0.0 <= epochs[0]["test_acc"] <= 1.0
