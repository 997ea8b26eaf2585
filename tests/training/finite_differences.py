"""Central finite differences of the real forward (float64) and an independent cross-entropy
of the classifier's real logits: the gradient oracle the training tests share."""

import numpy as np

from tinyengine_compiler.reference.real_forward import run_real

EPS = 1e-6


def cross_entropy(logits, label: int) -> float:
    """numpy's own log-sum-exp, independent of the engine's exp/log."""
    z = logits.reshape(-1).astype(np.float64)
    return float(np.log(np.sum(np.exp(z - z.max()))) + z.max() - z[label])


def real_logits(g, values: dict) -> np.ndarray:
    """What the loss reads: the classifier's real output x @ w^T + b before its clamp, from the
    real forward's values of its inputs (plain numpy)."""
    head = g.producer(g.outputs[0])
    x, w, b = (values[name] for name in head.inputs)
    return x.reshape(x.shape[0], -1) @ w.T + b


def central_difference(train, values: dict, param: str, coord, label: int) -> float:
    """d loss / d values[param][coord]; the forward is rerun from the first node reading `param`."""
    start = next(i for i, n in enumerate(train.nodes) if param in n.inputs)
    losses = []
    for sign in (1, -1):
        v = dict(values)
        v[param] = values[param].copy()
        v[param][coord] += sign * EPS
        losses.append(cross_entropy(real_logits(train, run_real(train, v, start)), label))
    return (losses[0] - losses[1]) / (2 * EPS)
