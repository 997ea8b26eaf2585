"""The paper's released int8 models (.pkl) -> IR Graph.

Takes one of the authors' files (a PyTorch zip archive whose `*/data.pkl` holds numpy arrays
and built-ins; format in docs/paper_models.md) and guarantees an int8 Graph that `ir.verify`
accepts, carrying exactly the file's int8 weights, int32 biases and scales:
first_conv -> blocks (pointwise1?, depthwise, pointwise2, residual add?) -> global average
pool -> classifier (a FULLY_CONNECTED on the pooled vector).

The pickle is untrusted input: it is read by an Unpickler that resolves only the four globals
a numpy array needs and refuses everything else, so a hostile file cannot run code.
"""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

from ..errors import ModelFormatError
from ..ir import DType, Graph, Node, OpKind, QParams, Tensor
from ..ir.verify import verify

INT8_MIN, INT8_MAX = -128, 127

# What a numpy array needs to unpickle.  NumPy 2 moved `numpy.core` to `numpy._core`; the
# released files name the old path and NumPy 2 writes the new one, so both spellings of the same
# function are admitted, resolved here rather than through the deprecated alias.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): __import__("codecs").encode,
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ModelFormatError(f"refusing to unpickle {module}.{name}: the paper's model files "
                                   "hold only numpy arrays") from None


