"""Transfer learning with the paper's three int8 models: QAS and sparse update on real data,
the int8 runs executed by the generated C.  The `transfer` section of docs/BENCHMARKS.md and
docs/transfer.svg / transfer-vww.svg.  Run `python -m benchmarks.transfer` (about six hours on
2 cores; `--quick` a few minutes; `--json` prints the runs on one line).

Every run fine-tunes one model (a new head for the task's classes, seeded, the same in every
run) with batch-1 SGD (no momentum but in the SGD-M rows), learning rate `lr` with cosine decay
to 0 over all steps,
random horizontal flips as the only augmentation, then measures top-1 on the task's test images.
Seed k gives the image order and the flips, the same for every run with that seed; the rows the
conclusions compare run seeds 0, 1 and 2 and report the mean and the standard deviation:

* fp32 full: `training.float_trainer.FloatTrainer` on the real-valued twin of the int8 graph;
* int8 full (with and without QAS), bias-only, last-layer, and the paper's sparse scheme (with
  and without QAS): `tte compile`'s C engine built for this host (`targets.host.HostEngine`,
  the code that runs on the M7), trained parameters stored int8 / int32 and updated in place
  as on the device, each step rounded to nearest or stochastically (`tte compile --rounding`),
  with plain SGD or SGD-M (`--momentum`).  The first SPOT_STEPS steps of each int8 run also
  run in the numpy reference trainer; the losses and trained bytes must be equal or the script
  stops;
* for analysis, int8 full and sparse with QAS again with float32 master weights
  (`tte compile --storage float32`): the same int8 forward, but steps smaller than half an
  int8 step accumulate instead of being rounded away.
* the searched rows: the scheme `tte search` finds under the SRAM of the paper scheme's engine
  (and under 0.7x of it), judged by the search on validation images from the training file
  (never the test images), then trained and tested like the paper scheme (out/transfer-search
  keeps the schemes, the search's reports and its cache; docs/transfer-search-*.svg are its
  frontiers);
* fp32 full and int8 full + QAS with stochastic rounding again with a linear lr warm-up over
  the first tenth of the steps: whether the runs that diverge (fp32 as well as int8, on some
  seeds) do so because of full-size first steps through the random new head.

Where backpropagation never reaches a frozen prefix of the network, the C runs only the rest:
the prefix's int8 output for every image is computed once by the prefix's own C inference
engine, and a training engine compiled for the rest of the graph takes it as its input.  This
is exact (the prefix is deterministic and frozen); the first steps are still checked against
the reference trainer on the whole graph.

Peak SRAM of an int8 run is the SRAM of its engine as `tte compile` writes it for the whole
model (memory.json `peak_sram_bytes`: arena, trained parameters, static state, worst-case
stack; `transfer_memory.py`); for fp32 a what-if figure, the same schedule with every tensor
float32.

Tasks: Fashion-MNIST (Debian dataset-fashion-mnist, 10 classes, grey to RGB, 28 -> 128) and
`fashion-vww`, a seeded "visual wake words"-like task built from it
(`datasets/synthetic_vww.py`).  Results are cached per run under out/transfer-cache
(`--no-cache` recomputes).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from tinyengine_compiler.codegen.context import trained_bytes
from tinyengine_compiler.errors import TteError
from tinyengine_compiler.folders import replace_texts
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.passes.legalize_bias import legalize_biases
from tinyengine_compiler.pipeline import Options, for_classes, training_graph, training_schedule
from tinyengine_compiler.scheme import load_scheme
from tinyengine_compiler.search.command import LOWER_BUDGET, Protocol, StderrBar, load_task_data, search
from tinyengine_compiler.search.finetune import finetune, flipped, frozen_cut
from tinyengine_compiler.search.finetune import schedule as finetune_schedule
from tinyengine_compiler.training.float_trainer import FloatTrainer
from tinyengine_compiler.training.trainer import Trainer

from .doc import ROOT, write_section
from .transfer_memory import fp32_peak_bytes, int8_peak_bytes

MODELS_DIR = ROOT.parent / "shared" / "models"
MODELS = ("mbv2-w0.35", "proxyless-w0.3", "mcunet-5fps")
CACHE_DIR = ROOT / "out" / "transfer-cache"
SEARCH_DIR = ROOT / "out" / "transfer-search"   # the searched schemes, their reports and run caches
CACHE_VERSION = 3    # 3: the loss reads the real logits; seeds
SVG = {"fashion-mnist": "transfer.svg", "fashion-vww": "transfer-vww.svg"}
SPOT_STEPS = 2
SEED = 0      # the new head's initialization, the same in every run
NEAR_UNIFORM = 0.05   # nats: a loss this close to ln(classes), with a top-1 within
CHANCE_POINTS = 0.05  # of chance (1 / classes), is a run that does not learn


@dataclass(frozen=True)
class Task:
    name: str
    dataset: str
    classes: tuple[int, ...]
    train_per_class: int
    test_per_class: int
    epochs: int
    lr: float


TASKS = {
    "fashion-mnist": Task("fashion-mnist", "fashion-mnist", tuple(range(10)), 100, 200, 3, 0.003),
    "fashion-vww": Task("fashion-vww", "fashion-vww", (0, 1), 500, 500, 2, 0.003),
}
QUICK = {"fashion-mnist": dict(train_per_class=6, test_per_class=20, epochs=1),
         "fashion-vww": dict(train_per_class=30, test_per_class=100, epochs=1)}


@dataclass(frozen=True)
class Run:
    scheme: str          # a preset; "paper" is the model's paper-<model>; "searched" is tte search's
    precision: str       # "fp32" | "int8"
    qas: bool
    storage: str = "int8"   # int8 runs: trained weights int8 in place, or "float32" masters
    rounding: str = "nearest"   # int8 runs in place: how a step rounds (tte compile --rounding)
    momentum: float = 0.0       # SGD momentum of every trained layer (int8: tte compile --momentum)
    lr_scale: float = 1.0       # the task's lr schedule times this
    warmup: float = 0.0         # the fraction of the steps over which the lr ramps up linearly
    step_clip: float = 0.0      # weight rows' step clip (tte compile --step-clip; fp32: the same rule)
    budget_share: float = 1.0   # "searched": its budget, this share of the paper scheme's compiled SRAM
    # how many image orders (seeds 0, 1, ...) the study runs; not part of what a run is
    seeds: int = field(default=1, compare=False)

    def preset(self, model: str) -> str:
        """The scheme's name in the results ("searched" for every searched one)."""
        return f"paper-{model}" if self.scheme == "paper" else self.scheme

    def spec(self) -> dict:
        """The fields that differ from their defaults: a run's identity in the cache and the
        JSON, unchanged when a field with a default is added."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.compare and (f.default is dataclasses.MISSING or getattr(self, f.name) != f.default)}


# The runs the conclusions compare take SEEDS image orders (their means are compared, so the
# +-2 points that the order and flips alone move a run do not decide them); the diagnostic
# rows, whose gaps are tens of points, take one.  --seeds N runs every row N times.
SEEDS = 3
# The SGD-M rows: the usual fine-tuning momentum, with the schedule's lr times 1 - momentum so
# that a step has the same size as plain SGD's over a run of like gradients (v -> g / (1 - mu));
# at the plain lr they diverged (10x the step).
MOMENTUM = 0.9
SGDM = dict(momentum=MOMENTUM, lr_scale=round(1 - MOMENTUM, 6))
# The warm-up rows: the first tenth of the steps ramps the lr up linearly, to see whether the
# runs that diverge (fp32 as well as int8, on some seeds) do so because of full-size first
# steps through the new random head.
WARMUP = dict(warmup=0.1)
# The step-clip rows: the divergence guard (tte compile --step-clip) on today's schedule, fp32
# under the same rule, to see whether clipping the one oversized step keeps every run learning.
CLIP = dict(step_clip=0.1)
RUNS = (Run("full", "fp32", False, seeds=SEEDS),
        Run("full", "int8", True, rounding="stochastic", seeds=SEEDS),
        Run("full", "fp32", False, seeds=SEEDS, **WARMUP),
        Run("full", "int8", True, rounding="stochastic", seeds=SEEDS, **WARMUP),
        Run("full", "fp32", False, seeds=SEEDS, **CLIP),
        Run("full", "int8", True, rounding="stochastic", seeds=SEEDS, **CLIP),
        Run("full", "int8", True), Run("full", "int8", False),
        Run("bias-only", "int8", True), Run("last-layer", "int8", True),
        Run("full", "int8", True, rounding="stochastic", **SGDM),
        Run("paper", "int8", True, seeds=SEEDS),
        Run("searched", "int8", True, seeds=SEEDS),
        Run("searched", "int8", True, budget_share=LOWER_BUDGET, seeds=SEEDS),
        Run("paper", "int8", True, **SGDM),
        Run("paper", "int8", False),
        Run("full", "int8", True, "float32"), Run("paper", "int8", True, "float32"))

# What the paper reports for each run (its section 2 and Fig. 9; acceptance targets in brackets).
PAPER_CLAIM = {
    Run("full", "fp32", False): "the float reference",
    Run("full", "int8", True, rounding="stochastic"): "matches fp32 [within 1.5 pt on average]",
    Run("full", "fp32", False, **WARMUP): "(the float reference, with the lr warm-up)",
    Run("full", "int8", True, rounding="stochastic", **WARMUP):
        "matches fp32 with the same warm-up [within 1.5 pt on average]",
    Run("full", "fp32", False, **CLIP): "(the float reference, with the step clip)",
    Run("full", "int8", True, rounding="stochastic", **CLIP):
        "matches fp32 [within 1.5 pt on average], no run diverging",
    Run("full", "int8", True): "(rounding to nearest: steps below half an int8 step are lost)",
    Run("full", "int8", True, rounding="stochastic", **SGDM): "(SGD with momentum, as the paper's Table 1)",
    Run("paper", "int8", True, **SGDM): "(the paper's scheme with SGD-M)",
    Run("full", "int8", False): "clearly below fp32 (the gradient scale mismatch QAS fixes)",
    Run("bias-only", "int8", True): "below sparse update at similar memory",
    Run("last-layer", "int8", True): "below sparse update",
    Run("paper", "int8", True): "matches full update [within 2 pt] at a fraction of its memory [<= 1/5]",
    Run("searched", "int8", True): "(tte search at the paper scheme's SRAM) [at least the paper scheme's top-1]",
    Run("searched", "int8", True, budget_share=LOWER_BUDGET): f"(tte search at {LOWER_BUDGET:g}x that SRAM)",
    Run("paper", "int8", False): "below sparse update with QAS",
    Run("full", "int8", True, "float32"): "(analysis: int8 forward and QAS, weights kept as float32 masters)",
    Run("paper", "int8", True, "float32"): "(analysis: as above, the paper's scheme)",
}


# ---- data ------------------------------------------------------------------------------------

_DATA: dict = {}     # task name -> (train x int8 [N,1,S,S,3], train y, test x, test y); shared by fork


def load_task(task: Task, g) -> tuple:
    return load_task_data(task.dataset, task.classes, task.train_per_class, task.test_per_class, g)


def schedule(task: Task, n_train: int, seed: int = SEED, lr_scale: float = 1.0, warmup: float = 0.0):
    """The task's steps (search/finetune.py `schedule`) at lr_scale times its learning rate, with
    a `warmup` fraction of linear warm-up: the same images and flips for every run of a task
    with this seed."""
    return finetune_schedule(task.epochs, n_train, lr_scale * task.lr, seed, warmup)


# ---- the searched schemes --------------------------------------------------------------------

SHARES = (1.0, LOWER_BUDGET)   # a search's budgets, as shares of the paper scheme's SRAM
MANIFEST = "searched.json"     # written last: the search finished, and at which shares a scheme fits
SEARCH_VERSION = 1             # bump when tte search's method changes what it finds


def search_protocol(task: Task, quick: bool) -> Protocol:
    """tte search's default protocol at the task's lr; quick: the quick task's sizes."""
    sizes = (task.train_per_class, task.test_per_class, task.epochs) if quick else ()
    return Protocol.default(quick, task.lr, SEED, *sizes)


