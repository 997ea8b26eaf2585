"""verify(g): the invariants every pass must keep.

Checks that tensor names are produced at most once (SSA), that every node input exists and
is a graph input, a constant or the output of an earlier node (topological order), that
output shapes follow the op's shape rule, that weight/input channel counts agree, that a LUT
names a known function (with its table when int8), and that int8 tensors carry quantization
parameters.  Raises ValueError naming the first problem:
a failed verify is a compiler bug, not a user error.
"""

from __future__ import annotations

from .activations import FUNCTIONS
from .dtypes import DType
from .graph import Graph
from .ops import WEIGHTED_OPS, OpKind
from .shapes import output_shape


def verify(g: Graph) -> Graph:
    available = set(g.inputs) | {t.name for t in g.tensors.values() if t.is_constant}
    for name in g.inputs + g.outputs:
        if name not in g.tensors:
            raise ValueError(f"graph names unknown tensor {name!r}")
    seen_nodes = set()
    for node in g.nodes:
        if node.name in seen_nodes:
            raise ValueError(f"duplicate node name {node.name!r}")
        seen_nodes.add(node.name)
        for i in node.inputs:
            if i not in g.tensors:
                raise ValueError(f"{node.name}: unknown input {i!r}")
            if i not in available:
                raise ValueError(f"{node.name}: input {i!r} is used before it is produced")
        for o in node.outputs:
            if o in available:
                raise ValueError(f"{node.name}: output {o!r} is produced twice")
            if o not in g.tensors:
                raise ValueError(f"{node.name}: unknown output {o!r}")
            available.add(o)
        _check_node(g, node)
    for name in g.outputs:
        if name not in available:
            raise ValueError(f"graph output {name!r} is never produced")
    return g


def _check_node(g: Graph, node) -> None:
    out = g.tensors[node.outputs[0]]
    expected = output_shape(g, node)
    if tuple(out.shape) != tuple(expected):
        raise ValueError(f"{node.name}: output shape {out.shape} but {node.op.value} gives {expected}")
    x = g.tensors[node.inputs[0]]
    if node.op in WEIGHTED_OPS:
        w = g.tensors[node.inputs[1]]
        cin = {OpKind.CONV2D: w.shape[-1], OpKind.DEPTHWISE_CONV2D: w.shape[-1],
               OpKind.FULLY_CONNECTED: w.shape[1]}[node.op]
        x_channels = x.size if node.op == OpKind.FULLY_CONNECTED else x.shape[-1]
        if x_channels != cin:
            raise ValueError(f"{node.name}: input has {x_channels} channels, weights expect {cin}")
    if node.op == OpKind.MUL and g.tensors[node.inputs[1]].shape not in (x.shape, (x.shape[0], 1, 1, x.shape[-1])):
        raise ValueError(f"{node.name}: MUL's second operand must have the first's shape or [N, 1, 1, C]")
    if node.op == OpKind.LUT:
        if node.attrs.get("function") not in FUNCTIONS:
            raise ValueError(f"{node.name}: LUT function {node.attrs.get('function')!r} is not one of {FUNCTIONS}")
        if x.dtype == DType.INT8 and not len(node.attrs.get("table", ())) == len(node.attrs.get("slope", ())) == 256:
            raise ValueError(f"{node.name}: an int8 LUT needs its 256-entry table and slope")
    if node.op == OpKind.ADD and g.tensors[node.inputs[1]].shape != x.shape:
        raise ValueError(f"{node.name}: ADD operands differ in shape")
    for name in list(node.inputs) + list(node.outputs):
        t = g.tensors[name]
        if t.dtype == DType.INT8 and t.qparams is None:
            raise ValueError(f"{node.name}: int8 tensor {name!r} has no quantization parameters")
