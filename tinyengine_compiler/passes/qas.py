"""qas: quantization-aware scaling of the gradients of the int8-domain parameters.

Takes: a training graph (after `autodiff`, usually after `sparse_update`) whose SGD_UPDATE
nodes read `<param>.grad_scale` = s, the parameter's float32 scale per output channel (weights:
s_w; biases, int32 at scale s_w * s_x: that product), so that dL/dP_bar = s * dL/dP.

Guarantees: each update's grad_scale becomes float32(s * s^-2) = 1/s (float64 arithmetic, then
rounded to float32; 0 where s = 0), and the update carries qas=True.  An int8-domain parameter
P_bar = P / s then moves by lr * dL/dP / s, i.e. the real parameter by lr * dL/dP: the
weight-norm / gradient-norm ratio of the fp32 graph, which plain int8-domain gradients
(s * dL/dP) miss by a factor s^2.  Raises ValueError if applied twice (a compiler bug).

Leaves to later passes: nothing; codegen copies the grad_scale constants.

Paper: section 2.2, quantization-aware scaling (QAS).
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, OpKind


def qas(g: Graph) -> Graph:
    g = g.copy()
    for node in g.nodes:
        if node.op != OpKind.SGD_UPDATE:
            continue
        if node.attrs["qas"]:
            raise ValueError(f"{node.name}: QAS applied twice")
        s = np.asarray(g.tensors[node.inputs[0]].qparams.scale, dtype=np.float64)
        scale = g.tensors[node.inputs[2]]
        inv_sq = np.divide(1.0, s * s, out=np.zeros_like(s), where=s > 0)
        scale.data = (scale.data.astype(np.float64) * inv_sq).astype(np.float32)
        node.attrs["qas"] = True
    return g