def search_folder(model: str, task: Task, quick: bool) -> Path:
    """Where the search for `model` on `task` keeps its schemes and report: named by its inputs
    (the model file, the task, the protocol, the budget the paper scheme's engine plans to) and
    SEARCH_VERSION, so a search made for other inputs is never taken for this one.  Other changes
    to the compiler do not start a new search, as they do not rerun the cached transfer runs."""
    inputs = [hashlib.sha256(Path(model_path(model)).read_bytes()).hexdigest(), asdict(task),
              asdict(search_protocol(task, quick)), quick, paper_sram_bytes(model, task), SHARES,
              SEARCH_VERSION]
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    return SEARCH_DIR / f"{model}-{task.name}-{key}"


def searched_path(folder: Path, share: float) -> Path:
    return folder / f"{share:g}x.json"


def paper_sram_bytes(model: str, task: Task) -> int:
    """The SRAM of the paper scheme's engine: its int8 row's peak_sram_bytes."""
    return int8_peak_bytes(model_path(model), f"paper-{model}", len(task.classes))


def run_search(model: str, task: Task, quick: bool, jobs: int, quiet: bool) -> None:
    """tte search for `model` on `task` under paper_sram_bytes, on validation images held out
    from its own training images (from the training file: the test images stay unseen).  Writes
    the scheme at each of SHARES of that budget where one fits (the search's report beside the
    first), then MANIFEST."""
    if task.classes != tuple(range(len(task.classes))):
        raise TteError(f"{task.name}: tte search trains the first classes of a data set, not {task.classes}")
    folder, budget = search_folder(model, task, quick), paper_sram_bytes(model, task)
    for path in [folder / MANIFEST] + [searched_path(folder, share) for share in SHARES]:
        path.unlink(missing_ok=True)   # nothing of an earlier search passes for this one's
    say = (lambda line: None) if quiet else (lambda line: print(f"{model}, {task.name}: {line}", file=sys.stderr))
    result = search(model_path(model), task.dataset, search_protocol(task, quick), str(searched_path(folder, 1.0)),
                    Options(num_classes=len(task.classes), budget_bytes=budget, seed=SEED), quick=quick, jobs=jobs,
                    cache_dir=str(SEARCH_DIR / "cache"), progress=None if quiet else StderrBar, echo=say)
    lower = result["lower_budget"]["scheme"]
    if lower is None:
        say(f"no scheme of the search space fits {LOWER_BUDGET:g}x {budget} B: its rows are left out")
    texts = {searched_path(folder, LOWER_BUDGET): json.dumps(lower, indent=2) + "\n"} if lower is not None else {}
    found = [f"{share:g}" for share in SHARES if share == 1.0 or lower is not None]
    texts[folder / MANIFEST] = json.dumps({"budget_bytes": budget, "found": found, "result": result}, indent=2) + "\n"
    replace_texts(texts)   # the manifest last


