"""The paper's models through both front ends: .pkl -> IR -> QDQ ONNX (the lead's exporter) ->
IR (import_onnx) must give back the same graph, tensor for tensor and bit for bit.

Needs ../shared/models (skips without it)."""

import os

import numpy as np
import pytest

from tinyengine_compiler.frontend.onnx_export import export_qdq
from tinyengine_compiler.frontend.onnx_import import import_onnx
from tinyengine_compiler.frontend.paper_pkl import load_paper_model

MODELS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "models")


@pytest.mark.parametrize("name", ["mcunet-5fps", "mbv2-w0.35", "proxyless-w0.3"])
def test_paper_model_survives_export_and_import(name, tmp_path):
    pkl = os.path.join(MODELS_DIR, f"{name}.pkl")
    if not os.path.isfile(pkl):
        pytest.skip(f"{pkl} not found")
    g = load_paper_model(pkl)
    export_qdq(g, str(tmp_path / f"{name}.onnx"))
    h = import_onnx(str(tmp_path / f"{name}.onnx"))
    assert (h.inputs, h.outputs) == (g.inputs, g.outputs)
    assert [(n.name, n.op, n.inputs, n.outputs, n.attrs) for n in h.nodes] == \
           [(n.name, n.op, n.inputs, n.outputs, n.attrs) for n in g.nodes]
    assert h.tensors.keys() == g.tensors.keys()
    for k, a in g.tensors.items():
        b = h.tensors[k]
        assert (b.shape, b.dtype, b.qparams) == (a.shape, a.dtype, a.qparams), k
        assert (a.data is None and b.data is None) or np.array_equal(a.data, b.data), k
