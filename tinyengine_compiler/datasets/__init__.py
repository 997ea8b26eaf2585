"""Small image-classification datasets for `tte train-sim`, as uint8 RGB at the model's size.

* `fashion-mnist`: the Debian package dataset-fashion-mnist (gzipped IDX files under
  /usr/share/datasets/fashion-mnist/); train images from the training file, test images from
  the test file.
* `fashion-vww`: a two-class "visual wake words"-like task built from Fashion-MNIST's items
  (datasets/synthetic_vww.py): label 1 when a sneaker (class 7) is among the 1-3 items on a
  128x128 canvas, 0 when it is not; `classes` must be 0,1.  The training canvases use the
  training file's items (seed 1), the test canvases the test file's (seed 2).
* `digits`: scikit-learn's load_digits (8x8, values 0..16, scaled to 0..255); the first
  N images of each class train and the next M test.
* a folder of class subfolders (sorted by name, class i = the i-th), as users keep their
  images (torchvision's ImageFolder, Keras' image_dataset_from_directory): PNG and JPEG files
  of any size and mode (read with Pillow, converted to RGB) and .npy arrays (uint8 HxW or
  HxWx3); other files, and hidden files and folders, are ignored.  The first N image files of
  each class (sorted by name) train, the next M test.

Grey images are repeated to 3 channels; every image is cropped to the square at its centre
(the longer side loses (long - short) // 2 pixels at its start), resized to size x size with
bilinear interpolation (half-pixel centres, edges clamped) and rounded to uint8.  Labels are the
positions of the chosen classes in `classes` (0..k-1).

With `validation=True` the second set is held out from the training data instead of the test
data, for choosing something (tte search's scheme) without looking at the test images: the
training file's next M images of each class (fashion-mnist), or the canvases of training-file
items after the first N of each class (fashion-vww, 2(N + M) canvases of seed 1).  Digits and
folders have no test file: their next M images are the same either way.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from ..errors import ConfigError
from .images import image_files, read_image, resize_bilinear
from .synthetic_vww import make_vww

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


def load_split(name: str, classes: list[int], train_per_class: int, test_per_class: int, size: int,
               validation: bool = False):
    """(train images [N, S, S, 3] uint8, train labels, test (with `validation`: held-out training)
    images, their labels)."""
    if name == "fashion-mnist":
        train = _read_idx_pair("train", FASHION_MNIST_DIR)
        tr = _take(*train, classes, 0, train_per_class, name)
        if validation:
            te = _take(*train, classes, train_per_class, test_per_class, name)
        else:
            te = _take(*_read_idx_pair("t10k", FASHION_MNIST_DIR), classes, 0, test_per_class, name)
    elif name == "fashion-vww" and validation:
        x, y = _vww_canvases("train", classes, train_per_class + test_per_class, size)
        tr = _take(x, y, [0, 1], 0, train_per_class, name)
        te = _take(x, y, [0, 1], train_per_class, test_per_class, name)
        canvases = lambda part: np.array(part, np.uint8).reshape(-1, size, size, 3)   # noqa: E731
        return canvases(tr[0]), tr[1], canvases(te[0]), te[1]
    elif name == "fashion-vww":
        return (*_vww_canvases("train", classes, train_per_class, size),
                *_vww_canvases("t10k", classes, test_per_class, size))
    elif name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise ConfigError("--dataset digits needs scikit-learn (pip install scikit-learn)") from None
        d = load_digits()
        images = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)
        tr = _take(images, d.target, classes, 0, train_per_class, name)
        te = _take(images, d.target, classes, train_per_class, test_per_class, name)
    elif os.path.isdir(name):
        images, labels = _read_folder(name, classes, train_per_class + test_per_class)
        tr = _take(images, labels, classes, 0, train_per_class, name)
        te = _take(images, labels, classes, train_per_class, test_per_class, name)
    else:
        raise _unknown(name)
    return _rgb(tr[0], size), tr[1], _rgb(te[0], size), te[1]


# The target of fashion-vww: a sneaker is easy to confuse with the sandals and ankle boots among
# the distractors, so the task needs more than "is there a shoe", like spotting a person.
VWW_TARGET = 7
VWW_SEEDS = {"train": 1, "t10k": 2}


def _vww_canvases(split: str, classes: list[int], per_class: int, size: int):
    """(canvases [2 per_class, size, size, 3] of the split's items, labels as positions in classes)."""
    if sorted(classes) != [0, 1]:
        raise ConfigError(f"--dataset fashion-vww has the classes 0 (absent) and 1 (present); got {classes}")
    x, y = make_vww(*_read_idx_pair(split, FASHION_MNIST_DIR), VWW_TARGET, 2 * per_class, VWW_SEEDS[split],
                    canvas=size)
    return x, np.array([classes.index(int(v)) for v in y], dtype=np.int64)


def _read_idx_pair(prefix: str, folder: str):
    paths = [os.path.join(folder, f"{prefix}-{kind}-idx{dim}-ubyte.gz") for kind, dim in (("images", 3), ("labels", 1))]
    for p in paths:
        if not os.path.isfile(p):
            raise ConfigError(f"{p} is missing: install the Debian package dataset-fashion-mnist")
    with gzip.open(paths[0]) as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    images = np.frombuffer(raw, np.uint8, count=n * rows * cols, offset=16).reshape(n, rows, cols)
    with gzip.open(paths[1]) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


def class_count(name: str) -> int:
    """How many classes data set `name` has (a folder: its class subfolders)."""
    if name in ("fashion-mnist", "digits"):
        return 10
    if name == "fashion-vww":
        return 2
    if os.path.isdir(name):
        return len(_class_folders(name))
    raise _unknown(name)


def _unknown(name: str) -> ConfigError:
    return ConfigError(f"--dataset {name}: expected fashion-mnist, fashion-vww, digits or a folder of "
                       "class subfolders of images")


def _class_folders(folder: str) -> list[str]:
    return sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)) and not d.startswith("."))


