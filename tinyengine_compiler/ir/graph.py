"""Graph, Node and Tensor: the IR that passes exchange.

A Graph owns its tensors by name and its nodes in topological order.  Constant tensors
(weights, biases) carry `data`; activations do not.  Shapes are NHWC for 4-D activations.
Graphs serialize to JSON (constants as base64) and read back to an equal graph.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from .dtypes import DType, QParams
from .ops import OpKind


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: DType
    qparams: QParams | None = None
    data: np.ndarray | None = None

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def to_json(self) -> dict:
        d: dict[str, Any] = {"name": self.name, "shape": list(self.shape), "dtype": self.dtype.value,
                             "qparams": self.qparams.to_json() if self.qparams else None}
        if self.data is not None:
            raw = np.ascontiguousarray(self.data, dtype=self.dtype.numpy).tobytes()
            d["data"] = base64.b64encode(raw).decode("ascii")
        return d

    @staticmethod
    def from_json(d: dict) -> "Tensor":
        dtype = DType(d["dtype"])
        shape = tuple(int(v) for v in d["shape"])
        data = None
        if d.get("data") is not None:
            data = np.frombuffer(base64.b64decode(d["data"]), dtype=dtype.numpy).reshape(shape).copy()
        qp = QParams.from_json(d["qparams"]) if d.get("qparams") else None
        return Tensor(d["name"], shape, dtype, qp, data)


@dataclass
class Node:
    name: str
    op: OpKind
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"name": self.name, "op": self.op.value, "inputs": list(self.inputs),
                "outputs": list(self.outputs), "attrs": _jsonable(self.attrs)}

    @staticmethod
    def from_json(d: dict) -> "Node":
        attrs = {k: tuple(v) if isinstance(v, list) else v for k, v in d["attrs"].items()}
        return Node(d["name"], OpKind(d["op"]), list(d["inputs"]), list(d["outputs"]), attrs)


def _jsonable(attrs: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attrs.items()}


@dataclass
class Graph:
    name: str
    tensors: dict[str, Tensor]
    nodes: list[Node]
    inputs: list[str]
    outputs: list[str]

    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def producer(self, tensor_name: str) -> Node | None:
        for n in self.nodes:
            if tensor_name in n.outputs:
                return n
        return None

    def consumers(self, tensor_name: str) -> list[Node]:
        return [n for n in self.nodes if tensor_name in n.inputs]

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def copy(self) -> "Graph":
        return copy.deepcopy(self)

    def dependency_graph(self) -> nx.DiGraph:
        """Nodes as vertices, an edge from each producer to each consumer of its outputs."""
        g = nx.DiGraph()
        made_by = {}
        for n in self.nodes:
            g.add_node(n.name)
            for o in n.outputs:
                made_by[o] = n.name
        for n in self.nodes:
            for i in n.inputs:
                if i in made_by:
                    g.add_edge(made_by[i], n.name)
        return g

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "inputs": self.inputs, "outputs": self.outputs,
                           "tensors": [t.to_json() for t in self.tensors.values()],
                           "nodes": [n.to_json() for n in self.nodes]}, indent=1)

    @staticmethod
    def from_json(text: str) -> "Graph":
        d = json.loads(text)
        tensors = {t["name"]: Tensor.from_json(t) for t in d["tensors"]}
        return Graph(d["name"], tensors, [Node.from_json(n) for n in d["nodes"]],
                     list(d["inputs"]), list(d["outputs"]))
