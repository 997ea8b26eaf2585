"""Fine-tuning in the host C engine, the fast way: the frozen prefix runs once per image.

`frozen_cut(g, scheme, num_classes, seed)` gives the forward graph with its new head, the scheme
spelled out by layer name (so it means the same on any part of the graph), and `cut`: the last
tensor before the first trained layer that separates the graph (every later node reads only
it, later tensors and constants), or None when the first layer trains.  `split_at(g, cut)`
returns (prefix graph: input -> cut, suffix graph: cut -> logits).

Training the suffix on the prefix's outputs is exactly training the whole graph: backward
never reaches the prefix, and the prefix's int8 outputs depend only on the image.

`finetune(...)` compiles the prefix as an inference engine and the suffix as a training engine
(`tte compile`'s code), trains with SGD at batch 1 on the steps of `schedule` (a seeded order
and horizontal flips per epoch, a cosine learning rate), and returns the top-1 on the test
images.  `tte search` and `benchmarks/transfer.py` both run it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..compile import compile_inference, compile_training
from ..ir import Graph
from ..ir.ops import BACKWARD_OPS
from ..pipeline import Options, for_classes
from ..scheme import ALL, UpdateScheme, resolve
from ..targets.host import HostEngine, engine_from_folder


@dataclass(frozen=True)
class Head:
    graph: Graph           # the forward graph with the task's new classifier
    cut: str | None


def frozen_cut(g: Graph, scheme: UpdateScheme, num_classes: int, seed: int) -> tuple[Head, UpdateScheme]:
    g, scheme = for_classes(g, scheme, num_classes, seed)
    resolved = resolve(scheme, g)
    weights = []
    for layer, u in resolved.items():
        if u.channels is not None:
            full = len(u.channels) == g.tensors[g.node(layer).inputs[1]].shape[-1]
            weights.append((layer, 1.0 if full else u.channels))
    # every other field (storage, rounding, optimizer) carries over; layers by name, as numbers
    # would name other layers of the suffix graph
    explicit = replace(scheme, name=f"{scheme.name} (by layer)", n_bias_update=0, num_convs=None,
                       biases=tuple(l for l, u in resolved.items() if u.bias), weights=tuple(weights),
                       momentum_layers=ALL if scheme.momentum_layers == ALL else
                       tuple(l for l, u in resolved.items() if u.momentum))
    forward = [n for n in g.nodes if n.op not in BACKWARD_OPS]
    first = min(i for i, n in enumerate(forward) if n.name in resolved)
    constants = {name for name, t in g.tensors.items() if t.is_constant}
    for j in range(first - 1, -1, -1):
        cut = forward[j].outputs[0]
        later = {t for n in forward[j + 1:] for t in n.outputs}
        if all(set(n.inputs) <= later | constants | {cut} for n in forward[j + 1:]):
            return Head(g, cut), explicit
    return Head(g, None), explicit


def split_at(g: Graph, cut: str) -> tuple[Graph, Graph]:
    j = next(i for i, n in enumerate(g.nodes) if cut in n.outputs)

    def part(name, nodes, inputs, outputs):
        used = {t for n in nodes for t in n.inputs + n.outputs}
        return Graph(name, {k: t for k, t in g.tensors.items() if k in used},
                     [n for n in nodes], list(inputs), list(outputs)).copy()

    return (part(f"{g.name}.prefix", g.nodes[:j + 1], g.inputs, [cut]),
            part(f"{g.name}.suffix", g.nodes[j + 1:], [cut], g.outputs))


def schedule(epochs: int, n_train: int, lr: float, seed: int,
             warmup: float = 0.0) -> Iterator[tuple[int, bool, float]]:
    """(image index, flip, lr) for every step: a seeded shuffle per epoch, a coin per step for a
    horizontal flip, and lr * (1 + cos(pi t / T)) / 2, times (t + 1) / W over the first
    W = floor(warmup * T) steps (a linear warm-up; none when W < 2).  The same images and flips
    for every run with this seed, whatever the learning rates."""
    if not 0.0 <= warmup <= 1.0:
        raise ValueError(f"warmup {warmup}: a fraction of the steps, 0 to 1")
    return _steps(epochs, n_train, lr, seed, max(1, int(warmup * (epochs * n_train))))


def _steps(epochs: int, n_train: int, lr: float, seed: int, ramp: int) -> Iterator[tuple[int, bool, float]]:
    total, t = epochs * n_train, 0
    for epoch in range(epochs):
        rng = np.random.default_rng([seed, epoch])
        order, flips = rng.permutation(n_train), rng.random(n_train) < 0.5
        for i, flip in zip(order, flips):
            yield int(i), bool(flip), lr * 0.5 * (1.0 + math.cos(math.pi * t / total)) * min(1.0, (t + 1) / ramp)
            t += 1


def flipped(x: np.ndarray, flip: bool) -> np.ndarray:
    """An int8 NHWC image, mirrored left to right when flip."""
    return np.ascontiguousarray(x[:, :, ::-1, :]) if flip else x


# on_step(step, image index, flip, lr, the C's loss, the training engine): a caller's check
StepHook = Callable[[int, int, bool, float, float, HostEngine], None]


def finetune(g: Graph, scheme: UpdateScheme, num_classes: int, data: tuple, steps, work: Path,
             options: Options = Options(), on_step: StepHook | None = None,
             progress: Callable[[int], None] = lambda k: None) -> dict:
    """Train `scheme` with a new `num_classes` head (seeded by options.seed) in the host C on
    `data` = (train int8 images [N, 1, S, S, 3], train labels, test images, test labels) over
    `steps` (`schedule`), compiling into `work`; `progress(1)` after each step and each test
    image.  Returns {"top1", "losses", "cut"}."""
    head, explicit = frozen_cut(g, scheme, num_classes, options.seed)
    tr_x, tr_y, te_x, te_y = data
    if head.cut is not None:
        prefix_g, train_g = split_at(head.graph, head.cut)
        compile_inference(prefix_g, str(work / "prefix"))
        prefix = engine_from_folder(str(work / "prefix"), str(work / "prefix-build"))
        cut_shape = train_g.tensors[train_g.inputs[0]].shape
        to_cut = lambda x: prefix.infer(x).reshape(cut_shape)   # noqa: E731
    else:
        to_cut, train_g = (lambda x: x), head.graph   # noqa: E731
    compile_training(train_g, explicit, str(work / "train"), replace(options, num_classes=None))
    engine = engine_from_folder(str(work / "train"), str(work / "train-build"))
    cut_train = {}    # (image, flipped) -> the prefix's output, computed once
    losses = []
    for step, (i, flip, lr) in enumerate(steps):
        x = cut_train.get((i, flip))
        if x is None:
            x = cut_train[(i, flip)] = to_cut(flipped(tr_x[i], flip))
        loss = engine.train_step(x, int(tr_y[i]), lr)
        if on_step is not None:
            on_step(step, i, flip, lr, loss, engine)
        losses.append(float(loss))
        progress(1)
    correct = 0
    for x, y in zip(te_x, te_y):
        correct += int(np.argmax(engine.infer(to_cut(x)).astype(np.int32))) == int(y)
        progress(1)
    return {"top1": correct / max(1, len(te_y)), "losses": losses, "cut": head.cut}
