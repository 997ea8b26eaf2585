"""`tte search`: the sparse-update scheme of largest measured contribution under an SRAM budget.

1. Fine-tuning runs on the target data (search/finetune.py, the host C engine) measure each
   part's contribution (search/contribution.py).
2. The exact search (and, beside it, the evolutionary one) picks the candidate of largest
   summed contribution whose planned SRAM fits the budget (search/optimize.py, memory.py);
   again at 0.7x the budget, for the report.
3. The scheme JSON, and its report (<stem>.md, <stem>.svg) beside it, are written whole.

Every run and plan is cached in `cache` (search/runs.py), so a search resumes.  The searched
scheme's planned SRAM is what `tte compile --update <scheme.json>` allocates with the same
options, so it passes `tte compile --budget` with the budget it was searched for.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..datasets import load_split
from ..errors import BudgetError, ConfigError
from ..frontend import load_model
from ..frontend.inputs import quantize_image
from ..pipeline import Options
from .contribution import analyse
from .memory import PlannedMemory
from .optimize import Result, evolve, exact
from .report import render_markdown, render_svg
from .runs import RunCache, finetune_run, set_worker_data
from .space import Candidate, search_space

LOWER_BUDGET = 0.7        # the report's second budget, a share of the first
EXACT_MAX_PLANS = 300     # plans the exact search may make before it gives up proving


@dataclass(frozen=True)
class Protocol:
    train_per_class: int
    test_per_class: int
    epochs: int
    lr: float
    seed: int

    def describe(self) -> str:
        return (f"{self.train_per_class} training and {self.test_per_class} test images a class, {self.epochs} "
                f"epoch{'s' if self.epochs > 1 else ''}, SGD at batch 1, lr {self.lr:g} on a cosine schedule, "
                f"image order and flips of seed {self.seed}")


def load_task_data(dataset: str, classes: tuple[int, ...], train_per_class: int, test_per_class: int, g) -> tuple:
    """(train int8 images [N, 1, S, S, 3], labels, test images, labels) at the model's input."""
    tr_x, tr_y, te_x, te_y = load_split(dataset, list(classes), train_per_class, test_per_class,
                                        g.tensors[g.inputs[0]].shape[1])
    quant = lambda images: np.stack([quantize_image(g, im) for im in images])   # noqa: E731
    return quant(tr_x), tr_y, quant(te_x), te_y


