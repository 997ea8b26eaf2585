"""`tte train-sim` learns: MCUNet-5FPS (paper scheme, new 4-class head) on 4 Fashion-MNIST
classes, 200 training images at 128x128; and the trainer's building blocks on hand values."""

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main
from tinyengine_compiler.datasets import FASHION_MNIST_DIR, load_split, resize_bilinear
from tinyengine_compiler.pipeline import for_classes, training_graph
from tinyengine_compiler.reference.backward import mathf
from tinyengine_compiler.reference.backward.sgd_update import round_half_away, sgd_update
from tinyengine_compiler.scheme import parse_scheme
from tinyengine_compiler.training.trainer import Trainer

from ..grads.nets import NetBuilder


def test_train_sim_learns_fashion_mnist(paper_models_dir):
    if not os.path.isdir(FASHION_MNIST_DIR):
        pytest.skip(f"{FASHION_MNIST_DIR} is missing (Debian package dataset-fashion-mnist)")
    r = CliRunner().invoke(main, [
        "train-sim", f"{paper_models_dir}/mcunet-5fps.pkl", "--update", "paper-mcunet-5fps", "--num-classes", "4",
        "--dataset", "fashion-mnist", "--classes", "0,1,2,3", "--train-per-class", "50", "--test-per-class", "25",
        "--epochs", "2", "--lr", "0.003", "--json"])
    assert r.exit_code == 0, r.output
    epochs = json.loads(r.output.strip().splitlines()[-1])["epochs"]
    # the new head starts near uniform: loss ~ ln 4 = 1.386
    assert epochs[0]["loss"] < 1.2 and epochs[1]["loss"] < epochs[0]["loss"]
    assert epochs[0]["test_acc"] >= 0.6   # chance is 0.25 (100 test images)


def test_exp_log_accuracy():
    x = np.linspace(-87, 88, 200001, dtype=np.float32)
    ref = np.exp(x.astype(np.float64))
    assert np.max(np.abs(mathf.exp(x) - ref) / ref) < 1e-6
    y = np.concatenate([np.exp(np.linspace(-80, 80, 200001)), np.linspace(0.5, 2, 20001)]).astype(np.float32)
    ref = np.log(y.astype(np.float64))
    nz = np.abs(ref) > 1e-3
    assert np.max(np.abs(mathf.log(y) - ref)[nz] / np.abs(ref[nz])) < 1e-6
    assert np.max(np.abs(mathf.log(y) - ref)) < 1e-5
    assert mathf.exp(np.float32([0.0]))[0] == 1.0 and mathf.log(np.float32([1.0]))[0] == 0.0


def test_round_half_away_and_sgd_update_by_hand():
    v = np.float32([0.5, -0.5, 1.5, 2.4999998, -2.5, 0.49999997])
    assert round_half_away(v).tolist() == [1, -1, 2, 2, -3, 0]
    net = NetBuilder(np.random.default_rng(0), shape=(1, 1, 1, 2))
    net.fc("fc", 2)
    g = net.g
    from tinyengine_compiler.ir import Node, OpKind
    w = np.array([[10, -3], [127, 0]], np.int8)
    grad = np.float32([[1.0, -2.0], [1000.0, 0.25]])
    scale = np.float32([0.5, 2.0])
    node = Node("u", OpKind.SGD_UPDATE, ["fc.weight", "fc.weight.grad", "s"], ["o"],
                {"channels": None, "storage": "int8"})
    # step = lr * grad * scale[out channel] = 0.1 * [[0.5, -1], [1000 * 2 / ..]]
    # row 0: 10 - round(0.05) = 10, -3 - round(-0.1) = -3; row 1: 127 - round(200) = -73, 0 - round(0.05) = 0
    assert sgd_update(g, node, w, grad, scale, 0.1).tolist() == [[10, -3], [-73, 0]]
    node.attrs.update(storage="float32", channels=(1,))
    master = w.astype(np.float32)
    out = sgd_update(g, node, master, grad[:, 1:], scale, 0.1)
    np.testing.assert_array_equal(out, np.float32([[10, -3 + np.float32(0.1) * np.float32(1.0)],
                                                   [127, -np.float32(0.1) * np.float32(0.5)]]))


def test_frozen_prefix_cache_is_exact():
    net = NetBuilder(np.random.default_rng(5), shape=(1, 6, 6, 3))
    net.conv("c0", 4, 3)
    net.conv("c1", 4, 1)
    net.pool()
    net.fc("fc", 3)
    g, scheme = for_classes(net.g, parse_scheme({"weight": {"c1": 0.5}}), 3)
    _, train = training_graph(g, scheme)
    a, b = Trainer(train, 0.01), Trainer(train, 0.01)
    assert a.frozen == {"c0"}
    xs = [np.random.default_rng(i).integers(-128, 128, (1, 6, 6, 3)).astype(np.int8) for i in range(3)]
    for step in range(6):
        i = step % 3
        assert a.step(xs[i], i, key=i) == b.step(xs[i], i)
    for name in a.stored:
        np.testing.assert_array_equal(a.stored[name], b.stored[name])
    assert any(not np.array_equal(a.stored[n], train.tensors[n].data) for n in a.stored), "nothing trained"


def test_datasets():
    im = np.array([[0.0, 100.0], [200.0, 40.0]])[:, :, None]
    up = resize_bilinear(im, 4)[:, :, 0]
    # half-pixel centres: output 1 sits at input 0.25 -> 0.75 * 0 + 0.25 * 100 along a row
    assert up[0, 0] == 0 and up[0, 1] == 25 and up[0, 3] == 100 and up[3, 0] == 200
    tr_x, tr_y, te_x, te_y = load_split("digits", [3, 7], 5, 2, 16)
    assert tr_x.shape == (10, 16, 16, 3) and tr_x.dtype == np.uint8 and te_x.shape == (4, 16, 16, 3)
    assert tr_y.tolist() == [0] * 5 + [1] * 5 and te_y.tolist() == [0, 0, 1, 1]
    assert np.array_equal(tr_x[..., 0], tr_x[..., 2]) and tr_x.max() > 200


@pytest.mark.skipif(not os.path.isdir(FASHION_MNIST_DIR),
                    reason=f"{FASHION_MNIST_DIR} is absent (Debian package dataset-fashion-mnist)")
def test_the_validation_split_of_fashion_mnist_is_the_training_files_next_images():
    import gzip
    with gzip.open(os.path.join(FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(FASHION_MNIST_DIR, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    tr_x, tr_y, va_x, va_y = load_split("fashion-mnist", [5, 2], 3, 2, 28, validation=True)
    assert tr_y.tolist() == [0, 0, 0, 1, 1, 1] and va_y.tolist() == [0, 0, 1, 1]
    for k, c in enumerate((5, 2)):
        of = images[labels == c]
        assert np.array_equal(tr_x[3 * k:3 * k + 3, :, :, 1], of[:3])
        assert np.array_equal(va_x[2 * k:2 * k + 2, :, :, 1], of[3:5])
    assert not np.array_equal(va_x, load_split("fashion-mnist", [5, 2], 3, 2, 28)[2])
