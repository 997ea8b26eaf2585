"""replace_classifier: a new N-class classifier for fine-tuning (it then trains in full).

Takes: an int8 forward graph whose logits come from a FULLY_CONNECTED [K, C] (the paper's
models and the ONNX front end produce this), the class count N >= 2 and a seed.

Guarantees: the same graph with that node's weight, bias and output replaced:
  * weight [N, C] int8, per-channel scale s_w = 1/127 (a real range of +-1, room for the
    weights to grow while training), values round(N(0, 0.1 / sqrt(C)) / s_w) from
    numpy's default_rng(seed): small, seeded, so the first steps already send gradient to
    the layers below (zero weights would not);
  * bias [N] int32 zeros at scale s_x * s_w;
  * logits [1, N] int8 at scale 16/127, zero point 0: a real range of +-16 (softmax
    probabilities from 1e-7 to 1), no fused clamp beyond int8 saturation.  These are what
    inference returns; the loss reads the real logits before requantization and clamp
    (grads/loss.py), so saturated int8 logits do not stop training.
The old weight, bias and logits tensors are removed.

Leaves to later passes: autodiff; the scheme must train this layer in full
(`UpdateScheme.training_in_full("classifier")`).

Paper: section 4 (fine-tuning pretrained models to downstream datasets with a new head).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..grads.loss import classifier
from ..ir import DType, Graph, QParams, Tensor
from ..ir.verify import verify

WEIGHT_SCALE = 1.0 / 127.0
LOGIT_SCALE = 16.0 / 127.0
INIT_STD = 0.1


def replace_classifier(g: Graph, num_classes: int, seed: int = 0) -> Graph:
    if num_classes < 2:
        raise ConfigError(f"--num-classes must be at least 2, got {num_classes}")
    g = g.copy()
    node = classifier(g)
    x = g.tensors[node.inputs[0]]
    c_in = x.size
    w_bar = np.random.default_rng(seed).normal(0.0, INIT_STD / np.sqrt(c_in), (num_classes, c_in)) / WEIGHT_SCALE
    w_qp = QParams.make(np.full(num_classes, WEIGHT_SCALE), 0, axis=0)
    b_qp = QParams.make(np.float64(x.qparams.scale[0]) * np.asarray(w_qp.scale, np.float64), 0, axis=0)
    for old in node.inputs[1:] + node.outputs:
        del g.tensors[old]
    name = node.name
    weight = Tensor(f"{name}.weight", (num_classes, c_in), DType.INT8, w_qp,
                    np.clip(np.round(w_bar), -127, 127).astype(np.int8))
    bias = Tensor(f"{name}.bias", (num_classes,), DType.INT32, b_qp, np.zeros(num_classes, np.int32))
    out = Tensor(f"{name}.out", (1, num_classes), DType.INT8, QParams.make(LOGIT_SCALE, 0))
    for t in (weight, bias, out):
        g.tensors[t.name] = t
    node.inputs[1:] = [weight.name, bias.name]
    node.outputs = [out.name]
    node.attrs.update(act_min=-128, act_max=127)
    g.outputs = [out.name]
    return verify(g)