def _sha256(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def search(model_path: str, dataset: str, num_classes: int, budget: int, protocol: Protocol, out: str, *,
           options: Options = Options(), quick: bool = False, jobs: int = 1, cache_dir: str | None = None,
           executor=None, progress=None, echo=lambda line: None) -> dict:
    """Search, write `out` (the scheme JSON) and its report; return a summary.  `progress(label,
    total)` makes a progress bar (an object with update(k) and close()); `executor` replaces the
    process pool of `jobs`."""
    if not out.endswith(".json"):
        raise ConfigError(f"-o {out}: the scheme is a .json file")
    g = load_model(model_path)
    space = search_space(g, quick=quick)
    options = replace(options, num_classes=num_classes, budget_bytes=budget)
    classes = tuple(range(num_classes))
    load_data = functools.partial(load_task_data, dataset, classes, protocol.train_per_class, protocol.test_per_class)
    data = load_data(g)
    if len(data[2]) == 0:
        raise ConfigError("--test-per-class 0: the contributions need test images")
    set_worker_data(model_path, g, data)
    with open(model_path, "rb") as f:
        model_sha = hashlib.sha256(f.read()).hexdigest()
    cache = RunCache(cache_dir or f"{os.path.splitext(out)[0]}.cache", model_sha)
    data_sha = _sha256(*data)
    run_options = {k: v for k, v in asdict(options).items() if k not in ("budget_bytes", "num_classes")}
    bar = progress or (lambda label, total: _NoBar())
    pool = executor or (ProcessPoolExecutor(jobs) if jobs > 1 else None)
    echo(f"search space: {space.size()} candidates (bias depths {list(space.depths)}; weight layers "
         f"{list(space.layers)} at ratios {list(space.ratios)})")
    memory = PlannedMemory(model_path, g, space, options, cache, pool)
    smallest = memory([space.smallest()])[0]
    if smallest > budget:   # before any run: nothing of the space can fit
        if executor is None and pool is not None:
            pool.shutdown()
        raise BudgetError(f"no scheme of the search space fits {budget} B; the classifier alone needs {smallest} B")
    try:
        def top1(cands: list[Candidate]) -> list[float]:
            keys = [{"kind": "finetune", "data": data_sha, "protocol": asdict(protocol), "options": run_options,
                     "scheme": space.scheme_json(c), "num_classes": num_classes} for c in cands]
            todo = [(c, k) for c, k in zip(cands, keys) if cache.get(k) is None]
            b = bar(f"fine-tuning runs ({len(cands) - len(todo)} of {len(cands)} cached)", len(todo))
            args = [(model_path, load_data, space.scheme(c), num_classes, asdict(protocol), run_options) for c, _ in todo]
            for (c, k), result in zip(todo, _each(finetune_run, args, pool)):
                cache.put(k, result)
                b.update(1)
            b.close()
            return [cache.get(k)["top1"] for k in keys]

        contrib, base, measured = analyse(space, top1)
        choices: list[tuple[int, Result]] = []
        planned: dict[Candidate, int] = {}
        for b in (budget, int(budget * LOWER_BUDGET)):
            echo(f"searching under {b} B ({len(planned)} candidates planned so far)")
            best = exact(space, contrib, memory, b, EXACT_MAX_PLANS, batch=max(1, jobs), planned=planned)
            evolved = evolve(space, contrib, memory, b, seed=protocol.seed, batch=max(1, jobs), planned=planned,
                             population=12 if quick else 24, generations=10 if quick else 30)
            chosen = best if best.complete else max((best, evolved), key=lambda r: -1e9 if r.found is None else r.value)
            choices.append((b, chosen))
            if best.complete and evolved.found != best.found:
                echo(f"under {b} B the evolutionary search found {_said(space, evolved)}; the exact optimum is "
                     f"{_said(space, best)}")
    finally:
        if executor is None and pool is not None:
            pool.shutdown()
    top = choices[0][1]   # the classifier alone fits, so the exact search finds one
    title = f"tte search: {os.path.basename(model_path)} on {dataset}, {num_classes} classes"
    scheme = {**space.scheme_json(top.found), **_scheme_options(options)}
    _write_all({out: json.dumps(scheme, indent=2) + "\n",
                os.path.splitext(out)[0] + ".md": render_markdown(title, space, contrib, base, measured, choices,
                                                                  {"describe": protocol.describe()}),
                os.path.splitext(out)[0] + ".svg": render_svg(title, space, contrib, choices)})
    return {"scheme": scheme, "planned_sram_bytes": top.bytes, "summed_contribution": top.value,
            "proven_optimal": top.complete, "runs": len(measured), "plans": len(planned),
            "lower_budget": {"budget_bytes": choices[1][0], "planned_sram_bytes": choices[1][1].bytes,
                             "scheme": None if choices[1][1].found is None else space.scheme_json(choices[1][1].found)}}


def _scheme_options(options: Options) -> dict:
    """The scheme-file fields that the options set (docs/sparse_update.md), so that the scheme
    alone compiles what was searched."""
    fields = {"weight_storage": options.storage, "rounding": options.rounding, "momentum": options.momentum,
              "bias_lr_scale": options.bias_lr_scale}
    return {k: v for k, v in fields.items() if v is not None}


def _each(fn, args, pool):
    """fn over args, in order, each result as soon as it and those before it are done."""
    return (fn(a) for a in args) if pool is None else pool.map(fn, args)


def _said(space, r: Result) -> str:
    return "nothing that fits" if r.found is None else f"{space.describe(r.found)} ({r.value:+.1f})"


class _NoBar:
    def update(self, k):
        pass

    def close(self):
        pass


def _write_all(files: dict[str, str]) -> None:
    """Each file whole, none before all are ready: temporary siblings, then renames."""
    staged = []
    try:
        for path, text in files.items():
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{Path(path).name}.", suffix=".new")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            staged.append((tmp, path))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.remove(tmp)