def searched(model: str, task: Task, quick: bool) -> dict[float, Path | None] | None:
    """The finished search's scheme file at each of SHARES (None: nothing fits there), or None
    while the search has not finished."""
    folder = search_folder(model, task, quick)
    if not (folder / MANIFEST).is_file():
        return None
    found = json.loads((folder / MANIFEST).read_text())["found"]
    return {share: searched_path(folder, share) if f"{share:g}" in found else None for share in SHARES}


def scheme_spec(model: str, task: Task, run: Run, quick: bool) -> str | None:
    """What load_scheme reads for `run`: its preset, or the searched scheme's file (None while
    that search has not finished, or where it found nothing)."""
    if run.scheme != "searched":
        return run.preset(model)
    files = searched(model, task, quick)
    return None if files is None or files[run.budget_share] is None else str(files[run.budget_share])


# ---- one run ---------------------------------------------------------------------------------

def model_path(model: str) -> str:
    """The paper's `<model>.pkl`, else an example `<model>-int8.onnx` in MODELS_DIR."""
    pkl = MODELS_DIR / f"{model}.pkl"
    return str(pkl if pkl.is_file() else MODELS_DIR / f"{model}-int8.onnx")


def _graph(model: str, spec: str, run: Run):
    """(the forward graph, biases legalized; the scheme `spec` with the run's weight storage)."""
    g = legalize_biases(load_model(model_path(model)))
    return g, replace(load_scheme(spec), weight_storage=run.storage, rounding=run.rounding, momentum=run.momentum,
                      step_clip=run.step_clip)


def _fp32_run(model: str, spec: str, task: Task, run: Run, seed: int, progress) -> dict:
    g, scheme = _graph(model, spec, run)
    g, scheme = for_classes(g, scheme, len(task.classes), SEED)
    _, train = training_graph(g, scheme, use_qas=False)
    trainer = FloatTrainer(train, task.lr)
    tr_x, tr_y, te_x, te_y = _DATA[task.name]
    losses = []
    for i, flip, lr in schedule(task, len(tr_x), seed, run.lr_scale, run.warmup):
        trainer.lr = lr
        losses.append(trainer.step(flipped(tr_x[i], flip), int(tr_y[i])))
        progress(1)
    correct = 0
    for x, y in zip(te_x, te_y):
        correct += trainer.predict(x) == int(y)
        progress(1)
    return {"top1": correct / len(te_y), "loss_by_tenth": _tenths(losses), "c_equals_reference": None,
            "cut": None}


def _stored(trainer: Trainer, sched) -> bytes:
    """The reference's trained parameters in tte_get_trainable's order (the SGD_UPDATE order),
    then its stochastic-rounding counter where the engine keeps one."""
    return trained_bytes(sched, trainer.stored, trainer.draws, trainer.velocity)


