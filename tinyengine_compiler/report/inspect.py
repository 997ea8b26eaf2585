"""`tte inspect`: per-layer output shape, parameters, MACs and Flash bytes of a Graph, with totals.

Rows use the key names of `report/memory.py`'s layer rows (`layer`, `op`, `out_shape`,
`params`, `macs`, `flash_bytes`) so that the memory report can take them as they are.

Conventions:
* **params**: elements of the weight and the bias (constant inputs of a weighted op).
* **MACs**: every weight element is used once per output position, so a weighted op costs
  (output elements / output channels) x weight elements.  That is Hout*Wout*Cout*k*k*Cin for
  CONV2D, Hout*Wout*C*k*k for DEPTHWISE_CONV2D and in*out for FULLY_CONNECTED (times the
  batch).  ADD and the pools count 0: they add, they do not multiply-accumulate.
* **flash_bytes**: the constants as stored, at their dtype's size (int8 weights 1 B, int32
  biases 4 B, float32 4 B), plus, for a weighted op with a quantized output, 8 B per output
  channel of requantization data (an int32 multiplier and an int32 shift); the tables an op
  reads: an int8 LUT's 256 entries (1 B each), the int32 channel lists of CONCAT (one an input)
  and CHANNEL_SELECT, a requantizing AVG_POOL2D's multiplier and shift per count of taps.  The
  per-tensor scales of ADD, MUL and the pools are literal arguments in the code, not tables,
  and count 0.
"""

from __future__ import annotations

from ..ir import Graph, Node, OpKind
from ..ir.ops import WEIGHTED_OPS

REQUANT_BYTES_PER_CHANNEL = 8   # int32 multiplier + int32 shift
COLUMNS = (("layer", "layer"), ("op", "op"), ("out_shape", "output (NHWC)"), ("params", "params"),
           ("macs", "MACs"), ("flash_bytes", "Flash B"))
NUMERIC = {"params", "macs", "flash_bytes"}


def layer_row(g: Graph, node: Node) -> dict:
    """One node's costs (conventions in the module docstring)."""
    out = g.tensors[node.outputs[0]]
    row = {"layer": node.name, "op": node.op.value, "out_shape": list(out.shape),
           "params": 0, "macs": 0, "flash_bytes": 0}
    if node.op in WEIGHTED_OPS:
        constants = [g.tensors[name] for name in node.inputs[1:]]
        channels = out.shape[-1]
        row["params"] = sum(t.size for t in constants)
        row["macs"] = out.size // channels * constants[0].size
        requant = REQUANT_BYTES_PER_CHANNEL * channels if out.qparams is not None else 0
        row["flash_bytes"] = sum(t.nbytes for t in constants) + requant
    row["flash_bytes"] += _table_bytes(g, node)
    return row


def _table_bytes(g: Graph, node: Node) -> int:
    """The constant tables codegen writes for a node that has no weights (module docstring)."""
    if node.op == OpKind.LUT:
        return len(node.attrs.get("table", ()))
    if node.op == OpKind.CONCAT:
        return 4 * sum(g.tensors[name].shape[-1] for name in node.inputs)
    if node.op == OpKind.CHANNEL_SELECT:
        return 4 * len(node.attrs["channels"])
    x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
    if node.op == OpKind.AVG_POOL2D and x.qparams is not None and x.qparams != y.qparams:
        return 8 * node.attrs["kernel"][0] * node.attrs["kernel"][1]
    return 0


def inspect_rows(g: Graph) -> tuple[list[dict], dict]:
    """(one row per node in execution order, totals of params, MACs and Flash bytes)."""
    rows = [layer_row(g, n) for n in g.nodes]
    totals = {"layers": len(rows), **{k: sum(r[k] for r in rows) for k in ("params", "macs", "flash_bytes")}}
    return rows, totals


def format_inspect(g: Graph) -> str:
    """The rows and totals as a text table with aligned columns (numbers right-aligned)."""
    rows, totals = inspect_rows(g)
    x = g.tensors[g.inputs[0]]
    total_row = {"layer": f"total ({totals['layers']} layers)", "op": "", "out_shape": "",
                 **{k: totals[k] for k in NUMERIC}}
    table = [[title for _, title in COLUMNS]] + [[_cell(key, r[key]) for key, _ in COLUMNS]
                                                 for r in rows + [total_row]]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = [_line(line, widths) for line in table]
    rule = "-" * len(lines[0])
    header = f"{g.name}: input {list(x.shape)} NHWC {x.dtype.value}"
    return "\n".join([header, lines[0], rule, *lines[1:-1], rule, lines[-1]])


def _cell(key: str, value) -> str:
    if key in NUMERIC:
        return f"{value:,}"
    if key == "out_shape" and value != "":
        return "x".join(str(d) for d in value)
    return str(value)


def _line(cells: list[str], widths: list[int]) -> str:
    parts = [c.rjust(w) if key in NUMERIC else c.ljust(w) for (key, _), c, w in zip(COLUMNS, cells, widths)]
    return "  ".join(parts).rstrip()
