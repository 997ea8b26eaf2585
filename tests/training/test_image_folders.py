"""`--dataset DIR`: a folder of class subfolders of PNG, JPEG and .npy images, as users keep
them (datasets/__init__.py).  Expected pixels are written out by hand: a centred square of one
colour survives the crop, the sides of other colours do not."""

from __future__ import annotations

import numpy as np
import pytest

from tinyengine_compiler.datasets import load_split
from tinyengine_compiler.errors import ConfigError

Image = pytest.importorskip("PIL.Image", reason="Pillow reads PNG and JPEG (pip install pillow)")

GREEN = (0, 255, 0)


def _banded(h: int, w: int) -> np.ndarray:
    """An h x w RGB image (w > h): red and blue bands on the sides of a green h x h centre."""
    im = np.zeros((h, w, 3), np.uint8)
    side = (w - h) // 2
    im[:, :side] = (255, 0, 0)
    im[:, side:side + h] = GREEN
    im[:, side + h:] = (0, 0, 255)
    return im


@pytest.fixture
def folder(tmp_path):
    """Two classes ("a_cats" first by name, then "b_dogs"), three images each, of every kind."""
    cats, dogs = tmp_path / "a_cats", tmp_path / "b_dogs"
    cats.mkdir()
    dogs.mkdir()
    Image.fromarray(_banded(40, 60)).save(cats / "1.png")
    Image.fromarray(np.full((50, 30), 128, np.uint8), mode="L").save(cats / "2.JPG", quality=95)
    np.save(cats / "3.npy", np.full((20, 20), 7, np.uint8))
    (cats / "notes.txt").write_text("not an image")
    (cats / "._1.png").write_bytes(b"macOS resource fork")   # hidden: skipped
    (tmp_path / ".ipynb_checkpoints").mkdir()                # a hidden folder is no class
    for k in range(3):
        Image.fromarray(np.full((16, 24, 3), 10 * (k + 1), np.uint8)).convert("RGBA").save(dogs / f"{k}.png")
    return tmp_path


def test_png_jpeg_and_npy_images_are_cropped_to_their_centre_and_resized(folder):
    train_x, train_y, test_x, test_y = load_split(str(folder), [0, 1], 2, 1, 32)
    assert train_x.shape == (4, 32, 32, 3) and train_x.dtype == np.uint8
    assert train_y.tolist() == [0, 0, 1, 1] and test_y.tolist() == [0, 1]
    assert (train_x[0] == GREEN).all()                     # 1.png: only its green centre is left
    assert np.abs(train_x[1].astype(int) - 128).max() <= 2  # 2.JPG, grey: three equal channels
    assert (test_x[0] == 7).all()                          # 3.npy, HxW
    assert (train_x[2] == 10).all() and (test_x[1] == 30).all()   # RGBA PNGs lose their alpha


def test_a_16_bit_grey_png_keeps_its_top_8_bits(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.full((8, 8), 0x7F00, np.uint16)).save(tmp_path / "a" / "deep.png")
    train_x, _, _, _ = load_split(str(tmp_path), [0], 1, 0, 4)
    assert (train_x == 0x7F).all()


def test_classes_follow_the_given_ids(folder):
    _, train_y, _, _ = load_split(str(folder), [1, 0], 1, 0, 8)
    assert train_y.tolist() == [0, 1]   # label k is the k-th id asked for: class 1 (b_dogs) first


def test_an_unreadable_image_is_one_line_naming_it(folder):
    (folder / "a_cats" / "0_broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ConfigError, match=r"0_broken\.jpg: not a readable image"):
        load_split(str(folder), [0], 1, 0, 8)


def test_too_few_images_and_a_missing_class_are_errors(folder):
    with pytest.raises(ConfigError, match="class 0 has only 3 images for this split, 4 requested"):
        load_split(str(folder), [0], 4, 0, 8)
    with pytest.raises(ConfigError, match="class 2 does not exist"):
        load_split(str(folder), [2], 1, 0, 8)