def _read_folder(folder: str, classes: list[int], per_class: int):
    subdirs = _class_folders(folder)
    images, labels = [], []
    for c in classes:
        if not 0 <= c < len(subdirs):
            raise ConfigError(f"{folder}: class {c} does not exist ({len(subdirs)} class folders)")
        for f in image_files(os.path.join(folder, subdirs[c]))[:per_class]:
            path = os.path.join(folder, subdirs[c], f)
            image = read_image(path)
            if image.dtype != np.uint8 or image.ndim not in (2, 3):
                raise ConfigError(f"{path}: expected a uint8 HxW or HxWx3 image")
            images.append(image)
            labels.append(c)
    return images, np.array(labels)


def _take(images, labels, classes, start, count, name):
    out_x, out_y = [], []
    for k, c in enumerate(classes):
        idx = np.flatnonzero(np.asarray(labels) == c)[start:start + count]
        if len(idx) < count:
            raise ConfigError(f"{name}: class {c} has only {len(idx)} images for this split, {count} requested")
        out_x += [images[i] for i in idx]
        out_y += [k] * count
    return out_x, np.array(out_y, dtype=np.int64)


def _rgb(images, size: int) -> np.ndarray:
    out = np.empty((len(images), size, size, 3), np.uint8)
    for i, im in enumerate(images):
        im = np.asarray(im)
        im = np.repeat(im[:, :, None], 3, axis=2) if im.ndim == 2 else im[:, :, :3]
        out[i] = np.clip(np.round(resize_bilinear(_centre_square(im).astype(np.float64), size)), 0, 255)
    return out


def _centre_square(im: np.ndarray) -> np.ndarray:
    """The largest square at the image's centre."""
    h, w = im.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return im[top:top + side, left:left + side]
