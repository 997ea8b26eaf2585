"""The loss: softmax cross-entropy of the int8 logits (dequantized) against an int label.

With K classes and label smoothing e, the target is t = (1 - e) * onehot(label) + e / K;
loss = logsumexp(l) - sum_k t_k l_k and dL/dl = softmax(l) - t.  One node computes both.
"""

from __future__ import annotations

from ..ir import DType, OpKind, Tensor
from . import Builder

LABEL = "label"
LOSS = "loss"


def softmax_cross_entropy(b: Builder, logits: str, label_smoothing: float) -> str:
    """Add the graph input `label` (int32 [1]) and the loss node; returns the logits' gradient."""
    b.g.tensors[LABEL] = Tensor(LABEL, (1,), DType.INT32)
    b.g.inputs.append(LABEL)
    gl = b.emit(LOSS, OpKind.SOFTMAX_CROSS_ENTROPY, [logits, LABEL],
                {"label_smoothing": float(label_smoothing)}, out=f"{logits}.grad")
    b.g.nodes[-1].outputs.append(LOSS)
    b.g.tensors[LOSS] = Tensor(LOSS, (1,), DType.FLOAT32)
    return gl