def _int8_run(model: str, spec: str, task: Task, run: Run, seed: int, progress, work: Path) -> dict:
    g, scheme = _graph(model, spec, run)
    options = Options(qas=run.qas, seed=SEED)
    tr_x, tr_y = _DATA[task.name][:2]
    checked = {}

    def spot_check(step, i, flip, lr, loss, engine):
        """The reference trainer on the whole graph: the first steps must agree with the C bit
        for bit."""
        if step >= SPOT_STEPS:
            return
        if not checked:
            head, explicit = frozen_cut(g, scheme, len(task.classes), SEED)
            checked["whole"] = training_schedule(head.graph, explicit, options)[1]
            checked["reference"] = Trainer(checked["whole"], task.lr)
        reference = checked["reference"]
        reference.lr = lr
        agree = bool(loss == np.float32(reference.step(flipped(tr_x[i], flip), int(tr_y[i]))))
        if step == SPOT_STEPS - 1:
            agree &= engine.get_trainable() == _stored(reference, checked["whole"])
        if not agree:
            raise TteError(f"{model} {run}: the C and the reference trainer differ in the first {SPOT_STEPS} steps")
        checked["steps"] = step + 1

    steps = schedule(task, len(tr_x), seed, run.lr_scale, run.warmup)
    out = finetune(g, scheme, len(task.classes), _DATA[task.name], steps,
                   work, options, on_step=spot_check, progress=progress)
    # True: the first SPOT_STEPS steps agreed bit for bit; None: the run was shorter than that
    return {"top1": out["top1"], "loss_by_tenth": _tenths(out["losses"]),
            "c_equals_reference": True if checked.get("steps") == SPOT_STEPS else None, "cut": out["cut"]}


def _tenths(losses: list[float]) -> list[float]:
    """The mean training loss over each tenth of the steps, in order."""
    return [round(float(np.mean(part)), 4) for part in np.array_split(np.asarray(losses), 10) if len(part)]


def run_one(args) -> dict:
    model, spec, task, run, seed, queue = args
    progress = (lambda k: queue.put(k)) if queue is not None else (lambda k: None)
    t0, cpu0 = time.time(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="tte-transfer-") as tmp:
        out = _fp32_run(model, spec, task, run, seed, progress) if run.precision == "fp32" else \
            _int8_run(model, spec, task, run, seed, progress, Path(tmp))
    # CPU time of this process (the C runs in it, through ctypes): what the run costs whatever
    # else the machine is doing; the C compiler's child processes are not counted
    return {"model": model, "task": task.name, **_fields(run), "scheme": run.preset(model), "seed": seed, **out,
            "seconds": round(time.time() - t0, 1), "cpu_seconds": round(time.process_time() - cpu0, 1)}


# ---- the study -------------------------------------------------------------------------------

def _fields(run: Run) -> dict:
    """What a result row says about its run: every field but the study's seed count."""
    return {k: v for k, v in asdict(run).items() if k != "seeds"}


def _cache_key(model: str, spec: str, task: Task, run: Run, seed: int) -> str:
    model_sha = hashlib.sha256(Path(model_path(model)).read_bytes()).hexdigest()
    # a searched run is the scheme the search wrote (the others' keys stay as they were)
    searched = [hashlib.sha256(Path(spec).read_bytes()).hexdigest()] if run.scheme == "searched" else []
    text = json.dumps([CACHE_VERSION, model_sha, asdict(task), run.spec(), SEED, seed, SPOT_STEPS] + searched,
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _work(task: Task, n_train: int, n_test: int, run: Run) -> int:
    return task.epochs * n_train + n_test


def study(models, tasks: list[Task], runs, jobs: int, use_cache: bool, quiet: bool,
          cached_only: bool = False, quick: bool = False) -> list[dict]:
    """Every (task, model, run, seed); cached results are reused, the rest run in `jobs`
    processes (with `cached_only`, not run: left out).  One row a (task, model, run, seed).
    The searched runs' schemes are searched first where that search has not finished for these
    inputs (or not `use_cache`; the search keeps its own cache of runs and plans either way); a
    share it found nothing for is left out."""
    import click

    results, todo = {}, []
    shares = {run.budget_share for run in runs if run.scheme == "searched"}
    if shares - set(SHARES):
        raise TteError(f"searched rows at {sorted(shares - set(SHARES))} of the paper scheme's SRAM: a search "
                       f"gives {', '.join(f'{s:g}' for s in SHARES)}")
    for task in tasks:
        for model in models:
            finished = (search_folder(model, task, quick) / MANIFEST).is_file() if shares else True
            if not (finished and use_cache) and shares and not cached_only:
                run_search(model, task, quick, jobs, quiet)
    specs = {(task.name, model, run): scheme_spec(model, task, run, quick)
             for task in tasks for model in models for run in runs}
    work = [(task, model, run, seed) for task in tasks for model in models for run in runs
            for seed in range(run.seeds) if specs[(task.name, model, run)] is not None]
    for task, model, run, seed in work:
        path = CACHE_DIR / f"{_cache_key(model, specs[(task.name, model, run)], task, run, seed)}.json"
        if use_cache and path.is_file():
            # the run's own fields, whatever fields the run that cached it knew of
            results[(task.name, model, run, seed)] = {**json.loads(path.read_text()), **_fields(run),
                                                      "scheme": run.preset(model)}
        elif not cached_only:
            todo.append((task, model, run, seed, path))
    for task in {t for t, *_ in todo}:
        _DATA[task.name] = load_task(task, load_model(model_path(models[0])))
    total = sum(_work(t, len(_DATA[t.name][0]), len(_DATA[t.name][2]), r) for t, _, r, _, _ in todo)
    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        queue = manager.Queue()
        with ctx.Pool(jobs, maxtasksperchild=1) as pool, \
                click.progressbar(length=total, label=f"{len(todo)} runs", file=sys.stderr,
                                  hidden=quiet or not total) as bar:
            # the first seed of every run before the others, then the longest runs first, so the
            # two processes finish together
            order = sorted(todo, key=lambda w: (w[3], -(w[2].precision == "fp32") * 10 - (w[2].scheme == "full")))
            pending = [(w, pool.apply_async(run_one, ((w[1], specs[(w[0].name, w[1], w[2])], w[0], w[2], w[3],
                                                       queue),)))
                       for w in order]
            while pending:
                while not queue.empty():
                    bar.update(queue.get())
                done = [p for p in pending if p[1].ready()]
                for (task, model, run, seed, path), res in done:
                    result = res.get()
                    results[(task.name, model, run, seed)] = result
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(result))
                pending = [p for p in pending if p not in done]
                time.sleep(0.2)
    rows = []
    for task, model, run, seed in work:
        if (task.name, model, run, seed) not in results:
            continue
        r = dict(results[(task.name, model, run, seed)])
        spec = specs[(task.name, model, run)]
        if run.scheme == "searched":
            r["scheme_file"] = spec
        r["peak_sram_bytes"] = (fp32_peak_bytes(model_path(model), spec, len(task.classes))
                                if run.precision == "fp32" else
                                int8_peak_bytes(model_path(model), spec, len(task.classes),
                                                run.storage, run.rounding, run.momentum, run.step_clip))
        rows.append(r)
    return rows


