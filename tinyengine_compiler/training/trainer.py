"""The reference trainer: runs a training graph (autodiff -> sparse_update -> qas) step by step.

This is the golden model that the generated C must match bit for bit: the int8 forward through
`reference.ops` (the int8 executor's kernels), the float32 backward through
`reference.backward`, then each SGD_UPDATE on the stored parameters (SGD, batch 1, with
momentum where an update has it: a float32 velocity per gradient element, `velocity`).
Trained weights are stored as the SGD_UPDATE says: a float32 master W_bar (the forward reads
round_half_away(W_bar) clamped to int8) or int8 updated in place; biases are int32 in place.
In-place steps round to nearest, or stochastically (the update's `rounding`), with draws from
one counter (`draws`) that runs through the updates in graph order, as the engine's does.

The forward nodes that depend on no trained parameter (the frozen prefix) give the same
outputs for the same image every step, so the trainer may cache them per image (`key`): exact.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, OpKind
from ..ir.ops import BACKWARD_OPS
from ..reference.backward.sgd_update import has_momentum, round_half_away, sgd_draws, sgd_update
from ..reference import backward, ops  # noqa: F401  (register the reference ops)
from ..registry import part_of


def run_backward(g: Graph, values: dict[str, np.ndarray], dtype=np.float32) -> dict[str, np.ndarray]:
    """Run every backward node but the updates on `values` (forward values: int8, or real
    floats for the gradient checker); returns `values` extended with every backward tensor."""
    values = dict(values)
    for node in g.nodes:
        if node.op not in BACKWARD_OPS or node.op == OpKind.SGD_UPDATE:
            continue
        reference = part_of(node.op, "reference", f"node '{node.name}': the reference trainer")
        out = reference(g, node, *(values[i] for i in node.inputs), dtype=dtype)
        values.update(zip(node.outputs, out if isinstance(out, tuple) else (out,)))
    return values


class Trainer:
    """SGD, batch 1, on a training graph; holds the stored trained parameters and their state."""

    def __init__(self, g: Graph, lr: float):
        self.g, self.lr = g, lr
        self.updates = _in_applied_order(g, [n for n in g.nodes if n.op == OpKind.SGD_UPDATE])
        self.forward = [n for n in g.nodes if n.op not in BACKWARD_OPS]
        self.params = {name: t.data for name, t in g.tensors.items() if t.is_constant}
        self.stored = {n.inputs[0]: (self.params[n.inputs[0]].astype(np.float32) if n.attrs["storage"] == "float32"
                                     else self.params[n.inputs[0]].copy()) for n in self.updates}
        self.draws = 0   # stochastic rounding's draws taken so far (the engine's tte_ram.draws)
        # momentum's velocity of each update that has one, per gradient element (the engine's tte_ram.v_*)
        self.velocity = {n.inputs[0]: np.zeros(g.tensors[n.inputs[1]].shape, np.float32)
                         for n in self.updates if has_momentum(n)}
        trained = set(self.stored)
        self.frozen = _frozen_prefix(self.forward, trained)
        later = {t for n in g.nodes if n.name not in self.frozen for t in n.inputs}
        self.cached = [t for n in self.forward if n.name in self.frozen for t in n.outputs if t in later]
        self._cache: dict = {}
        self.reference = {n.name: part_of(n.op, "reference", f"node '{n.name}': the reference executor")
                          for n in self.forward}

    def _forward(self, x: np.ndarray, key) -> dict[str, np.ndarray]:
        values = {**self.params, self.g.inputs[0]: x}
        hit = key is not None and key in self._cache
        if hit:
            values.update(self._cache[key])
        for node in self.forward:
            if hit and node.name in self.frozen:
                continue
            out = self.reference[node.name](self.g, node, *(values[i] for i in node.inputs))
            values[node.outputs[0]] = out.reshape(self.g.tensors[node.outputs[0]].shape)
        if key is not None and not hit:
            self._cache[key] = {t: values[t] for t in self.cached}
        return values

    def predict(self, x: np.ndarray, key=None) -> int:
        logits = self._forward(x, key)[self.g.outputs[0]].reshape(-1).astype(np.int64)
        return int(np.argmax(logits))

    def step(self, x: np.ndarray, label: int, key=None) -> float:
        """One SGD step on one image; returns the loss before the step."""
        values = run_backward(self.g, {**self._forward(x, key), "label": np.array([label], np.int32)})
        for node in self.updates:
            param = node.inputs[0]
            self.stored[param] = sgd_update(self.g, node, self.stored[param], values[node.inputs[1]],
                                            self.g.tensors[node.inputs[2]].data, self.lr, self.draws,
                                            self.velocity.get(param))
            self.draws += sgd_draws(node, values[node.inputs[1]])
            self.params[param] = _forward_value(self.stored[param], self.params[param].dtype)
        return float(values["loss"][0])


def _in_applied_order(g: Graph, updates: list) -> list:
    """`updates` in the order the engine applies them: an update fused into its weight
    gradient's loop (`fused_update`, passes/reorder.py) at that gradient's step, any other at
    its own.  The parameters do not depend on it (every gradient reads the step's old values),
    but stochastic rounding hands out its draws in this order."""
    step = {n.name: i for i, n in enumerate(g.nodes)}

    def applied_at(update) -> int:
        producer = g.producer(update.inputs[1])
        return step[producer.name] if producer.attrs.get("fused_update") == update.name else step[update.name]
    return sorted(updates, key=applied_at)


def _forward_value(stored: np.ndarray, dtype) -> np.ndarray:
    """What the int8 forward reads: the float32 master rounded half away and clamped to int8."""
    if stored.dtype == dtype:
        return stored
    return np.clip(round_half_away(stored), -128, 127).astype(dtype)


def _frozen_prefix(forward, trained: set[str]) -> set[str]:
    """Forward nodes that read no trained parameter, directly or through their inputs."""
    tainted, frozen = set(trained), set()
    for node in forward:
        if tainted & set(node.inputs):
            tainted |= set(node.outputs)
        else:
            frozen.add(node.name)
    return frozen


def fit(trainer: Trainer, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
        epochs: int, seed: int = 0, on_step=None) -> list[dict]:
    """`epochs` passes over the int8 training images in a seeded shuffled order; after each, the
    mean training loss and the test accuracy.  `on_step()` is called after every image."""
    history = []
    for epoch in range(epochs):
        order = np.random.default_rng(seed + epoch).permutation(len(train_x))
        losses = []
        for i in order:
            losses.append(trainer.step(train_x[i], int(train_y[i]), key=("train", int(i))))
            if on_step:
                on_step()
        correct = sum(trainer.predict(x, key=("test", i)) == int(y) for i, (x, y) in enumerate(zip(test_x, test_y)))
        history.append({"loss": float(np.mean(losses)), "test_acc": correct / max(1, len(test_x))})
    return history
