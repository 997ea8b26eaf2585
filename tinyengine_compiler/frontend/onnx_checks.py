"""Read an untrusted .onnx file and check it before anything interprets it.

`load_checked(path, supported_ops)` takes a file path and the op types the importer knows and
returns `(model, shapes)`: a ModelProto whose nodes are in topological order and have passed
onnx.checker and strict shape inference, and a map from every value name to its static shape
(None where inference gave none).  It guarantees one float32 graph input of static shape
1 x C x H x W and one graph output.  Every failure is a one-line `ModelFormatError` (the file
is broken or inconsistent) or `UnsupportedError` (well formed, but not something we compile).

External data is refused, never followed: a hostile file could otherwise point a weight at
any path on the machine.
"""

from __future__ import annotations

import networkx as nx
import onnx
from onnx import TensorProto

from ..errors import ModelFormatError, UnsupportedError
from .onnx_fold import fold_constants


def load_checked(path: str, supported_ops: frozenset[str]) -> tuple[onnx.ModelProto, dict]:
    model = _parse(path)
    graph = model.graph
    _check_embedded_data(path, graph)
    _check_io_counts(path, graph)
    _check_defined_inputs(path, graph)
    _sort_nodes(path, graph)
    _check_ops(graph, supported_ops)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        raise ModelFormatError(f"{path}: invalid ONNX model ({_first_line(e)})") from None
    try:
        model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as e:  # InferenceError, or a schema error surfacing as another type
        raise ModelFormatError(f"{path}: ONNX shape inference failed ({_first_line(e)})") from None
    _check_input(model.graph)
    while True:   # folding a reshape target can make later shapes static, and foldable in turn
        folded = fold_constants(model, _static_shapes(model.graph))
        if len(folded.graph.node) == len(model.graph.node):
            return model, _static_shapes(model.graph)
        model = folded


def node_label(node: onnx.NodeProto, index: int) -> str:
    """The name errors and the IR use for a node; unnamed nodes get `<op>_<index>`."""
    return node.name or f"{node.op_type}_{index}"


def _first_line(e: Exception) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


def _parse(path: str) -> onnx.ModelProto:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ModelFormatError(f"{path}: cannot read ({e.strerror})") from None
    if not data:
        raise ModelFormatError(f"{path}: empty file")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as e:  # protobuf's DecodeError, or a RuntimeWarning-style failure
        raise ModelFormatError(f"{path}: not an ONNX model (protobuf decode failed: {_first_line(e)})") from None
    # Random bytes sometimes decode as a protobuf with only unknown fields.
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise ModelFormatError(f"{path}: not an ONNX model (no IR version or empty graph)")
    return model


def _all_tensors(graph: onnx.GraphProto):
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                yield attr.t
            yield from attr.tensors


def _check_embedded_data(path: str, graph: onnx.GraphProto) -> None:
    if len(graph.sparse_initializer):
        raise UnsupportedError(f"{path}: sparse initializers are not supported")
    for t in _all_tensors(graph):
        if t.data_location == TensorProto.EXTERNAL or len(t.external_data):
            raise UnsupportedError(f"{path}: tensor '{t.name}' refers to external data, which is not "
                                   "supported; save the model with its weights embedded")


def _real_inputs(graph: onnx.GraphProto) -> list[str]:
    """Graph inputs that are not initializers (old exporters list weights as inputs too)."""
    inits = {t.name for t in graph.initializer}
    return [v.name for v in graph.input if v.name not in inits]


def _check_io_counts(path: str, graph: onnx.GraphProto) -> None:
    inputs, outputs = _real_inputs(graph), [v.name for v in graph.output]
    if len(inputs) != 1:
        raise UnsupportedError(f"{path}: the model has {len(inputs)} inputs ({', '.join(inputs) or 'none'}); "
                               "tte compiles models with exactly one image input")
    if len(outputs) != 1:
        raise UnsupportedError(f"{path}: the model has {len(outputs)} outputs ({', '.join(outputs) or 'none'}); "
                               "tte compiles models with exactly one output")


