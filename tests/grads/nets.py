"""Small random int8 IR graphs built by hand for the gradient tests (no model files needed)."""

from __future__ import annotations

import numpy as np

from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor
from tinyengine_compiler.ir.shapes import output_shape
from tinyengine_compiler.reference.real_forward import real_values, run_real


class NetBuilder:
    """Appends int8 layers with random weights; output qparams are set from the real forward so
    that the fused clamp cuts both ends (lower bound at the real 0, upper at the 80th percentile)."""

    def __init__(self, rng, shape=(1, 8, 8, 3)):
        self.rng = rng
        qp = QParams.make(0.05, 3)
        self.g = Graph("net", {"input": Tensor("input", shape, DType.INT8, qp)}, [], ["input"], [])
        self.current = "input"
        self.x = rng.integers(-128, 128, size=shape).astype(np.int8)

    def _weighted(self, name, op, w_shape, axis, attrs, relu=True):
        rng, g = self.rng, self.g
        cout = w_shape[axis]
        w_scale = rng.uniform(0.005, 0.02, cout)
        x_scale = g.tensors[self.current].qparams.scale[0]
        w = Tensor(f"{name}.weight", w_shape, DType.INT8, QParams.make(w_scale, 0, axis=axis),
                   rng.integers(-127, 128, size=w_shape).astype(np.int8))
        b_qp = QParams.make(np.float64(x_scale) * w_scale, 0, axis=0)
        b = Tensor(f"{name}.bias", (cout,), DType.INT32, b_qp, rng.integers(-3000, 3000, size=cout).astype(np.int32))
        self._append(name, op, [self.current, w.name, b.name], attrs, [w, b], relu)

    def _append(self, name, op, inputs, attrs, consts=(), relu=True):
        g = self.g
        for t in consts:
            g.tensors[t.name] = t
        out = Tensor(f"{name}.out", (), DType.INT8, QParams.make(1.0, 0))
        pool = op in (OpKind.GLOBAL_AVG_POOL, OpKind.AVG_POOL2D, OpKind.MAX_POOL2D)
        clamp = {} if pool else {"act_min": -128, "act_max": 127}
        node = Node(name, op, inputs, [out.name], {**clamp, **attrs})
        g.tensors[out.name] = out
        g.nodes.append(node)
        out.shape = tuple(output_shape(g, node))
        # Pick the output quantization from the real pre-activation (clamp disabled by a huge scale).
        out.qparams = QParams.make(1e6, 0)
        pre = run_real(g, real_values(g, self.x))[out.name]
        if pool:
            out.qparams = g.tensors[inputs[0]].qparams
        elif relu:
            v = np.unique(pre[pre > 0])  # upper bound halfway between two values, never at one
            k = int(0.8 * (len(v) - 1))
            hi = float(v[k] + v[k + 1]) / 2 if len(v) > 1 else 1.0
            out.qparams = QParams.make(hi / 255.0, -128)
        else:
            v = np.unique(np.abs(pre))
            k = int(0.9 * (len(v) - 1))
            span = float(v[k] + v[k + 1]) / 2
            out.qparams = QParams.make(span / 127.0, 0)
        g.outputs = [out.name]
        self.current = out.name
        return out.name

    def conv(self, name, cout, k, stride=1, relu=True):
        cin = self.g.tensors[self.current].shape[3]
        self._weighted(name, OpKind.CONV2D, (cout, k, k, cin), 0,
                       {"stride": (stride, stride), "pads": (k // 2,) * 4}, relu)

    def depthwise(self, name, k, stride=1):
        c = self.g.tensors[self.current].shape[3]
        self._weighted(name, OpKind.DEPTHWISE_CONV2D, (1, k, k, c), 3,
                       {"stride": (stride, stride), "pads": (k // 2,) * 4})

    def add(self, name, other):
        return self._append(name, OpKind.ADD, [other, self.current], {}, relu=False)

    def pool(self, name="pool"):
        return self._append(name, OpKind.GLOBAL_AVG_POOL, [self.current], {})

    def max_pool(self, name, k, stride, pads):
        """A max pool keeping its input's quantization (what ORT's QDQ gives a pool)."""
        return self._append(name, OpKind.MAX_POOL2D, [self.current],
                            {"kernel": (k, k), "stride": (stride, stride), "pads": pads})

    def lut(self, name, function, **params):
        """An element-wise activation (ir/activations.py) with its int8 tables."""
        from tinyengine_compiler.ir.activations import int8_tables

        x = self.current
        self._append(name, OpKind.LUT, [x], {"function": function, **params}, relu=function != "clip")
        node = self.g.node(name)
        q_in, q_out = (self.g.tensors[t].qparams for t in (x, node.outputs[0]))
        table, slope = int8_tables(function, node.attrs, q_in, q_out)
        node.attrs.update(table=table, slope=slope)

    def mul(self, name, other):
        """current * other (other of the same shape or [N, 1, 1, C])."""
        return self._append(name, OpKind.MUL, [self.current, other], {}, relu=False)

    def avg_pool(self, name, k, stride, pads):
        """An average pool keeping its input's quantization (what ORT's QDQ gives a pool)."""
        return self._append(name, OpKind.AVG_POOL2D, [self.current],
                            {"kernel": (k, k), "stride": (stride, stride), "pads": pads})

    def fc(self, name, cout):
        cin = self.g.tensors[self.current].size
        self._weighted(name, OpKind.FULLY_CONNECTED, (cout, cin), 0, {}, relu=False)


def saturate_classifier(net: NetBuilder, targets) -> None:
    """Make every int8 logit of `net` sit at the clamp on its input: the classifier's bias is set
    so that its real logits are `targets` (each beyond +-1.27 in magnitude), and its output
    scale to 0.01, so that int8 holds only -1.28 .. 1.27."""
    g = net.g
    head = g.producer(g.outputs[0])
    bias = g.tensors[head.inputs[2]]
    bias.data = np.zeros_like(bias.data)
    values = run_real(g, real_values(g, net.x))
    x, w = values[head.inputs[0]], values[head.inputs[1]]
    pre = (x.reshape(1, -1) @ w.T)[0]
    bias.data = np.round((np.asarray(targets) - pre) / np.asarray(bias.qparams.scale)).astype(np.int32)
    g.tensors[head.outputs[0]].qparams = QParams.make(0.01, 0)
