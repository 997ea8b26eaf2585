"""Front ends: files on disk -> IR Graph.  The only package that reads model files."""

from __future__ import annotations

import os

from ..errors import ModelFormatError, UnsupportedError
from ..ir import DType, Graph


def load_model(path: str, *, require_int8: bool = False) -> Graph:
    """Read an ONNX model (QDQ int8 or float) or one of the paper's .pkl files into the IR."""
    if not os.path.isfile(path):
        raise ModelFormatError(f"{path}: no such file")
    if path.endswith(".pkl"):
        from .paper_pkl import load_paper_model
        g = load_paper_model(path)
    else:
        from .onnx_import import import_onnx
        g = import_onnx(path)
    if require_int8 and g.tensors[g.inputs[0]].dtype != DType.INT8:
        raise UnsupportedError(f"{path}: this is a float model; quantize it first with "
                               "`tte quantize MODEL --calib DATA -o int8.onnx`")
    return g