def _check_defined_inputs(path: str, graph: onnx.GraphProto) -> None:
    defined = {v.name for v in graph.input} | {t.name for t in graph.initializer}
    produced: dict[str, str] = {}
    for i, node in enumerate(graph.node):
        for o in node.output:
            if o and (o in produced or o in defined):
                raise ModelFormatError(f"{path}: value '{o}' is defined twice (node '{node_label(node, i)}')")
            if o:
                produced[o] = node_label(node, i)
    defined |= set(produced)
    for i, node in enumerate(graph.node):
        for name in node.input:
            if name and name not in defined:
                raise ModelFormatError(f"{path}: node '{node_label(node, i)}' reads '{name}', which no "
                                       "initializer, graph input or node defines")
    for v in graph.output:
        if v.name not in defined:
            raise ModelFormatError(f"{path}: graph output '{v.name}' is never produced")


def _sort_nodes(path: str, graph: onnx.GraphProto) -> None:
    """Reject cycles; put the nodes in a stable topological order if they are not already."""
    made_by = {o: i for i, n in enumerate(graph.node) for o in n.output if o}
    dag = nx.DiGraph()
    dag.add_nodes_from(range(len(graph.node)))
    dag.add_edges_from((made_by[x], i) for i, n in enumerate(graph.node) for x in n.input if x in made_by)
    if not nx.is_directed_acyclic_graph(dag):
        cycle = [node_label(graph.node[a], a) for a, _ in nx.find_cycle(dag)]
        raise ModelFormatError(f"{path}: the graph has a cycle ({' -> '.join(cycle + cycle[:1])})")
    order = list(nx.lexicographical_topological_sort(dag))
    if order != sorted(order):
        nodes = [onnx.NodeProto.FromString(graph.node[i].SerializeToString()) for i in order]
        del graph.node[:]
        graph.node.extend(nodes)


def _check_ops(graph: onnx.GraphProto, supported: frozenset[str]) -> None:
    for i, node in enumerate(graph.node):
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        if op not in supported:
            raise UnsupportedError(f"node '{node_label(node, i)}': op '{op}' is not supported; "
                                   f"supported: {', '.join(sorted(supported))}")


def _dims(value: onnx.ValueInfoProto) -> list:
    """Static dims as ints, dynamic ones as their symbol (or '?')."""
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in value.type.tensor_type.shape.dim]


def _check_input(graph: onnx.GraphProto) -> None:
    name = _real_inputs(graph)[0]
    value = next(v for v in graph.input if v.name == name)
    tt = value.type.tensor_type
    if tt.elem_type != TensorProto.FLOAT:
        raise UnsupportedError(f"input '{name}' is {TensorProto.DataType.Name(tt.elem_type)}; "
                               "tte expects a float32 NCHW image (quantized inside the model)")
    dims = _dims(value)
    if not tt.HasField("shape") or len(dims) != 4:
        raise UnsupportedError(f"input '{name}' has rank {len(dims) if tt.HasField('shape') else 'unknown'}; "
                               "tte compiles 4-D NCHW image inputs")
    for axis, d in enumerate(dims):
        if not isinstance(d, int) or d <= 0:
            raise UnsupportedError(f"input '{name}' has a dynamic dimension '{d}' (axis {axis}); "
                                   "tte needs static shapes")
    if dims[0] != 1:
        raise UnsupportedError(f"input '{name}' has batch {dims[0]}; tte compiles batch-1 models")


def _static_shapes(graph: onnx.GraphProto) -> dict:
    shapes = {t.name: tuple(t.dims) for t in graph.initializer}
    for v in list(graph.input) + list(graph.value_info) + list(graph.output):
        dims = _dims(v)
        has_shape = v.type.tensor_type.HasField("shape")
        shapes[v.name] = tuple(dims) if has_shape and all(isinstance(d, int) for d in dims) else None
    return shapes
