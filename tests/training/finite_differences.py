"""Central finite differences of the real forward (float64) and an independent cross-entropy:
the gradient oracle the training tests share."""

import numpy as np

from tinyengine_compiler.reference.real_forward import run_real

EPS = 1e-6


def cross_entropy(logits, label: int) -> float:
    """numpy's own log-sum-exp, independent of the engine's exp/log."""
    z = logits.reshape(-1).astype(np.float64)
    return float(np.log(np.sum(np.exp(z - z.max()))) + z.max() - z[label])


def central_difference(train, values: dict, param: str, coord, logits: str, label: int) -> float:
    """d loss / d values[param][coord]; the forward is rerun from the first node reading `param`."""
    start = next(i for i, n in enumerate(train.nodes) if param in n.inputs)
    losses = []
    for sign in (1, -1):
        v = dict(values)
        v[param] = values[param].copy()
        v[param][coord] += sign * EPS
        losses.append(cross_entropy(run_real(train, v, start)[logits], label))
    return (losses[0] - losses[1]) / (2 * EPS)
