"""Fold the constant subgraphs of an ONNX model into initializers, before it is imported.

Takes a model that passed `onnx_checks` (sorted, shape-inferred) and returns a copy where:
* every `Shape` of a value with a static shape is its shape, an int64 initializer;
* every node of FOLDABLE whose inputs are all initializers (after the step above) is computed
  once, by onnx's reference evaluator, and replaced by its outputs as initializers.
Exported models compute reshape targets this way (a channel shuffle's `x.view(b, g, c // g, h,
w)` becomes Shape -> Gather -> Div -> Unsqueeze -> Concat -> Reshape); after folding, every
Reshape reads a constant shape.  A foldable op whose inputs are not all constant stays, and
the importer refuses it by name.  Shapes are inferred again afterwards.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import ModelFormatError

# Ops that only ever compute shapes and indices here: folded when every input is constant.
FOLDABLE = frozenset({"Shape", "Gather", "Cast", "Unsqueeze", "Squeeze", "Concat", "Add", "Sub", "Mul", "Div",
                      "Floor", "Ceil", "Range", "ConstantOfShape", "Constant", "Slice", "Reshape", "Identity"})


def fold_constants(model: onnx.ModelProto, shapes: dict[str, tuple[int, ...]]) -> onnx.ModelProto:
    """`shapes`: the static shapes shape inference found (value name -> dims, None where a
    dimension is not known)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    graph = m.graph
    known = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    folded = []
    for node in graph.node:
        value = None
        if node.op_type == "Shape" and shapes.get(node.input[0]) is not None and node.input[0] not in known:
            value = [np.asarray(shapes[node.input[0]], dtype=np.int64)[_shape_slice(node)]]
        elif node.op_type in FOLDABLE and all(i in known for i in node.input if i):
            value = _evaluate(node, known, m.opset_import)
        if value is None:
            continue
        for name, array in zip(node.output, value):
            known[name] = np.asarray(array)
            graph.initializer.append(numpy_helper.from_array(known[name], name))
        folded.append(node)
    for node in folded:
        graph.node.remove(node)
    if not folded:
        return m
    try:
        return onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    except Exception as e:
        raise ModelFormatError(f"ONNX shape inference failed after folding constants ({e})") from None


def _shape_slice(node: onnx.NodeProto) -> slice:
    start = next((a.i for a in node.attribute if a.name == "start"), 0)
    end = next((a.i for a in node.attribute if a.name == "end"), None)
    return slice(start, end)


def _evaluate(node: onnx.NodeProto, known: dict[str, np.ndarray], opsets) -> list[np.ndarray]:
    """The outputs of one node on constant inputs, by onnx's reference evaluator."""
    from onnx.reference import ReferenceEvaluator

    inputs = [i for i in node.input if i]
    graph = helper.make_graph(
        [node], "fold",
        [helper.make_tensor_value_info(i, helper.np_dtype_to_tensor_dtype(known[i].dtype), known[i].shape)
         for i in inputs],
        [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output])
    try:
        model = helper.make_model(graph, opset_imports=list(opsets))
        return list(ReferenceEvaluator(model).run(None, {i: known[i] for i in inputs}))
    except Exception as e:
        raise ModelFormatError(f"node '{node.name or node.op_type}': folding its constant inputs failed ({e})") \
            from None
