"""SOFTMAX_CROSS_ENTROPY: logits [1, K] float (the classifier's real logits, REAL_LOGITS),
label int [1] -> (dL/dlogits [1, K], loss [1]), label smoothing e from the node.

  l = logits; m = max(l); d_k = l_k - m; e_k = exp(d_k)            (m: the first largest in
                                                                   class order; mathf.exp)
  S = +0 + e_0 + e_1 + ... + e_{K-1}                                (in order)
  t_k = e / K, plus (1 - e) at the label
  loss = log(S) - t_0 d_0 - t_1 d_1 - ... - t_{K-1} d_{K-1}          (mathf.log, in order)
  grad_k = e_k / S - t_k
"""

from __future__ import annotations

import numpy as np

from ...errors import ConfigError
from ...ir import Graph, Node, OpKind
from ...registry import implements
from . import mathf


@implements(OpKind.SOFTMAX_CROSS_ENTROPY, "reference")
def softmax_cross_entropy(g: Graph, node: Node, logits: np.ndarray, label: np.ndarray, *, dtype):
    d = np.asarray(logits).astype(dtype, copy=False)[0]
    k = d.shape[0]
    label = int(np.asarray(label).reshape(-1)[0])
    if not 0 <= label < k:
        raise ConfigError(f"label {label} is outside the model's {k} classes")
    m = d[0]
    for v in d[1:]:   # as the C: a later -0.0 or +0.0 does not replace an equal maximum
        m = v if v > m else m
    d = d - m
    e = mathf.exp(d, dtype)
    total = dtype(0)
    for v in e:
        total = dtype(total + v)
    smoothing = dtype(node.attrs.get("label_smoothing", 0.0))
    target = np.full(k, smoothing / dtype(k), dtype=dtype)
    target[label] = (dtype(1) - smoothing) + target[label]
    loss = mathf.log(np.array([total], dtype=dtype), dtype)[0]
    for t, v in zip(target, d):
        loss = dtype(loss - dtype(t * v))
    return (e / total - target)[None].astype(dtype), np.array([loss], dtype=dtype)
