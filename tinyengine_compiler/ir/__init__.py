"""The one graph IR that every pass takes and returns.  Imports nothing else from the package."""

from .dtypes import DType, QParams
from .graph import Graph, Node, Tensor
from .ops import OpKind

__all__ = ["DType", "QParams", "Graph", "Node", "Tensor", "OpKind"]
