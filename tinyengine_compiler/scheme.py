"""Sparse-update schemes: which parameters train (docs/sparse_update.md).

An `UpdateScheme` is what the user wrote (a preset name or a JSON file); `resolve()` checks it
against a model and turns it into `{layer name: LayerUpdate(bias, channels)}`, the form
`passes/sparse_update.py` takes.  Layers are named by node name, by "classifier" (the weighted
node that produces the logits) or by the paper's conv index: the weighted nodes other than
the classifier, numbered in forward order from 0 (first_conv = 0, then each block's
pointwise1, depthwise, pointwise2).

Paper shorthand (`n_bias_update`, `manual_weight_idx`, `weight_update_ratio`): the biases of
the last n numbered convs, the weights of the listed convs for a fraction of their input
channels (0 = none), and the classifier's weight and bias always.  A conv whose weight trains
also trains its bias.

The `auto` preset follows the paper's recipe by position on any model (`auto_candidates`):
the pipeline builds its candidates, largest first, and keeps the largest that fits the SRAM
budget (pipeline.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace

import numpy as np

from .errors import ConfigError
from .ir import Graph, OpKind
from .ir.ops import WEIGHTED_OPS, is_pointwise

RATIOS = (0.0, 0.125, 0.25, 0.5, 1.0)
CHANNEL_SELECTIONS = ("norm", "first")
WEIGHT_STORAGES = ("int8", "float32")
# How an int8 weight or int32 bias updated in place rounds its step (reference/backward/sgd_update.py)
ROUNDINGS = ("nearest", "stochastic")
# The SRAM every command fits the engine into by default: the STM32F746 training budget.
DEFAULT_BUDGET_BYTES = 256 * 1024
ALL = "all"

LayerRef = int | str
Selection = float | tuple[int, ...]   # a ratio in RATIOS, or explicit input channels


@dataclass(frozen=True)
class LayerUpdate:
    """What trains in one layer: its bias, and its weight for these input channels (None: frozen);
    the momentum of its SGD steps (0: plain SGD, no velocity kept)."""

    bias: bool
    channels: tuple[int, ...] | None
    momentum: float = 0.0


@dataclass(frozen=True)
class UpdateScheme:
    name: str
    biases: tuple[LayerRef, ...] | str = ()                       # layers whose bias trains, or "all"
    weights: tuple[tuple[LayerRef, Selection], ...] | str = ()    # (layer, selection), or "all"
    n_bias_update: int = 0                                        # paper shorthand, see module doc
    channel_selection: str = "norm"                               # "norm": largest |W[..., i]|; "first"
    weight_storage: str = "int8"                                  # trained weights: int8, or a float32 master too
    rounding: str = "nearest"                                     # in-place int8 / int32 steps: nearest or stochastic
    momentum: float = 0.0                                         # SGD momentum (0: plain SGD) ...
    momentum_layers: tuple[LayerRef, ...] | str = ALL             # ... of these trained layers' parameters
    bias_lr_scale: float = 1.0                                    # a bias steps at lr * bias_lr_scale
    step_clip: float = 0.0                                        # a weight row's step at most this times
                                                                  # its largest |weight| (int8 steps); 0: off
    num_convs: int | None = None                                  # the model a paper preset is for
    fit_to_budget: bool = False                                   # `auto`: one of auto_candidates, chosen
                                                                  # by the pipeline under the budget

    def training_in_full(self, layer: LayerRef) -> "UpdateScheme":
        """The same scheme with `layer` training its whole weight and its bias."""
        if self.weights == ALL:
            return self
        weights = tuple(w for w in self.weights if w[0] != layer) + ((layer, 1.0),)
        biases = self.biases if self.biases == ALL else tuple(self.biases) + (layer,)
        return replace(self, weights=weights, biases=biases)


def _paper(name, n_bias, idx, ratios, num_convs):
    return UpdateScheme(name, biases=("classifier",), weights=(("classifier", 1.0),) + tuple(zip(idx, ratios)),
                        n_bias_update=n_bias, num_convs=num_convs)


PRESETS = {
    "full": UpdateScheme("full", biases=ALL, weights=ALL),
    "last-layer": UpdateScheme("last-layer", biases=("classifier",), weights=(("classifier", 1.0),)),
    "bias-only": UpdateScheme("bias-only", biases=ALL),
    "paper-mcunet-5fps": _paper("paper-mcunet-5fps", 22, (21, 24, 27, 30, 36, 39), (1, 1, 1, 1, 0.125, 0.25), 42),
    "paper-mbv2-w0.35": _paper("paper-mbv2-w0.35", 25, (27, 30, 33, 36, 39, 42, 45, 48),
                               (1, 1, 1, 1, 1, 0.125, 0.5, 1), 51),
    "paper-proxyless-w0.3": _paper("paper-proxyless-w0.3", 25, (36, 39, 42, 45, 48, 51, 54, 57),
                                   (1, 0.5, 1, 1, 0.25, 0.5, 1, 1), 60),
    "auto": UpdateScheme("auto", fit_to_budget=True),
    # TinyEngine's STM32F746 demo, listed by what it trains (the shared models README).
    "sparse_49kb": UpdateScheme("sparse_49kb", biases=("classifier",) + tuple(range(22, 42)),
                                weights=(("classifier", 1.0), (24, 0.25), (27, 0.5), (30, 0.5)), num_convs=42),
}

_KEYS = {"bias", "weight", "n_bias_update", "manual_weight_idx", "weight_update_ratio",
         "channel_selection", "weight_storage", "rounding", "momentum", "momentum_layers", "bias_lr_scale",
         "step_clip"}


def load_scheme(spec: str) -> UpdateScheme:
    """A preset name or the path of a JSON scheme file."""
    if spec in PRESETS:
        return PRESETS[spec]
    if not os.path.isfile(spec):
        raise ConfigError(f"--update {spec}: neither a preset ({', '.join(PRESETS)}) nor a file")
    try:
        with open(spec) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{spec}: not a readable JSON scheme ({type(e).__name__}: {e})") from None
    return parse_scheme(d, name=os.path.basename(spec))


def parse_scheme(d: dict, name: str = "scheme") -> UpdateScheme:
    """A scheme from its JSON form (docs/sparse_update.md); checks types, not the model."""
    if not isinstance(d, dict) or set(d) - _KEYS:
        extra = sorted(set(d) - _KEYS) if isinstance(d, dict) else d
        raise ConfigError(f"{name}: unknown keys {extra}; allowed: {', '.join(sorted(_KEYS))}")
    biases = d.get("bias", [])
    weights = d.get("weight", {})
    if biases != ALL:
        if not isinstance(biases, list):
            raise ConfigError(f'{name}: "bias" must be a list of layers or "all"')
        biases = tuple(_ref(name, r) for r in biases)
    if weights != ALL:
        if not isinstance(weights, dict):
            raise ConfigError(f'{name}: "weight" must map layers to a ratio or a channel list, or be "all"')
        weights = tuple((_ref(name, k), _selection(name, k, v)) for k, v in weights.items())
    idx, ratios = d.get("manual_weight_idx", []), d.get("weight_update_ratio", [])
    if len(idx) != len(ratios):
        raise ConfigError(f"{name}: manual_weight_idx has {len(idx)} entries but weight_update_ratio {len(ratios)}")
    n_bias = d.get("n_bias_update", 0)
    if not isinstance(n_bias, int) or n_bias < 0:
        raise ConfigError(f"{name}: n_bias_update must be a non-negative integer, got {n_bias!r}")
    shorthand = bool(idx) or "n_bias_update" in d
    if shorthand:   # the paper's classifier always trains
        weights = weights if weights == ALL else weights + (("classifier", 1.0),) + tuple(
            (_ref(name, i), _selection(name, i, r)) for i, r in zip(idx, ratios))
        biases = biases if biases == ALL else biases + ("classifier",)
    for key, allowed in (("channel_selection", CHANNEL_SELECTIONS), ("weight_storage", WEIGHT_STORAGES),
                         ("rounding", ROUNDINGS)):
        if d.get(key, allowed[0]) not in allowed:
            raise ConfigError(f"{name}: {key} must be one of {', '.join(allowed)}, got {d[key]!r}")
    momentum_layers = d.get("momentum_layers", ALL)
    if momentum_layers != ALL:
        if not isinstance(momentum_layers, list):
            raise ConfigError(f'{name}: "momentum_layers" must be a list of layers or "all"')
        momentum_layers = tuple(_ref(name, r) for r in momentum_layers)
    return UpdateScheme(name, biases, weights, n_bias, d.get("channel_selection", "norm"),
                        d.get("weight_storage", "int8"), d.get("rounding", "nearest"),
                        check_momentum(d.get("momentum", 0.0), name), momentum_layers,
                        check_bias_lr_scale(d.get("bias_lr_scale", 1.0), name),
                        check_step_clip(d.get("step_clip", 0.0), name))


def _float32(v) -> float | None:
    """v rounded to float32 (what the engine computes with), or None for a non-number or one
    past float32's range."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        with np.errstate(over="ignore"):
            f = np.float32(v)
    except OverflowError:   # an int past float64's range
        return None
    return float(f) if np.isfinite(f) else None


