"""`tte search`: the sparse-update scheme of largest measured contribution under an SRAM budget.

1. Fine-tuning runs on the target data (search/finetune.py, the host C engine) measure each
   part's contribution (search/contribution.py).
2. The evolutionary search (and, on a space of at most EXACT_MAX_SPACE candidates, the exact
   one, which proves the optimum and checks the evolutionary one) picks the candidate of largest
   summed contribution whose planned SRAM fits the budget (search/optimize.py, memory.py);
   again at 0.7x the budget, for the report.
3. The chosen scheme is planned once more from the very JSON about to be written, and must fit.
   Then <stem>.md, <stem>.svg and the scheme JSON are written, each whole.

Every run and plan is cached (search/runs.py), so a search resumes.  The searched scheme's
planned SRAM is what `tte compile --update <scheme.json>` allocates with the same engine
options (`compile_command` spells the command out).
"""

from __future__ import annotations

import functools
import json
import math
import os
import shlex
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace

import click
import numpy as np

from ..datasets import class_count, load_split
from ..errors import BudgetError, ConfigError, TteError
from ..folders import replace_texts
from ..frontend import load_model
from ..frontend.inputs import quantize_image
from ..pipeline import Options, training_engine
from ..scheme import parse_scheme
from .contribution import analyse
from .memory import PlannedMemory
from .optimize import Result, evolve, exact
from .report import render_markdown, render_svg
from .runs import Inputs, RunCache, compiler_fingerprint, data_sha256, file_sha256, finetune_run, run_jobs, \
    set_worker_inputs
from .space import Candidate, search_space

LOWER_BUDGET = 0.7          # the report's second budget, a share of the first
EXACT_MAX_SPACE = 20_000    # the exact search runs on spaces of at most this many candidates
# The options that change what a fine-tuning run computes; the kernel backend, the planner and
# the schedule order change only the memory (the C is bit-exact with the reference either way).
RUN_OPTIONS = ("qas", "storage", "rounding", "momentum", "bias_lr_scale", "step_clip", "label_smoothing", "seed")


@dataclass(frozen=True)
class Protocol:
    """How each fine-tuning run of the search trains and is judged."""
    train_per_class: int
    val_per_class: int      # after the training images, from the training data: never a test image
    epochs: int
    lr: float
    seed: int

    def describe(self) -> str:
        return (f"{self.train_per_class} training and {self.val_per_class} held-out validation images a class, "
                f"{self.epochs} epoch{'s' if self.epochs > 1 else ''}, SGD at batch 1, lr {self.lr:g} on a cosine "
                f"schedule, image order and flips of seed {self.seed}")

    @staticmethod
    def default(quick: bool, lr: float, seed: int, train_per_class: int | None = None,
                val_per_class: int | None = None, epochs: int | None = None) -> "Protocol":
        """The given sizes, the others tte search's defaults (smaller with --quick)."""
        sizes = dict(zip(("train_per_class", "val_per_class", "epochs"), QUICK_SIZES if quick else SIZES))
        given = dict(train_per_class=train_per_class, val_per_class=val_per_class, epochs=epochs)
        return Protocol(**{k: v if given[k] is None else given[k] for k, v in sizes.items()}, lr=lr, seed=seed)


SIZES = (50, 50, 2)         # training and validation images a class, epochs
QUICK_SIZES = (10, 20, 1)


def load_task_data(dataset: str, classes: tuple[int, ...], train_per_class: int, test_per_class: int, g,
                   validation: bool = False) -> tuple:
    """(train int8 images [N, 1, S, S, 3], labels, test images, labels) at the model's input; with
    `validation`, the second set is held out from the training images (datasets.load_split)."""
    tr_x, tr_y, te_x, te_y = load_split(dataset, list(classes), train_per_class, test_per_class,
                                        g.tensors[g.inputs[0]].shape[1], validation)
    quant = lambda images: np.stack([quantize_image(g, im) for im in images])   # noqa: E731
    return quant(tr_x), tr_y, quant(te_x), te_y


def compile_command(model_path: str, out: str, budget: int, options: Options) -> str:
    """The `tte compile` command whose engine the search planned (the scheme file carries the
    storage and optimizer fields; these are the rest)."""
    flags = [f"--update {shlex.quote(out)}", f"--num-classes {options.num_classes}", f"--budget {budget}"]
    flags += ["--no-qas"] * (not options.qas) + ["--no-reorder"] * (not options.reorder)
    flags += [f"--kernels {options.kernels}"] * (options.kernels != "portable")
    flags += [f"--planner {options.planner}"] * (options.planner is not None)
    flags += [f"--seed {options.seed}"] * (options.seed != 0)
    return f"tte compile {shlex.quote(model_path)} {' '.join(flags)} -o OUT"


