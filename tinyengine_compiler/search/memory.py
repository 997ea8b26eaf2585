"""The memory of a search candidate: the peak SRAM `tte compile` would allocate for its scheme.

`PlannedMemory(g, space, options, cache)` is the `memory` function of search/optimize.py: for
each candidate, `pipeline.training_engine(g, scheme, options).summary["peak_sram_bytes"]`, the
figure `tte plan` prints and memory.json holds (arena, trained parameters, static buffers,
stack).  Nothing is estimated.  Answers are kept in the run cache (search/runs.py), keyed by
the model, the options and the candidate, so a resumed or repeated search plans nothing twice;
candidates are planned on the executor's processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from ..ir import Graph
from ..pipeline import Options, training_engine
from .runs import RunCache, map_jobs
from .space import Candidate, SearchSpace

_GRAPH: dict = {}    # the model of this process (a worker loads it once)


def _peak(args) -> int:
    model_path, space, options, c = args
    if _GRAPH.get("path") != model_path:
        from ..frontend import load_model
        _GRAPH.update(path=model_path, g=load_model(model_path))
    return int(training_engine(_GRAPH["g"], space.scheme(c), options).summary["peak_sram_bytes"])


class PlannedMemory:
    def __init__(self, model_path: str, g: Graph, space: SearchSpace, options: Options, cache: RunCache,
                 executor=None):
        _GRAPH.update(path=model_path, g=g)
        self.model_path, self.space, self.options, self.cache = model_path, space, options, cache
        self.executor = executor

    def key(self, c: Candidate) -> dict:
        return {"kind": "planned_sram", "options": asdict(self.options), "depth": c.depth, "ratios": list(c.ratios),
                "layers": list(self.space.layers), "num_convs": self.space.num_convs}

    def __call__(self, cands: Sequence[Candidate]) -> list[int]:
        out: dict[Candidate, int] = {}
        todo = []
        for c in cands:
            hit = self.cache.get(self.key(c))
            if hit is None:
                todo.append(c)
            else:
                out[c] = hit["bytes"]
        args = [(self.model_path, self.space, self.options, c) for c in todo]
        for c, need in zip(todo, map_jobs(_peak, args, self.executor)):
            self.cache.put(self.key(c), {"bytes": need})
            out[c] = need
        return [out[c] for c in cands]
