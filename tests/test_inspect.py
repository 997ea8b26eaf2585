"""`tte inspect`: per-layer params, MACs and Flash bytes against hand-computed and independent numbers.

* A tiny hand-built IR graph, with every number worked out by hand in the comments.
* The paper's three models: totals computed here straight from the raw pickles' shapes (own
  allow-list unpickler, no package code), compared with `inspect_rows` of the imported graph.
* The example models: totals computed from `examples/architectures.py` alone.
"""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from examples.architectures import ARCHITECTURES, INPUT_SIZE, NUM_CLASSES
from tinyengine_compiler.cli import main
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.ir import DType, Graph, Node, OpKind, QParams, Tensor
from tinyengine_compiler.ir.verify import verify
from tinyengine_compiler.report.inspect import format_inspect, inspect_rows


def _tiny_graph(dtype: DType) -> Graph:
    """8x8x3 -> conv 3x3/2 (4 ch) -> depthwise 3x3/1 -> add(conv, dw) -> GAP -> FC 4->10."""
    q = dtype == DType.INT8
    bias_dtype = DType.INT32 if q else DType.FLOAT32
    act = QParams.make(0.05, -3) if q else None

    def activation(name, shape):
        return Tensor(name, shape, dtype, act)

    def const(name, shape, dt, channels):
        qp = QParams.make(np.full(channels, 0.01), 0, axis=0) if q and dt == DType.INT8 else None
        return Tensor(name, shape, dt, qp, np.ones(shape, dt.numpy))

    clamp = {"act_min": -128, "act_max": 127} if q else {"act_min": None, "act_max": None}
    conv = {"stride": (2, 2), "pads": (1, 1, 1, 1), **clamp}
    tensors = [activation("x", (1, 8, 8, 3)), activation("c", (1, 4, 4, 4)), activation("d", (1, 4, 4, 4)),
               activation("s", (1, 4, 4, 4)), activation("p", (1, 1, 1, 4)), activation("y", (1, 10)),
               const("c.w", (4, 3, 3, 3), dtype, 4), const("c.b", (4,), bias_dtype, 4),
               const("d.w", (1, 3, 3, 4), dtype, 4), const("d.b", (4,), bias_dtype, 4),
               const("f.w", (10, 4), dtype, 10), const("f.b", (10,), bias_dtype, 10)]
    nodes = [Node("conv", OpKind.CONV2D, ["x", "c.w", "c.b"], ["c"], conv),
             Node("dw", OpKind.DEPTHWISE_CONV2D, ["c", "d.w", "d.b"], ["d"], {**conv, "stride": (1, 1)}),
             Node("add", OpKind.ADD, ["c", "d"], ["s"], dict(clamp)),
             Node("gap", OpKind.GLOBAL_AVG_POOL, ["s"], ["p"], {}),
             Node("fc", OpKind.FULLY_CONNECTED, ["p", "f.w", "f.b"], ["y"], dict(clamp))]
    return verify(Graph("tiny", {t.name: t for t in tensors}, nodes, ["x"], ["y"]))


# (layer, op, out_shape, params, MACs, int8 Flash bytes), by hand:
#   conv: 4*3*3*3 = 108 weights + 4 biases; MACs 4*4 positions * 4 out * 3*3 * 3 in = 1728;
#         Flash 108 + 4*4 (int32 bias) + 4*8 (multiplier, shift) = 156
#   dw:   3*3*4 = 36 weights + 4 biases; MACs 4*4 * 4 * 3*3 = 576; Flash 36 + 16 + 32 = 84
#   fc:   10*4 = 40 weights + 10 biases; MACs 40; Flash 40 + 40 + 80 = 160
TINY_ROWS = [("conv", "CONV2D", [1, 4, 4, 4], 112, 1728, 156),
             ("dw", "DEPTHWISE_CONV2D", [1, 4, 4, 4], 40, 576, 84),
             ("add", "ADD", [1, 4, 4, 4], 0, 0, 0),
             ("gap", "GLOBAL_AVG_POOL", [1, 1, 1, 4], 0, 0, 0),
             ("fc", "FULLY_CONNECTED", [1, 10], 50, 40, 160)]


def test_int8_rows_match_hand_computed_numbers():
    rows, totals = inspect_rows(_tiny_graph(DType.INT8))
    got = [(r["layer"], r["op"], r["out_shape"], r["params"], r["macs"], r["flash_bytes"]) for r in rows]
    assert got == TINY_ROWS
    assert totals == {"layers": 5, "params": 202, "macs": 2344, "flash_bytes": 400}


