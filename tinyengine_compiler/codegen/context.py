"""A planned inference Graph -> the plain dict that the templates render.

Takes an int8 forward Graph, the arena offset of every activation (from a planner) and the
arena size; guarantees a context in which every decision is already made: the kernel of each
node and its literal arguments, the arena offset of every activation, the Flash arrays of the
constants with C identifiers.  Templates only print it.
"""

from __future__ import annotations

import re

import numpy as np

from .. import __version__
from ..ir import DType, Graph
from .calls import forward_call

_CTYPES = {DType.INT8: "int8_t", DType.INT32: "int32_t", DType.FLOAT32: "float", DType.UINT8: "uint8_t"}


def _literal(v) -> str:
    """A C literal; INT32_MIN has none (2147483648 alone does not fit an int)."""
    return "INT32_MIN" if v == -(1 << 31) else str(v)


def _rows(values, per_row: int = 24) -> list[str]:
    """Array initializer text, `per_row` literals a line."""
    lits = [_literal(v) for v in values]
    return [", ".join(lits[i:i + per_row]) for i in range(0, len(lits), per_row)]


def _identifiers(names: list[str]) -> dict[str, str]:
    """Tensor name -> unique C identifier `tte_c_<sanitized>`."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = "tte_c_" + re.sub(r"\W", "_", name)
        ident, k = base, 1
        while ident in taken:
            ident, k = f"{base}_{k}", k + 1
        taken.add(ident)
        out[name] = ident
    return out


def build_context(g: Graph, offsets: dict[str, int], arena_bytes: int, *, source: str, source_sha256: str) -> dict:
    constants = [t.name for t in g.tensors.values() if t.is_constant]
    idents = _identifiers(constants)

    def ref(name: str) -> str:
        t = g.tensors[name]
        if t.is_constant:
            return idents[name]
        return f"(({_CTYPES[t.dtype]} *)(tte_arena + {offsets[name]}))"

    calls, statics, used_constants = [], [], set()
    for i, node in enumerate(g.nodes):
        call = forward_call(g, node, f"n{i}", ref)
        calls.append({"comment": f"{node.name}: {node.op.value} -> {', '.join(node.outputs)}",
                      "symbol": call.symbol, "args": call.args})
        statics.extend(call.statics)
        used_constants.update(n for n in node.inputs if g.tensors[n].is_constant and idents[n] in call.args)
    x, y = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    return {
        "version": __version__, "source": source, "source_sha256": source_sha256, "model": g.name,
        "arena_bytes": arena_bytes,
        "input": {"offset": offsets[x.name], "bytes": x.nbytes, "shape": list(x.shape)},
        "output": {"offset": offsets[y.name], "bytes": y.nbytes, "shape": list(y.shape)},
        "statics": [{"ctype": s.ctype, "name": s.name, "count": s.count, "rows": _rows(s.values)}
                    for s in statics],
        "constants": [{"ctype": _CTYPES[g.tensors[n].dtype], "name": idents[n], "count": g.tensors[n].size,
                       "rows": _rows(np.asarray(g.tensors[n].data).reshape(-1).tolist())}
                      for n in constants if n in used_constants],
        "calls": calls,
        "kernels": sorted({c["symbol"] for c in calls}),
    }