# ---- report ----------------------------------------------------------------------------------

def _label(r: dict) -> str:
    searched = f"sparse, searched at {r['budget_share']:g}x the paper scheme's SRAM"
    scheme = "sparse (paper)" if r["scheme"].startswith("paper-") else \
        searched if r["scheme"] == "searched" else r["scheme"]
    qas = "" if r["precision"] == "fp32" else (", QAS" if r["qas"] else ", no QAS")
    master = ", fp32 master" if r["precision"] == "int8" and r["storage"] == "float32" else ""
    rounding = ", stochastic rounding" if r["rounding"] == "stochastic" else ""
    momentum = f", SGD-M {r['momentum']} at {r['lr_scale']:g} x lr" if r["momentum"] else ""
    warmup = f", lr warm-up {100 * r['warmup']:g} %" if r["warmup"] else ""
    clip = f", step clip {r['step_clip']:g}" if r["step_clip"] else ""
    return f"{r['precision']} {scheme}{qas}{master}{rounding}{momentum}{warmup}{clip}"


def _describe(task: Task, rows: list[dict]) -> str:
    n_train = len(task.classes) * task.train_per_class
    what = {"fashion-mnist": "Fashion-MNIST, 10 classes",
            "fashion-vww": "fashion-vww (is a target item on the 128x128 canvas?), 2 classes"}[task.name]
    return (f"{what}: {n_train} training images ({task.train_per_class} a class), "
            f"{len(task.classes) * task.test_per_class} test images (the first {task.test_per_class} of "
            f"each class in the test split), {task.epochs} epochs, lr {task.lr} with cosine decay, "
            f"batch 1, random horizontal flips.")


def _spread(values) -> str:
    """The mean of `values` in %, with the standard deviation over them when there are several."""
    pct = 100 * np.asarray(values, dtype=float)
    return f"{pct.mean():.1f}" + (f" ±{pct.std(ddof=1):.1f}" if len(pct) > 1 else "")


def of_run(task: Task, rows: list[dict], run: Run) -> dict[str, list[dict]]:
    """{model: [the rows of `run` on `task`, by seed]}."""
    out: dict[str, list[dict]] = {}
    identity = {k: v for k, v in _fields(run).items() if k != "scheme"}
    for r in sorted(_select(rows, task, **identity), key=lambda r: r["seed"]):
        if r["scheme"] == run.preset(r["model"]):
            out.setdefault(r["model"], []).append(r)
    return out


def table(task: Task, rows: list[dict], models, runs) -> str:
    """Per model: mean top-1 ±SD over the seeds; the mean over the models ±SD over the seeds of
    that mean."""
    head = ("| run | seeds | " + " | ".join(f"{m} top-1 | {m} peak KB" for m in models)
            + " | mean top-1 | paper's claim |")
    lines = [head, "|---|---:|" + "---:|---:|" * len(models) + "---:|---|"]
    for run in runs:
        per_model = of_run(task, rows, run)
        if not per_model:
            continue
        cells = [f"{_spread([r['top1'] for r in per_model[m]])} | {per_model[m][0]['peak_sram_bytes'] / 1024:.0f}"
                 if m in per_model else "not run | -" for m in models]
        seeds = min(len(per_model.get(m, ())) for m in models)   # the seeds every model ran
        per_seed = [np.mean([per_model[m][k]["top1"] for m in models]) for k in range(seeds)]
        planned = f"{seeds}" if seeds == run.seeds else f"{seeds} of {run.seeds}"
        lines.append(f"| {_label(next(iter(per_model.values()))[0])} | {planned} | " + " | ".join(cells)
                     + f" | {_spread(per_seed) if seeds else '-'} | {PAPER_CLAIM[run]} |")
    return "\n".join(lines)


def _select(rows: list[dict], task: Task, **fields) -> list[dict]:
    """The rows of `task` whose fields equal `fields` (None: any value), the others at their
    defaults (storage the device's int8)."""
    want = {"storage": "int8", "rounding": "nearest", "momentum": 0.0, "lr_scale": 1.0, "warmup": 0.0,
            "step_clip": 0.0, "budget_share": 1.0, **fields}
    return [r for r in rows if r["task"] == task.name and all(v is None or r[k] == v for k, v in want.items())]


def _pt(difference: float) -> str:
    """A difference of top-1 in points, or that a run it needs is not measured yet."""
    return f"{100 * difference:+.1f} pt" if np.isfinite(difference) else "not measured yet"