def test_float_graph_counts_four_bytes_per_parameter_and_no_requantization_data():
    rows, totals = inspect_rows(_tiny_graph(DType.FLOAT32))
    assert [r["flash_bytes"] for r in rows] == [4 * 112, 4 * 40, 0, 0, 4 * 50]
    assert (totals["params"], totals["macs"], totals["flash_bytes"]) == (202, 2344, 808)


def test_table_has_aligned_columns_and_the_totals():
    text = format_inspect(_tiny_graph(DType.INT8))
    lines = text.splitlines()
    assert lines[0].startswith("tiny: input [1, 8, 8, 3]")
    table = lines[1:]
    assert len(table) == 1 + 1 + 5 + 1 + 1   # header, rule, 5 layers, rule, total
    assert len({len(line) for line in table}) == 1, "right-aligned last column: every line equally long"
    conv = table[2].split()
    assert conv == ["conv", "CONV2D", "1x4x4x4", "112", "1,728", "156"]
    assert table[-1].split()[-3:] == ["202", "2,344", "400"]
    # Each numeric value ends in the same column as its header.
    for title in ("params", "MACs", "Flash"):
        end = table[0].index(title) + len(title) if title != "Flash" else len(table[0])
        assert table[2][:end].rstrip() == table[2][:end]


def _safe_load_pickle(path: str) -> dict:
    """The raw model dict, read here without the package: only numpy's array globals resolve."""
    allowed = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) not in allowed:
                raise pickle.UnpicklingError(f"{module}.{name} is not allowed")
            return super().find_class(module.replace("numpy.core.", "numpy._core."), name)

    with zipfile.ZipFile(path) as z:
        payload = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    return Restricted(io.BytesIO(payload), encoding="latin1").load()


def _pickle_totals(d: dict) -> dict:
    """params, MACs and int8 Flash bytes summed over every conv and the classifier of a raw model."""
    convs = [d["first_conv"]] + [b[k] for b in d["blocks"] for k in ("pointwise1", "depthwise", "pointwise2")
                                 if b[k] is not None]
    params = macs = flash = 0
    for conv in convs + [d["classifier"]]:
        w, bias = conv["params"]["weight"], conv["params"]["bias"]
        params += w.size + bias.size
        # The classifier runs once, on the pooled vector; a conv once per output pixel.
        positions = 1 if conv is d["classifier"] else conv["out_shape"] ** 2
        macs += positions * w.size
        flash += w.size * 1 + bias.size * 4 + w.shape[0] * 8
    return {"params": params, "macs": macs, "flash_bytes": flash, "weighted": len(convs) + 1}


@pytest.mark.parametrize("name", ["mcunet-5fps", "mbv2-w0.35", "proxyless-w0.3"])
def test_paper_model_totals_match_the_raw_pickle(paper_models_dir, name):
    path = f"{paper_models_dir}/{name}.pkl"
    expected = _pickle_totals(_safe_load_pickle(path))
    rows, totals = inspect_rows(load_model(path))
    assert sum(r["params"] > 0 for r in rows) == expected["weighted"]
    assert {k: totals[k] for k in ("params", "macs", "flash_bytes")} == \
        {k: expected[k] for k in ("params", "macs", "flash_bytes")}


def _architecture_totals(arch) -> tuple[int, int]:
    """(params, MACs) of an example architecture from its table alone, biases included."""
    size = INPUT_SIZE
    params = macs = 0

    def conv(cin, cout, k, stride, groups=1):
        nonlocal size, params, macs
        size = (size + 2 * (k // 2) - k) // stride + 1
        weights = cout * (cin // groups) * k * k
        params += weights + cout
        macs += size * size * weights

    cout, k, stride = arch.first_conv
    conv(3, cout, k, stride)
    channels = cout
    for b in arch.blocks:
        width = b.expand or channels
        if b.expand:
            conv(channels, width, 1, 1)
        conv(width, width, b.kernel, b.stride, groups=width)
        conv(width, b.out, 1, 1)
        channels = b.out
    params += NUM_CLASSES * (channels + 1)
    macs += NUM_CLASSES * channels
    return params, macs


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_cli_json_totals_of_example_models_match_their_architecture(example_models, name):
    r = CliRunner().invoke(main, ["inspect", "--json", example_models[name]["int8"]])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert (out["totals"]["params"], out["totals"]["macs"]) == _architecture_totals(ARCHITECTURES[name])
    assert len(out["layers"]) == out["totals"]["layers"]
