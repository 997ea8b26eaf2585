"""The search space of `tte search`: what a sparse-update scheme may train, on any model.

Layers are numbered as docs/sparse_update.md says (`scheme.numbered_convs`: the weighted nodes
in forward order, the classifier excluded).  A `Candidate` is
  * `depth`: the biases of the last `depth` numbered convs train (the paper's n_bias_update);
  * `ratios`: for each layer of `SearchSpace.layers`, the ratio of its input channels whose
    weights train (scheme.RATIOS; 0: frozen).  A layer whose weight trains trains its bias too.
The classifier (the new head) always trains in full.

The weight layers are the block heads (`scheme.block_heads`: the expand convs of inverted
bottlenecks, or every pointwise conv of a net without depthwise convs) among the last half of
the numbered convs, at most `max_layers` of them, the last ones: where the paper's schemes
train weights.  The bias depths are fractions of the numbered convs (DEPTH_FRACTIONS).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph
from ..scheme import RATIOS, UpdateScheme, block_heads, numbered_convs

DEPTH_FRACTIONS = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0)
QUICK_DEPTH_FRACTIONS = (0.0, 0.25, 0.5)
QUICK_RATIOS = (0.0, 0.25, 1.0)


@dataclass(frozen=True, order=True)
class Candidate:
    depth: int
    ratios: tuple[float, ...]   # one per SearchSpace.layers


@dataclass(frozen=True)
class SearchSpace:
    num_convs: int
    depths: tuple[int, ...]          # the bias depths to choose from, increasing, the first 0
    layers: tuple[int, ...]          # the numbered convs whose weights may train, increasing
    ratios: tuple[float, ...]        # the ratios each of them may take, increasing, the first 0

    def size(self) -> int:
        return len(self.depths) * len(self.ratios) ** len(self.layers)

    def trained(self, c: Candidate) -> list[tuple[int, float]]:
        """The (layer, ratio) of each weight layer `c` trains."""
        return [(layer, r) for layer, r in zip(self.layers, c.ratios) if r]

    def scheme(self, c: Candidate, name: str = "searched") -> UpdateScheme:
        """The scheme of `c` in the paper's shorthand (docs/sparse_update.md)."""
        return UpdateScheme(name, biases=("classifier",), weights=(("classifier", 1.0), *self.trained(c)),
                            n_bias_update=c.depth, num_convs=self.num_convs)

    def scheme_json(self, c: Candidate) -> dict:
        """The JSON `tte compile --update` reads for `c`."""
        trained = self.trained(c)
        return {"n_bias_update": c.depth, "manual_weight_idx": [layer for layer, _ in trained],
                "weight_update_ratio": [r for _, r in trained]}

    def describe(self, c: Candidate) -> str:
        weights = ", ".join(f"{layer}@{r:g}" for layer, r in self.trained(c)) or "none"
        return f"biases of the last {c.depth} convs; weights {weights}"

    def biases_only(self, depth: int) -> Candidate:
        """The biases of the last `depth` convs and the classifier; no other weight."""
        return Candidate(depth, (0.0,) * len(self.layers))

    def with_weight(self, depth: int, layer: int, ratio: float) -> Candidate:
        """biases_only(depth) and the weight of `layer` at `ratio`."""
        return Candidate(depth, tuple(ratio if x == layer else 0.0 for x in self.layers))

    def smallest(self) -> Candidate:
        """The classifier alone."""
        return self.biases_only(0)


def search_space(g: Graph, quick: bool = False, max_layers: int = 8) -> SearchSpace:
    """The space of forward graph `g` (with or without its new head: the head is not numbered)."""
    convs = numbered_convs(g)
    n = len(convs)
    fractions = QUICK_DEPTH_FRACTIONS if quick else DEPTH_FRACTIONS
    depths = tuple(sorted({round(n * f) for f in fractions}))
    heads = [convs.index(h) for h in block_heads(g) if convs.index(h) >= n // 2]
    layers = tuple(heads[len(heads) - min(len(heads), max_layers // 2 if quick else max_layers):])
    return SearchSpace(n, depths, layers, QUICK_RATIOS if quick else RATIOS)
