"""The loss: softmax cross-entropy of the classifier's real logits against an int label.

The loss reads the classifier's output before requantization and clamp (REAL_LOGITS, made
from the FULLY_CONNECTED classifier's inputs): z[o] = float32(acc[o]) * float32(s_in * s_w[o]),
acc its exact int32 accumulator.  The int8 logits would saturate: with every logit at the
int8 clamp, their clamp's gradient is zero and training never moves again.  The real logits
have no clamp, so a saturated head still gets a gradient (grads/linear.py `linear_grad`).
The forward graph, and with it `tte_infer`'s int8 logits, is unchanged.

With K classes and label smoothing e, the target is t = (1 - e) * onehot(label) + e / K;
loss = logsumexp(z) - sum_k t_k z_k and dL/dz = softmax(z) - t.  One node computes both.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError
from ..ir import DType, Graph, Node, OpKind, Tensor
from . import Builder

LABEL = "label"
LOSS = "loss"


def classifier(g: Graph) -> Node:
    """The FULLY_CONNECTED node that makes the graph's logits (its one output)."""
    head = g.producer(g.outputs[0])
    if head is None or head.op != OpKind.FULLY_CONNECTED:
        raise UnsupportedError(f"model '{g.name}': the logits do not come from a FULLY_CONNECTED classifier, "
                               "which training and a new head need")
    return head


def real_logits(b: Builder, head: Node) -> str:
    """Add the REAL_LOGITS node of classifier `head`; returns the name of its float32 output.
    Its per-class scale is s_in * s_w[o] in float64, rounded once to float32: the value the C
    and the reference both multiply by."""
    s_in = np.float64(b.g.tensors[head.inputs[0]].qparams.scale[0])
    s_w = np.asarray(b.g.tensors[head.inputs[1]].qparams.scale, np.float64)
    classes = b.g.tensors[head.inputs[1]].shape[0]
    scale = np.broadcast_to(s_in * s_w, (classes,)).astype(np.float32)
    return b.emit(f"{head.name}.real_logits", OpKind.REAL_LOGITS, list(head.inputs),
                  {"scale": tuple(float(v) for v in scale)}, out=f"{head.name}.real_logits")


def softmax_cross_entropy(b: Builder, logits: str, label_smoothing: float) -> str:
    """Add the graph input `label` (int32 [1]) and the loss node reading the real logits
    `logits`; returns the logits' gradient."""
    b.g.tensors[LABEL] = Tensor(LABEL, (1,), DType.INT32)
    b.g.inputs.append(LABEL)
    gl = b.emit(LOSS, OpKind.SOFTMAX_CROSS_ENTROPY, [logits, LABEL],
                {"label_smoothing": float(label_smoothing)}, out=f"{logits}.grad")
    b.g.nodes[-1].outputs.append(LOSS)
    b.g.tensors[LOSS] = Tensor(LOSS, (1,), DType.FLOAT32)
    return gl