def check_momentum(v, where: str) -> float:
    """A momentum in [0, 1) once rounded to float32, as a float; 0.0 when it rounds to zero (no
    velocities then)."""
    f = _float32(v)
    if f is None or not 0.0 <= f < 1.0:
        raise ConfigError(f"{where}: momentum must be a number in [0, 1) in float32, got {v!r}")
    return float(v) if f else 0.0


def check_bias_lr_scale(v, where: str) -> float:
    """A bias learning-rate scale, positive and finite once rounded to float32, as that value."""
    f = _float32(v)
    if f is None or not f > 0.0:
        raise ConfigError(f"{where}: bias_lr_scale must be a positive number, finite in float32, got {v!r}")
    return float(v)


def check_step_clip(v, where: str) -> float:
    """A step clip (docs/sparse_update.md): 0 (off) or a positive number, finite in float32, as
    that value."""
    f = _float32(v)
    if f is None or f < 0.0:
        raise ConfigError(f"{where}: step_clip must be 0 (off) or a positive number, finite in float32, got {v!r}")
    return float(v) if f else 0.0


def _ref(name: str, r) -> LayerRef:
    if isinstance(r, bool) or not isinstance(r, (int, str)):
        raise ConfigError(f"{name}: layer {r!r} must be a conv index or a layer name")
    return int(r) if isinstance(r, str) and r.isdigit() else r


