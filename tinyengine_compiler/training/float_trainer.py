"""The fp32 trainer: SGD on the real-valued twin of an int8 training graph.

This is the float reference of the transfer-learning study (`benchmarks/transfer.py`): the
same network, scheme and SGD recipe as the int8 engine, but every value a float32 real
number.  The forward is `reference.real_forward` (weights dequantized, requantization the
identity, the fused ReLU/ReLU6 clamps at their real bounds; the loss reads the classifier's
real logits before its clamp, as the int8 engine's does); the gradients are the backward
graph's kernels run on those real values (`trainer.run_backward(..., float32)`), the exact
gradient of that forward (checked against float64 finite differences in
tests/training/test_model_gradients.py); the step is P <- P - lr * dL/dP on the real
parameters, trained columns only, lr times the update's lr_scale (biases' bias_lr_scale); with
the update's momentum mu, P <- P - lr * v after v <- mu * v + dL/dP, as the engine's SGD-M;
with the update's step_clip, the engine's rule on the same quantities: a row's step and weights
measured in int8 steps of the weight (real / scale), so that a row moves at most step_clip times
its largest |weight| in a step, as the int8 engine's does (a clipped row's velocity scaled
alike).

Takes a training graph built *without* QAS (`training_graph(g, scheme, use_qas=False)`): of
the SGD_UPDATE nodes it reads the parameter, gradient and columns, the lr_scale and the
momentum; their storage and gradient scales, which describe the int8 representation, are
ignored.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, OpKind
from ..reference.backward._common import real
from ..reference.backward.sgd_update import clipped_step, per_channel, step_lr
from ..reference.real_forward import real_values, run_real
from .trainer import run_backward


class FloatTrainer:
    """Batch-1 SGD (with momentum where an update has it) on real float32 parameters; the same
    step()/predict() shape as `Trainer`."""

    def __init__(self, g: Graph, lr: float):
        self.g, self.lr = g, lr
        self.updates = [n for n in g.nodes if n.op == OpKind.SGD_UPDATE]
        self.velocity = {n.inputs[0]: np.zeros(g.tensors[n.inputs[1]].shape, np.float32)
                         for n in self.updates if n.attrs.get("momentum")}
        self.params = {k: v for k, v in real_values(g, np.zeros(g.tensors[g.inputs[0]].shape, np.int8),
                                                    np.float32).items() if k != g.inputs[0]}

    def _forward(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return run_real(self.g, {**self.params, self.g.inputs[0]: real(self.g, self.g.inputs[0], x, np.float32)})

    def predict(self, x: np.ndarray, key=None) -> int:
        return int(np.argmax(self._forward(x)[self.g.outputs[0]].reshape(-1)))

    def step(self, x: np.ndarray, label: int, key=None) -> float:
        """One SGD step on one int8 image (its real value is the model's input); returns the
        loss before the step."""
        values = run_backward(self.g, {**self._forward(x), "label": np.array([label], np.int32)}, np.float32)
        for node in self.updates:
            param, grad = node.inputs[0], values[node.inputs[1]].astype(np.float32)
            lr = step_lr(node, self.lr)
            if param in self.velocity:
                grad = self.velocity[param] = np.float32(node.attrs["momentum"]) * self.velocity[param] + grad
            cols = slice(None) if node.attrs.get("channels") is None else list(node.attrs["channels"])
            p = self.params[param].copy()
            step = lr * grad.reshape(p[..., cols].shape)
            if node.attrs.get("step_clip"):
                step, factor = self._clipped(param, step, p[..., cols], cols, node.attrs["step_clip"])
                if param in self.velocity:   # a clipped row's velocity scaled as its step, as the engine's
                    self.velocity[param] = (self.velocity[param].reshape(step.shape) * factor).reshape(
                        self.velocity[param].shape)
            p[..., cols] -= step
            self.params[param] = p
        return float(values["loss"][0])

    def _clipped(self, param: str, step: np.ndarray, weights: np.ndarray, cols, clip: float):
        """(`step` under the step clip, measured in int8 steps of `param` (its per-channel scale),
        the factor each element was scaled by)."""
        qp = self.g.tensors[param].qparams
        scale = per_channel(qp.scale, qp.axis, step.ndim, cols)
        scaled, factor = clipped_step(step / scale, weights / scale, clip)
        return scaled * scale, factor