def _check_task(dataset: str, num_classes: int, protocol: Protocol) -> None:
    have = class_count(dataset)
    if have < 2:
        raise ConfigError(f"--dataset {dataset}: a folder of at least 2 class subfolders of images, found {have}")
    if num_classes > have or (num_classes != have and (dataset == "fashion-vww" or os.path.isdir(dataset))):
        raise ConfigError(f"--dataset {dataset} has {have} classes; use --num-classes {have}"
                          + ("" if num_classes > have or dataset == "fashion-vww" else
                             " (or a folder of just the class subfolders to train)"))
    if not (math.isfinite(protocol.lr) and protocol.lr > 0):
        raise ConfigError(f"--lr {protocol.lr}: a learning rate is a positive number")
    for name in ("train_per_class", "val_per_class", "epochs"):
        if getattr(protocol, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} {getattr(protocol, name)}: at least 1")


def search(model_path: str, dataset: str, protocol: Protocol, out: str, options: Options, *, quick: bool = False,
           jobs: int = 1, cache_dir: str | None = None, executor=None, progress=None,
           echo=lambda line: None) -> dict:
    """Search under options.budget_bytes for a new options.num_classes head, write `out` (the
    scheme JSON) and its report; return a summary.  `progress(label, total)` makes a progress bar
    (an object with update(k) and close()); `executor` (any concurrent.futures.Executor) replaces
    the process pool of `jobs`."""
    num_classes, budget = options.num_classes, options.budget_bytes
    if num_classes is None:
        raise ConfigError("tte search trains a new head: give --num-classes")
    if not out.endswith(".json"):
        raise ConfigError(f"-o {out}: the scheme is a .json file")
    _check_task(dataset, num_classes, protocol)
    model_path = os.path.abspath(model_path)
    dataset = dataset if not os.path.isdir(dataset) else os.path.abspath(dataset)
    g = load_model(model_path, require_int8=True)
    space = search_space(g, quick=quick)
    load_data = functools.partial(load_task_data, dataset, tuple(range(num_classes)), protocol.train_per_class,
                                  protocol.val_per_class, validation=True)
    data = load_data(g)
    model_sha = file_sha256(model_path)
    inputs = Inputs(model_path, model_sha, load_data, data_sha256(data))
    set_worker_inputs(inputs, g, data)
    cache = RunCache(cache_dir or f"{os.path.splitext(out)[0]}.cache",
                     {"model": model_sha, "compiler": compiler_fingerprint()})
    run_options = {k: v for k, v in asdict(options).items() if k in RUN_OPTIONS}
    bar = progress or (lambda label, total: _NoBar())
    echo(f"search space: {space.size()} candidates (bias depths {list(space.depths)}; weight layers "
         f"{list(space.layers)} at ratios {list(space.ratios)})")
    pool = executor or (ProcessPoolExecutor(jobs) if jobs > 1 else None)
    try:
        memory = PlannedMemory(Inputs(model_path, model_sha), space, options, cache, pool)
        smallest = memory([space.smallest()])[0]
        if smallest > budget:   # before any run: nothing of the space can fit
            raise BudgetError(f"no scheme of the search space fits {budget} B; the classifier alone needs "
                              f"{smallest} B")

        def top1(cands: list[Candidate]) -> list[float]:
            keys = {c: {"kind": "finetune", "data": inputs.data_sha256, "protocol": asdict(protocol),
                        "options": run_options, "scheme": space.scheme_json(c), "num_classes": num_classes}
                    for c in cands}
            todo = [c for c in cands if cache.get(keys[c]) is None]
            b = bar(f"fine-tuning runs ({len(cands) - len(todo)} of {len(cands)} cached)", len(todo))

            def done(c, result):
                cache.put(keys[c], result)
                b.update(1)

            run_jobs(finetune_run, [(c, (inputs, space.scheme(c), num_classes, asdict(protocol), run_options))
                                    for c in todo], pool, done)
            b.close()
            return [cache.get(keys[c])["top1"] for c in cands]

        contrib, base, measured = analyse(space, top1)
        choices = _choose(space, contrib, memory, [budget, int(budget * LOWER_BUDGET)], protocol.seed, quick,
                          max(1, jobs), bar, echo)
    except BaseException:
        if executor is None and pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    if executor is None and pool is not None:
        pool.shutdown()
    top = choices[0][1]   # the classifier alone fits, and the evolutionary search starts from it
    scheme = {**space.scheme_json(top.found), **_scheme_options(options)}
    text = json.dumps(scheme, indent=2) + "\n"
    # the JSON alone with the printed command's options: what a user compiles
    printed = replace(options, storage=None, rounding=None, momentum=None, bias_lr_scale=None, step_clip=None)
    again = training_engine(g, parse_scheme(json.loads(text), os.path.basename(out)), printed).summary
    if again.get("peak_sram_bytes") != top.bytes or top.bytes > budget:
        raise TteError(f"internal error: the scheme file plans to {again.get('peak_sram_bytes')} B, the search "
                       f"planned {top.bytes} B under {budget} B")
    command = compile_command(model_path, out, budget, options)
    title = f"tte search: {os.path.basename(model_path)} on {dataset}, {num_classes} classes"
    stem = os.path.splitext(out)[0]
    texts = {stem + ".md": render_markdown(title, space, contrib, base, measured, choices,
                                           {"describe": protocol.describe(), "compile": command}),
             stem + ".svg": render_svg(title, space, contrib, choices),
             out: text}   # the scheme last, so that a scheme file is never older than its report
    replace_texts(texts)
    lower = choices[1][1]
    return {"scheme": scheme, "planned_sram_bytes": top.bytes, "summed_contribution": top.value,
            "proven_optimal": top.complete, "runs": len(measured), "plans": len(top.planned),
            "compile_command": command,
            "lower_budget": {"budget_bytes": choices[1][0], "planned_sram_bytes": lower.bytes,
                             "scheme": None if lower.found is None else space.scheme_json(lower.found)}}