def _selection(name: str, layer, v) -> Selection:
    if isinstance(v, list):
        if not v or not all(isinstance(c, int) and not isinstance(c, bool) for c in v):
            raise ConfigError(f"{name}: layer {layer}: a channel list must be a non-empty list of integers")
        return tuple(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not any(np.isclose(v, r) for r in RATIOS):
        raise ConfigError(f"{name}: layer {layer}: weight ratio {v!r} must be one of 1, 0.5, 0.25, 0.125 or 0")
    return float(v)


def classifier_name(g: Graph) -> str:
    node = g.producer(g.outputs[0])
    if node is None or node.op not in WEIGHTED_OPS:
        raise ConfigError(f"model '{g.name}': the logits are not produced by a weighted layer (no classifier)")
    return node.name


def numbered_convs(g: Graph) -> list[str]:
    """The paper's conv numbering: weighted nodes in forward order, the classifier excluded."""
    classifier = classifier_name(g)
    return [n.name for n in g.nodes if n.op in WEIGHTED_OPS and n.name != classifier]


# The input-channel ratios of the weights `auto` trains, the last block's first: the paper's
# schemes train the last blocks' expand convs in full and earlier ones in part.
AUTO_RATIOS = (1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125)


def block_heads(g: Graph) -> list[str]:
    """The first 1x1 conv of each block, in forward order: a numbered pointwise CONV2D whose
    output reaches a depthwise conv through element-wise activations only (the expand conv of an
    inverted bottleneck); in a net without depthwise convs, every numbered pointwise CONV2D."""
    convs = numbered_convs(g)
    pointwise = [n for n in convs if g.node(n).op == OpKind.CONV2D
                 and is_pointwise(g.tensors[g.node(n).inputs[1]].shape, g.node(n).attrs["pads"])]
    if not any(n.op == OpKind.DEPTHWISE_CONV2D for n in g.nodes):
        return pointwise

    def feeds_depthwise(tensor: str) -> bool:
        for reader in g.consumers(tensor):
            if reader.op == OpKind.DEPTHWISE_CONV2D or (reader.op == OpKind.LUT and feeds_depthwise(reader.outputs[0])):
                return True
        return False

    return [n for n in pointwise if feeds_depthwise(g.node(n).outputs[0])]


def auto_candidates(g: Graph) -> list[UpdateScheme]:
    """The schemes `auto` chooses from, largest first.  With n numbered convs: the biases of the
    last ceil(n / 2), plus the weights of the last m block heads among them (`block_heads`) at
    AUTO_RATIOS, m from len(AUTO_RATIOS) down to 0; then the biases of fewer convs (halving);
    then the classifier alone.  The classifier always trains in full."""
    convs = numbered_convs(g)
    k = (len(convs) + 1) // 2
    heads = [convs.index(h) for h in block_heads(g) if convs.index(h) >= len(convs) - k]
    out = []
    for m in range(min(len(AUTO_RATIOS), len(heads)), -1, -1) if k else ():
        weights = tuple(zip(reversed(heads[len(heads) - m:]), AUTO_RATIOS))
        heads_trained = f"{m} block head{'' if m == 1 else 's'}"
        out.append(UpdateScheme(f"auto: biases of the last {k} convs, weights of {heads_trained}",
                                biases=("classifier",), weights=(("classifier", 1.0),) + weights, n_bias_update=k))
    while k > 1:
        k //= 2
        out.append(UpdateScheme(f"auto: biases of the last {k} convs", biases=("classifier",),
                                weights=(("classifier", 1.0),), n_bias_update=k))
    out.append(replace(PRESETS["last-layer"], name="auto: the classifier only"))
    return out


def resolve(scheme: UpdateScheme, g: Graph) -> dict[str, LayerUpdate]:
    """Check `scheme` against the model and list what trains, layer by layer."""
    if scheme.fit_to_budget:
        raise ConfigError("scheme auto is one of auto_candidates, chosen under a budget: build it with "
                          "pipeline.training_engine")
    convs = numbered_convs(g)
    layers = convs + [classifier_name(g)]
    if scheme.num_convs is not None and scheme.num_convs != len(convs):
        raise ConfigError(f"scheme {scheme.name} is for a model with {scheme.num_convs} numbered convs; "
                          f"'{g.name}' has {len(convs)}")
    if scheme.n_bias_update > len(convs):
        raise ConfigError(f"scheme {scheme.name}: n_bias_update {scheme.n_bias_update} exceeds the "
                          f"{len(convs)} numbered convs of '{g.name}'")

    def lookup(ref: LayerRef) -> str:
        if isinstance(ref, int):
            if not 0 <= ref < len(convs):
                raise ConfigError(f"scheme {scheme.name}: conv index {ref} is out of range: "
                                  f"'{g.name}' has {len(convs)} numbered convs (0..{len(convs) - 1})")
            return convs[ref]
        if ref == "classifier":
            return layers[-1]
        if ref not in layers:
            raise ConfigError(f"scheme {scheme.name}: no weighted layer named '{ref}' in '{g.name}'")
        return ref

    biased = set(layers) if scheme.biases == ALL else {lookup(r) for r in scheme.biases}
    biased |= set(convs[len(convs) - scheme.n_bias_update:]) if scheme.n_bias_update else set()
    selections = [(name, 1.0) for name in layers] if scheme.weights == ALL else \
        [(lookup(r), sel) for r, sel in scheme.weights]
    chosen: dict[str, tuple[int, ...]] = {}
    for name, sel in selections:
        channels = _channels(g, scheme, name, sel)
        if channels is not None:
            chosen[name] = channels
    biased |= set(chosen)
    if not biased:
        raise ConfigError(f"scheme {scheme.name} trains nothing")
    with_momentum = set(layers) if scheme.momentum_layers == ALL else {lookup(r) for r in scheme.momentum_layers}
    if scheme.momentum_layers != ALL:
        if not scheme.momentum:
            raise ConfigError(f"scheme {scheme.name}: momentum_layers is given but momentum is 0")
        idle = sorted(with_momentum - biased)
        if idle:
            raise ConfigError(f"scheme {scheme.name}: momentum_layers names layers that do not train: "
                              f"{', '.join(idle)}")
    return {name: LayerUpdate(name in biased, chosen.get(name), scheme.momentum if name in with_momentum else 0.0)
            for name in layers if name in biased}


def _channels(g: Graph, scheme: UpdateScheme, layer: str, sel: Selection) -> tuple[int, ...] | None:
    w = g.tensors[g.node(layer).inputs[1]]
    n_in = w.shape[-1]
    if isinstance(sel, tuple):
        if len(set(sel)) != len(sel) or not all(0 <= c < n_in for c in sel):
            raise ConfigError(f"scheme {scheme.name}: layer {layer}: channels must be distinct and in 0..{n_in - 1}")
        return tuple(sorted(sel))
    if sel == 0.0:
        return None
    keep = max(1, int(n_in * sel))
    if scheme.channel_selection == "first" or keep == n_in:
        return tuple(range(keep))
    real = w.data.astype(np.float64) * _per_channel_scale(w)
    norms = np.sqrt((real.reshape(-1, n_in) ** 2).sum(axis=0))
    return tuple(sorted(np.argsort(-norms, kind="stable")[:keep].tolist()))


def _per_channel_scale(w) -> np.ndarray:
    shape = [1] * len(w.shape)
    if w.qparams.axis is not None:
        shape[w.qparams.axis] = -1
    return np.asarray(w.qparams.scale, dtype=np.float64).reshape(shape)