def checks(task: Task, rows: list[dict], models) -> list[str]:
    """The acceptance figures, computed from the table's own numbers."""
    def pick(model, scheme, precision, qas, **more) -> list[dict]:
        return _select(rows, task, model=model, scheme=scheme, precision=precision, qas=qas, **more)

    def top1(runs: list[dict]) -> float:
        return float(np.mean([r["top1"] for r in runs])) if runs else math.nan

    def mean(scheme, precision, qas, **more) -> float:
        """The mean over the models of each model's mean over its seeds."""
        return float(np.mean([top1(pick(m, scheme, precision, qas, **more)) for m in models]))

    fp32 = mean("full", "fp32", False)

    def tenths_at(runs: list[dict], at) -> int:
        """The most tenths of training any of `runs` spent with a mean loss that `at` holds for."""
        return max((sum(map(at, r["loss_by_tenth"])) for r in runs), default=0)

    def against_fp32(fp32_guard: dict, **guard) -> str:
        """The acceptance comparison: int8 full + QAS in place with stochastic rounding, with
        `guard` (a warm-up or a step clip, or nothing), against fp32 full with `fp32_guard`; and
        how long any run sat at chance: at ln(classes) to the digit (stuck: every logit equal),
        or near it (fp32's runs too, for scale)."""
        per_model = [pick(m, "full", "int8", True, rounding="stochastic", **guard) for m in models]
        runs = [r for each in per_model for r in each]
        fp32_runs = [r for m in models for r in pick(m, "full", "fp32", False, **fp32_guard)]
        stuck, near = chance_losses(len(task.classes))
        gap = mean("full", "int8", True, rounding="stochastic", **guard) - mean("full", "fp32", False, **fp32_guard)
        return (f"{_pt(gap)}"
                f" over {min(map(len, per_model))} seeds; the most tenths of training any of its {len(runs)} runs "
                f"spent with a loss of ln {len(task.classes)} to the digit: "
                f"{tenths_at(runs, stuck)}, within {NEAR_UNIFORM} of it: "
                f"{tenths_at(runs, near)} (fp32's {len(fp32_runs)} runs: {tenths_at(fp32_runs, near)})")

    out = [f"int8 full + QAS in place with stochastic rounding vs fp32 full, means over the models: "
           f"{against_fp32({})}.  Both with the lr warm-up ({100 * WARMUP['warmup']:g} % of the steps): "
           f"{against_fp32(WARMUP, **WARMUP)}.  Both with the step clip {CLIP['step_clip']:g} "
           f"(`--step-clip`, today's schedule): {against_fp32(CLIP, **CLIP)}; the clipped int8 row against "
           f"fp32 without it: {_pt(mean('full', 'int8', True, rounding='stochastic', **CLIP) - fp32)}.",
           f"With SGD-M {MOMENTUM} too: {_pt(mean('full', 'int8', True, rounding='stochastic', **SGDM) - fp32)}.  "
           f"Rounding to nearest instead: {_pt(mean('full', 'int8', True) - fp32)}; without QAS: "
           f"{_pt(mean('full', 'int8', False) - fp32)}; with QAS and float32 master weights: "
           f"{_pt(mean('full', 'int8', True, storage='float32') - fp32)}."]

    def same_seeds(a: list[dict], b: list[dict]) -> tuple[list[dict], list[dict]]:
        """The runs of a and of b on the seeds both have."""
        both = {r["seed"] for r in a} & {r["seed"] for r in b}
        return [r for r in a if r["seed"] in both], [r for r in b if r["seed"] in both]

    for m in models:
        sparse, full = same_seeds(pick(m, f"paper-{m}", "int8", True), pick(m, "full", "int8", True))
        sparse_all = pick(m, f"paper-{m}", "int8", True)
        stochastic_full = pick(m, "full", "int8", True, rounding="stochastic")
        if not (sparse and stochastic_full):
            continue
        out.append(f"{m}: sparse (paper scheme) vs int8 full, both rounding to nearest, on the "
                   f"{len(full)} seed{'s' if len(full) > 1 else ''} both ran: {_pt(top1(sparse) - top1(full))}, at "
                   f"{sparse[0]['peak_sram_bytes'] / stochastic_full[0]['peak_sram_bytes']:.3f}x the peak SRAM of "
                   f"full; sparse vs int8 full with stochastic rounding ({len(sparse_all)} and "
                   f"{len(stochastic_full)} seeds): {_pt(top1(sparse_all) - top1(stochastic_full))}.")
    for m in models:
        paper, searched = same_seeds(pick(m, f"paper-{m}", "int8", True), pick(m, "searched", "int8", True))
        lower = pick(m, "searched", "int8", True, budget_share=LOWER_BUDGET)
        if not (paper and searched):
            continue
        kb = lambda runs: f"{runs[0]['peak_sram_bytes'] / 1024:.1f} KB"   # noqa: E731
        out.append(f"{m}: the searched scheme vs the paper's, at its SRAM ({kb(paper)}; searched: {kb(searched)}), on "
                   f"the {len(paper)} seed{'s' if len(paper) > 1 else ''} both ran: {_pt(top1(searched) - top1(paper))}"
                   + (f"; searched at {LOWER_BUDGET:g}x that SRAM ({kb(lower)}): {100 * top1(lower):.1f} % top-1"
                      if lower else "") + ".")
    return out


def planned_runs(tasks: list[Task], models, runs, quick: bool) -> int:
    """Every seed of every row, but for a searched share its finished search found nothing at."""
    def absent(task, model, run) -> bool:
        files = searched(model, task, quick) if run.scheme == "searched" else None
        return files is not None and files[run.budget_share] is None
    return sum(run.seeds for task in tasks for model in models for run in runs if not absent(task, model, run))


def section(tasks: list[Task], rows: list[dict], models, runs, jobs: int, quick: bool = False) -> str:
    busy = sum(r["cpu_seconds"] for r in rows)
    planned = planned_runs(tasks, models, runs, quick)
    measured = "" if len(rows) == planned else (
        f"**{len(rows)} of the {planned} planned runs are measured so far** (`--cached-only` reported what "
        "the cache held; the seeds column says how many of each row's seeds every model ran; rerun the "
        "script to finish).  ")
    lines = ["## Transfer learning: QAS and sparse update, int8 runs in the generated C", "", measured +
             f"Regenerate with `python -m benchmarks.transfer` (the runs took {busy / 60:.0f} min of CPU "
             f"here, about {busy / 60 / jobs:.0f} min with {jobs} processes; results are cached per run under "
             "out/transfer-cache, `--no-cache` recomputes).  "
             "Models: the paper's three int8 ImageNet models with a new seeded head.  fp32 = the float "
             "twin of the int8 graph (`training/float_trainer.py`); int8 = `tte compile`'s C engine on "
             "this host, trained weights int8 and biases int32 updated in place as on the device, each "
             "step rounded to nearest unless the row says stochastic rounding; the "
             f"first {SPOT_STEPS} steps of every int8 run equal the numpy reference trainer's bit for bit "
             "(checked by the script).  Seed k gives the image order and the flips; a row's top-1 is "
             "the mean ±SD over its seeds, the comparisons below compare means (one run moves by about "
             "±2 points with the order alone).  The rows the conclusions compare run "
             f"{SEEDS} seeds, the diagnostic rows one.  SGD-M rows: momentum {MOMENTUM} with the lr "
             f"schedule times {SGDM['lr_scale']:g}, so that a step over like gradients has plain SGD's "
             "size (at the plain lr they diverged).  Warm-up rows: the same schedule times a linear ramp over the "
             f"first {100 * WARMUP['warmup']:g} % of the steps (the acceptance compares the two warm-up rows "
             "with each other).  Step-clip rows: today's schedule with the divergence guard "
             f"`--step-clip {CLIP['step_clip']:g}` (a weight row's step at most {CLIP['step_clip']:g} times max(its "
             "largest |weight|, 1), in int8 steps; fp32 under the same rule).  Peak KB = the SRAM of the scheme's "
             "engine for the whole "
             "model, memory.json `peak_sram_bytes` of `tte compile --num-classes N` with the run's "
             "`--storage`, `--rounding`, `--momentum` and `--step-clip` (arena, trained parameters and their "
             "velocities, static state, worst-case stack); fp32: a what-if figure, the same schedule "
             "with every tensor float32.  Top-1 in %.  The acceptance row for int8 full training is "
             "the one with stochastic rounding (the on-device default, rounding to nearest, loses the "
             "steps under half an int8 step).", ""]
    for task in tasks:
        lines += [f"### {task.name}", "", _describe(task, rows), "", table(task, rows, models, runs), ""]
        lines += [f"- {c}" for c in checks(task, rows, models)] + [""]
        lines += searched_schemes(task, rows, models)
        lines += [f"![{task.name}: top-1 against peak SRAM]({SVG[task.name]})", ""]
    lines += analysis(tasks, rows, models)
    return "\n".join(lines)