def _choose(space, contrib, memory, budgets, seed, quick, batch, bar, echo) -> list[tuple[int, Result]]:
    """The result at each budget: the exact one where it proves the optimum, else the evolutionary."""
    planned: dict[Candidate, int] = {}
    choices = []
    for b in budgets:
        plans = bar(f"planning candidates under {b / 1024:.1f} KB", None)
        memory.progress = plans.update
        evolved = evolve(space, contrib, memory, b, seed=seed, batch=batch, planned=planned,
                         population=12 if quick else 24, generations=10 if quick else 30)
        chosen = evolved
        if space.size() <= EXACT_MAX_SPACE:
            proven = exact(space, contrib, memory, b, batch=batch, planned=planned)
            chosen = proven if proven.complete else evolved
        plans.close()
        if chosen is not evolved and evolved.found != chosen.found and \
                (evolved.value is None or evolved.value < chosen.value - 1e-9):
            echo(f"under {b} B the evolutionary search found {_said(space, evolved)}; the optimum is "
                 f"{_said(space, chosen)}")
        choices.append((b, chosen))
    return choices


def _scheme_options(options: Options) -> dict:
    """The scheme-file fields that the options set (docs/sparse_update.md), so that the scheme
    alone compiles what was searched."""
    fields = {"weight_storage": options.storage, "rounding": options.rounding, "momentum": options.momentum,
              "bias_lr_scale": options.bias_lr_scale, "step_clip": options.step_clip}
    return {k: v for k, v in fields.items() if v is not None}


def _said(space, r: Result) -> str:
    return "nothing that fits" if r.found is None else f"{space.describe(r.found)} ({r.value:+.1f})"


class _NoBar:
    def update(self, k):
        pass

    def close(self):
        pass


class StderrBar:
    """search()'s `progress` on standard error: a bar, or a count when the total is unknown."""
    def __init__(self, label: str, total: int | None):
        self.label, self.count = label, 0
        self.bar = None if total is None else \
            click.progressbar(length=max(total, 1), label=label, file=sys.stderr).__enter__()

    def update(self, k: int) -> None:
        self.count += k
        if self.bar is not None:
            self.bar.update(k)
        elif sys.stderr.isatty():
            click.echo(f"\r{self.label}: {self.count}", nl=False, err=True)

    def close(self) -> None:
        if self.bar is None:
            click.echo(f"\r{self.label}: {self.count}", err=True)
        else:
            self.bar.__exit__(None, None, None)