def read_paper_pickle(path: str) -> dict:
    """The top-level dict of a paper model file, unpickled with the allow-list."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith("data.pkl")]
            if len(names) != 1:
                raise ModelFormatError(f"{path}: expected one */data.pkl in the archive, found {len(names)}")
            payload = z.read(names[0])
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelFormatError(f"{path}: not a readable model archive ({e})") from None
    try:
        d = _NumpyOnlyUnpickler(io.BytesIO(payload), encoding="latin1").load()
    except ModelFormatError as e:
        raise ModelFormatError(f"{path}: {e}") from None
    except Exception as e:
        raise ModelFormatError(f"{path}: corrupt pickle ({type(e).__name__}: {e})") from None
    if not isinstance(d, dict) or not {"first_conv", "blocks", "classifier"} <= set(d):
        raise ModelFormatError(f"{path}: not a paper model (expects first_conv, blocks, classifier)")
    return d


class _Builder:
    """Appends nodes to a graph, threading the current activation and its qparams."""

    def __init__(self, path: str, input_size: int, x_scale: float, x_zero: int):
        self.path = path
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list[Node] = []
        self.conv_index = 0
        self.current = self._activation("input", (1, input_size, input_size, 3), QParams.make(x_scale, x_zero))

    def _activation(self, name, shape, qp) -> str:
        self.tensors[name] = Tensor(name, tuple(shape), DType.INT8, qp)
        return name

    def _const(self, name, data, dtype, qp=None) -> str:
        self.tensors[name] = Tensor(name, tuple(data.shape), dtype, qp, np.ascontiguousarray(data))
        return name

    def _check_input(self, name: str, x_scale: float, x_zero: int, tensor: str | None = None) -> None:
        """The file repeats each layer's input quantization; it must match what feeds the layer."""
        qp = self.tensors[tensor or self.current].qparams
        if qp.zero_point[0] != int(x_zero) or not np.isclose(qp.scale[0], np.float32(x_scale), rtol=1e-6):
            raise ModelFormatError(f"{self.path}: {name} expects input scale {x_scale} zero {x_zero}, "
                                   f"but the previous layer outputs scale {qp.scale[0]} zero {qp.zero_point[0]}")

    def conv(self, name: str, layer: dict) -> None:
        try:
            p = layer["params"]
            w, bias, w_scales = p["weight"], p["bias"], p["w_scales"]
            x_scale, x_zero, y_scale, y_zero = p["x_scale"], p["x_zero"], p["y_scale"], p["y_zero"]
            k, stride = layer["kernel_size"], layer["stride"]
        except (KeyError, TypeError) as e:
            raise ModelFormatError(f"{self.path}: layer {name} lacks {e}") from None
        k = (k, k) if isinstance(k, int) else tuple(k)
        w = np.asarray(w)
        if w.dtype != np.int8 or w.ndim != 4:
            raise ModelFormatError(f"{self.path}: layer {name} weight must be 4-D int8, got {w.dtype} {w.shape}")
        self._check_input(name, x_scale, x_zero)
        x = self.tensors[self.current]
        depthwise = bool(layer.get("depthwise")) or (layer.get("groups", 1) == w.shape[0] and w.shape[1] == 1
                                                      and w.shape[0] > 1)
        cout = w.shape[0]
        if depthwise:
            op, w_ir, axis = OpKind.DEPTHWISE_CONV2D, w.transpose(1, 2, 3, 0), 3   # (C,1,kh,kw) -> 1HWC
        else:
            op, w_ir, axis = OpKind.CONV2D, w.transpose(0, 2, 3, 1), 0             # OIHW -> OHWI
        pads = (k[0] // 2, k[1] // 2, k[0] // 2, k[1] // 2)
        s = (int(stride), int(stride))
        oh = (x.shape[1] + 2 * pads[0] - k[0]) // s[0] + 1
        ow = (x.shape[2] + 2 * pads[1] - k[1]) // s[1] + 1
        w_qp = QParams.make(w_scales, 0, axis=axis)
        bias_qp = QParams.make(np.float64(x_scale) * np.asarray(w_scales, np.float64), 0, axis=0)
        wt = self._const(f"{name}.weight", w_ir, DType.INT8, w_qp)
        bt = self._const(f"{name}.bias", np.asarray(bias, np.int32), DType.INT32, bias_qp)
        out = self._activation(f"{name}.out", (1, oh, ow, cout), QParams.make(y_scale, y_zero))
        self.nodes.append(Node(name, op, [self.current, wt, bt], [out],
                               {"stride": s, "pads": pads, "act_min": INT8_MIN, "act_max": INT8_MAX,
                                "conv_index": self.conv_index}))
        self.conv_index += 1
        self.current = out

    def add(self, name: str, block_input: str, residual: dict) -> None:
        p = residual["params"]
        self._check_input(name, p["x_scale"], p["x_zero"], tensor=block_input)
        out = self._activation(f"{name}.out", self.tensors[self.current].shape, QParams.make(p["y_scale"], p["y_zero"]))
        self.nodes.append(Node(name, OpKind.ADD, [block_input, self.current], [out],
                               {"act_min": INT8_MIN, "act_max": INT8_MAX}))
        self.current = out

    def pool(self, name: str) -> None:
        x = self.tensors[self.current]
        out = self._activation(f"{name}.out", (1, 1, 1, x.shape[3]), x.qparams)
        self.nodes.append(Node(name, OpKind.GLOBAL_AVG_POOL, [self.current], [out], {}))
        self.current = out

    def classifier(self, name: str, layer: dict) -> None:
        p = layer["params"]
        self._check_input(name, p["x_scale"], p["x_zero"])
        w = np.asarray(p["weight"])
        w_qp = QParams.make(p["w_scales"], 0, axis=0)
        bias_qp = QParams.make(np.float64(p["x_scale"]) * np.asarray(p["w_scales"], np.float64), 0, axis=0)
        wt = self._const(f"{name}.weight", w.reshape(w.shape[0], -1), DType.INT8, w_qp)
        bt = self._const(f"{name}.bias", np.asarray(p["bias"], np.int32), DType.INT32, bias_qp)
        out = self._activation(f"{name}.out", (1, w.shape[0]), QParams.make(p["y_scale"], p["y_zero"]))
        self.nodes.append(Node(name, OpKind.FULLY_CONNECTED, [self.current, wt, bt], [out],
                               {"act_min": INT8_MIN, "act_max": INT8_MAX}))
        self.current = out


def load_paper_model(path: str, name: str | None = None) -> Graph:
    """Read a paper .pkl into an int8 IR Graph (NHWC input 1 x S x S x 3, S from the file)."""
    d = read_paper_pickle(path)
    first = d["first_conv"]
    try:
        b = _Builder(path, int(first["in_shape"]), first["params"]["x_scale"], first["params"]["x_zero"])
        b.conv("first_conv", first)
        for i, block in enumerate(d["blocks"]):
            block_input = b.current
            for part in ("pointwise1", "depthwise", "pointwise2"):
                if block.get(part) is not None:
                    b.conv(f"blocks.{i}.{part}", block[part])
            if block.get("residual") is not None:
                b.add(f"blocks.{i}.add", block_input, block["residual"])
        if d.get("feature_mix") is not None:
            b.conv("feature_mix", d["feature_mix"])
        b.pool("pool")
        b.classifier("classifier", d["classifier"])
    except (KeyError, TypeError, AttributeError) as e:
        raise ModelFormatError(f"{path}: unexpected model structure ({type(e).__name__}: {e})") from None
    model_name = name or path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    g = Graph(model_name, b.tensors, b.nodes, ["input"], [b.current])
    try:
        return verify(g)
    except ValueError as e:
        raise ModelFormatError(f"{path}: inconsistent model ({e})") from None
