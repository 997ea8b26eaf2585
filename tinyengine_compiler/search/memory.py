"""The memory of a search candidate: the peak SRAM `tte compile` would allocate for its scheme.

`PlannedMemory(inputs, space, options, cache, executor)` is the `memory` function of
search/optimize.py: for each candidate, `pipeline.training_engine(g, scheme,
options).summary["peak_sram_bytes"]`, the figure `tte plan` prints and memory.json holds (arena,
trained parameters, static buffers, stack).  Nothing is estimated.  Answers are kept in the run
cache (search/runs.py), keyed by the options that shape the engine and the candidate, so a resumed or repeated search plans
nothing twice; candidates are planned on the executor's processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from ..pipeline import Options, training_engine
from .runs import Inputs, RunCache, run_jobs, worker_inputs
from .space import Candidate, SearchSpace


def _peak(args) -> int:
    inputs, space, options, c = args
    g, _ = worker_inputs(inputs)
    return int(training_engine(g, space.scheme(c), options).summary["peak_sram_bytes"])


class PlannedMemory:
    def __init__(self, inputs: Inputs, space: SearchSpace, options: Options, cache: RunCache, executor=None,
                 progress=lambda k: None):
        self.inputs, self.space, self.options, self.cache = inputs, space, options, cache
        self.executor, self.progress = executor, progress

    def key(self, c: Candidate) -> dict:
        # not the budget (no fixed scheme's engine reads it), the head's seed or label smoothing
        options = {k: v for k, v in asdict(self.options).items() if k not in ("budget_bytes", "seed", "label_smoothing")}
        return {"kind": "planned_sram", "options": options, "depth": c.depth, "ratios": list(c.ratios),
                "layers": list(self.space.layers), "num_convs": self.space.num_convs}

    def __call__(self, cands: Sequence[Candidate]) -> list[int]:
        known = {c: hit["bytes"] for c in cands if (hit := self.cache.get(self.key(c))) is not None}

        def done(c, need):
            self.cache.put(self.key(c), {"bytes": need})
            known[c] = need
            self.progress(1)

        todo = [c for c in dict.fromkeys(cands) if c not in known]
        run_jobs(_peak, [(c, (self.inputs, self.space, self.options, c)) for c in todo], self.executor, done)
        return [known[c] for c in cands]