def frontier_svg(model: str, task: Task) -> str:
    """The docs/ name of the search's report figure: each part's contribution and the frontier."""
    return f"transfer-search-{model}-{task.name}.svg"


def searched_files(task: Task, rows: list[dict], model: str) -> dict[float, Path]:
    """{budget share: the scheme file its searched rows of `task` trained}."""
    return {r["budget_share"]: Path(r["scheme_file"]) for r in _select(rows, task, model=model, scheme="searched",
                                                                        budget_share=None)}


def searched_schemes(task: Task, rows: list[dict], models) -> list[str]:
    """The schemes the searched rows trained, with the search's frontier."""
    out = []
    for m in models:
        files = searched_files(task, rows, m)
        if files:
            schemes = "; ".join(f"at {share:g}x: `{json.dumps(json.loads(path.read_text()), separators=(',', ':'))}`"
                                for share, path in sorted(files.items(), reverse=True))
            out.append(f"- {m}: {schemes}; contributions and the frontier of summed contribution against planned "
                       f"SRAM: [{frontier_svg(m, task)}]({frontier_svg(m, task)})")
    return ["The searched schemes: `tte search` under the SRAM of the paper scheme's engine (1x) and 0.7x of it "
            "(where a scheme fits), "
            "with its default protocol at this task's lr, on validation images held out from its own training "
            "images (both from the training file: the test images above stay unseen):", ""] + out + [""] if out else []


def analysis(tasks: list[Task], rows: list[dict], models) -> list[str]:
    """Why the int8 runs land where they do, with this run's own numbers."""
    def loss(task, scheme, precision, qas):
        tenths = [r["loss_by_tenth"] for r in _select(rows, task, scheme=scheme, precision=precision, qas=qas)]
        return (np.mean([t[0] for t in tenths]), np.mean([t[-1] for t in tenths])) if tenths else (math.nan, math.nan)

    checked = [r for r in rows if r["precision"] == "int8"]
    out = ["### Reading the results", "",
           f"- The C and the reference trainer: {sum(bool(r['c_equals_reference']) for r in checked)} of "
           f"{len(checked)} int8 runs equal bit for bit over their first {SPOT_STEPS} steps (the script stops "
           "on a difference).",
           "- **Int8 storage rounds small steps away.**  A weight stored int8 and updated in place (on the "
           "device, and in TinyEngine's demo) moves only when its step is at least half an int8 step.  With "
           "QAS the step in int8 units is lr * dL/dW_real / s_w, the fp32 step measured in units of s_w, so "
           "large steps survive and small ones vanish; the `fp32 master` rows keep a float32 copy of each "
           "trained weight (`tte compile --storage float32`, 4 B more a weight) with the same int8 forward, "
           "so the gap between the two rows is what in-place rounding costs.",
           "- **Without QAS** the step in int8 units is s_w^2 (weights) or s_b^2 (biases) times smaller "
           "again, far below half a step for nearly every parameter, so the loss hardly moves:"]
    for task in tasks:
        first, last = loss(task, "full", "int8", False)
        q_first, q_last = loss(task, "full", "int8", True)
        out.append(f"  {task.name}: mean training loss of the int8 full runs from the first to the last tenth "
                   f"of training {first:.3f} -> {last:.3f} without QAS, {q_first:.3f} -> {q_last:.3f} with it.")
    out += stuck_runs(tasks, rows)
    out += diverged_runs(tasks, rows)
    out += ["- Batch 1, a few epochs and one learning rate for every run (no per-run tuning; the SGD-M rows "
            "scale it by 1 - momentum), so the absolute accuracies are below what longer training reaches; "
            "every run of a seed sees the same images, order and flips.", ""]
    return out


def chance_losses(classes: int):
    """(stuck, near): whether a tenth's mean loss is ln(classes) to the digit (every logit equal:
    no gradient), and whether it is within NEAR_UNIFORM of it (at or about chance)."""
    uniform = math.log(classes)
    return (lambda v: v == round(uniform, 4)), (lambda v: abs(v - uniform) < NEAR_UNIFORM)


DIVERGED = 2.0   # a tenth's mean loss above this many times ln(classes): the run diverged


def diverged_runs(tasks: list[Task], rows: list[dict]) -> list[str]:
    """The runs, fp32 or int8, with a tenth of training whose mean loss is above DIVERGED times
    ln(classes) (a step too large for the curvature threw the weights off), and when."""
    out = []
    for task in tasks:
        limit = DIVERGED * math.log(len(task.classes))
        for r in sorted(_select(rows, task, storage=None, rounding=None, momentum=None, lr_scale=None, warmup=None,
                                step_clip=None, budget_share=None), key=lambda r: (r["model"], _label(r), r["seed"])):
            high = [k for k, v in enumerate(r["loss_by_tenth"]) if v > limit]
            if high:
                out.append(f"  {r['model']}, {task.name}, {_label(r)}, seed {r['seed']}: tenth {high[0] + 1} "
                           f"at {r['loss_by_tenth'][high[0]]:.1f} (highest {max(r['loss_by_tenth']):.1f}), top-1 "
                           f"{100 * r['top1']:.1f} %.")
    if not out:
        return []
    return [f"- **Runs that diverged** (a tenth of training with a mean loss above {DIVERGED:g} ln(classes)): a "
            "step too large for the loss's curvature threw the weights off, in fp32 as in int8, on some seeds.  In "
            f"the warm-up rows the lr peaks at the end of tenth {math.ceil(10 * WARMUP['warmup'])}:"] + out


def _tail(tenths: list[float], at) -> int:
    """How many of the last tenths `at` holds for, counted back from the end."""
    return len(tenths) - next((i for i in range(len(tenths), 0, -1) if not at(tenths[i - 1])), 0)


def stuck_runs(tasks: list[Task], rows: list[dict]) -> list[str]:
    """The int8 QAS runs that end training at chance: their loss sits at exactly ln(classes)
    (stuck: every logit equal), or within NEAR_UNIFORM of it with a top-1 within CHANCE_POINTS
    of chance (not learning), for the last two tenths or more; each with its float32-master twin."""
    out = []
    for task in tasks:
        uniform = math.log(len(task.classes))
        for r in rows:
            tenths = r["loss_by_tenth"]
            stuck, near_uniform = chance_losses(len(task.classes))
            flat, near = _tail(tenths, stuck), _tail(tenths, near_uniform)
            at_chance = flat >= 2 or (near >= 2 and abs(r["top1"] - 1 / len(task.classes)) <= CHANCE_POINTS)
            if r["task"] != task.name or not at_chance or r["precision"] != "int8" or not r["qas"] \
                    or r["storage"] != "int8":
                continue
            twin = _select(rows, task, model=r["model"], scheme=r["scheme"], qas=True, storage="float32",
                           seed=r["seed"], warmup=r["warmup"], step_clip=r["step_clip"],
                           budget_share=r["budget_share"], lr_scale=r["lr_scale"], momentum=r["momentum"])
            where = (f"for the last {flat} tenths it is ln {len(task.classes)} = {uniform:.4f} to the digit: every "
                     "logit is equal on every image, and the loss never changes again" if flat >= 2 else
                     f"for the last {near} tenths it is within {NEAR_UNIFORM} of ln {len(task.classes)} = "
                     f"{uniform:.4f}, and top-1 is {100 * r['top1']:.1f} %")
            out.append(
                f"- **{r['model']}, {task.name}, {_label(r)}, seed {r['seed']}: "
                f"{'stuck' if flat >= 2 else 'does not learn'}.**  Mean training loss by tenth of training: "
                f"{', '.join(f'{v:.2f}' for v in tenths)}; {where}."
                + (f"  Its float32-master twin (same int8 forward and gradients, no in-place rounding) ends at "
                   f"{100 * twin[0]['top1']:.1f} % top-1." if twin else ""))
    return out


def _points(task: Task, rows: list[dict], runs) -> list[dict]:
    """One point a (model, run): its mean top-1 over the seeds."""
    return [{"model": m, "scheme": _label(seeds[0]), "peak_sram_bytes": seeds[0]["peak_sram_bytes"],
             "top1": float(np.mean([r["top1"] for r in seeds]))}
            for run in runs for m, seeds in of_run(task, rows, run).items()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.transfer", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few minutes: tiny subsets, 1 epoch; writes no docs")
    p.add_argument("--json", action="store_true", help='print {"runs": [...]} on one line')
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated (default: the paper's three)")
    p.add_argument("--tasks", default=",".join(TASKS), help="comma-separated: " + ", ".join(TASKS))
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: one a core)")
    p.add_argument("--no-cache", action="store_true",
                   help="recompute every run and search again (the search reuses its own cache of runs and plans)")
    p.add_argument("--cached-only", action="store_true",
                   help="run nothing: report the runs the cache holds (the docs say how many of the planned)")
    p.add_argument("--seeds", type=int, default=None,
                   help=f"image orders for every row (default: {SEEDS} for the compared rows, 1 for the diagnostic ones)")
    a = p.parse_args(argv)
    models = [m for m in a.models.split(",") if m]
    missing = [m for m in models if not Path(model_path(m)).is_file()]
    unknown = [t for t in a.tasks.split(",") if t not in TASKS]
    if missing or unknown or not models:
        print(f"error: {'no model ' + ', '.join(missing) + ' in ' + str(MODELS_DIR) if missing else ''}"
              f"{'unknown task ' + ', '.join(unknown) if unknown else ''}{'no models' if not models else ''}",
              file=sys.stderr)
        return 2
    if a.seeds is not None and a.seeds < 1:
        print(f"error: --seeds {a.seeds}: at least 1", file=sys.stderr)
        return 2
    tasks = [replace(TASKS[t], **QUICK[t]) if a.quick else TASKS[t] for t in a.tasks.split(",")]
    runs = RUNS if a.seeds is None else tuple(replace(r, seeds=a.seeds) for r in RUNS)
    try:
        rows = study(models, tasks, runs, max(1, a.jobs), not a.no_cache, quiet=a.json, cached_only=a.cached_only,
                     quick=a.quick)
    except TteError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps({"runs": [{k: r[k] for k in ("model", "task", "scheme", "precision", "qas", "storage",
                                                      "rounding", "momentum", "lr_scale", "warmup",
                                                      "step_clip", "budget_share", "seed",
                                                      "top1",
                                                      "peak_sram_bytes")}
                                   for r in rows]}))
        return 0
    text = section(tasks, rows, models, runs, a.jobs, a.quick)
    if not a.quick:
        from .transfer_plot import svg
        write_section("transfer", text)
        for task in tasks:
            (ROOT / "docs" / SVG[task.name]).write_text(svg(_points(task, rows, runs),
                                                          f"{task.name}: top-1 against peak SRAM"))
            for model in models:
                report = searched_files(task, rows, model).get(1.0)
                if report is not None and report.with_suffix(".svg").is_file():
                    shutil.copyfile(report.with_suffix(".svg"), ROOT / "docs" / frontier_svg(model, task))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
