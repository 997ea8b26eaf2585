"""The one pipeline: a forward graph and an update scheme -> the engine that `tte plan`,
`tte compile`, `tte bench-m7`, the benchmarks and the tests all build.

    TRAINING_PASSES   legalize_biases -> replace_classifier (with --num-classes) -> autodiff
                      -> sparse_update -> qas -> fuse_frozen_prefix -> reorder -> inplace
    then              lifetimes -> arena planner -> update_blocks (and plan again, kept if
                      the arena did not grow) -> overlap check -> codegen context
                      -> memory summary (memory.json)

`training_engine(g, scheme, options)` runs it once and returns an `Engine`: the scheduled graph,
the arena buffers and their placement, the codegen context (every kernel call of the C) and
`summary`, the contents of memory.json.  The summary is computed from the context, that is from
what the generated C allocates: the arena, the trained parameters as the C stores them, the
other static state, and the worst-case stack of the kernels the C calls.  `tte plan` prints it,
`tte compile` writes it beside the C; there is no second schedule.

`Options` holds every choice a command can make, with the one default every command shares.
`inference_engine(g)` is the forward-only engine (no training step).  The `auto` scheme
(`scheme.py` `auto_candidates`) is the largest of its candidates whose engine fits
`Options.budget_bytes`: each candidate tried is a whole engine, built and measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .codegen.context import build_context, graph_sha256
from .codegen.stack_usage import engine_stack_bytes
from .errors import BudgetError, ConfigError
from .ir import Graph
from .passes.autodiff import autodiff
from .passes.fuse_frozen_prefix import fuse_frozen_prefix
from .passes.inplace import inplace
from .passes.legalize_bias import legalize_biases
from .passes.lifetimes import lifetimes
from .passes.qas import qas
from .passes.reorder import reorder
from .passes.replace_classifier import replace_classifier
from .passes.sparse_update import sparse_update
from .passes.update_blocks import update_blocks
from .planners import PLANNERS, best_plan
from .planners.base import Buffer, Plan, check_no_overlap
from .report.memory import memory_summary
from .report.plan import engine_notes, flash_bytes, layer_rows
from .scheme import (ALL, DEFAULT_BUDGET_BYTES, ROUNDINGS, WEIGHT_STORAGES, UpdateScheme, auto_candidates,
                     check_bias_lr_scale, check_momentum, check_step_clip, resolve)

KERNEL_BACKENDS = ("portable", "cmsis_nn")


@dataclass(frozen=True)
class Options:
    """Every option of the pipeline, with the default that every command uses."""

    num_classes: int | None = None     # a new N-class head that trains in full
    storage: str | None = None         # trained weights: int8 in place, or a float32 master beside the
                                       # int8 image; None: the scheme's (int8 unless it says otherwise)
    rounding: str | None = None        # in-place int8 / int32 steps: nearest or stochastic; None: the scheme's
    momentum: float | None = None      # SGD momentum of every trained layer; None: the scheme's (0, plain SGD)
    bias_lr_scale: float | None = None  # a bias steps at lr * this; None: the scheme's (1)
    step_clip: float | None = None     # a weight row's step at most this times its largest |weight|;
                                       # None: the scheme's (0, off)
    qas: bool = True                   # quantization-aware scaling of the gradients
    reorder: bool = True               # apply each gradient as soon as it exists (False: the paper's baseline)
    label_smoothing: float = 0.0
    seed: int = 0                      # seed of the new head
    planner: str | None = None         # one arena planner, or None for the best of all
    kernels: str = "portable"          # the C kernel backend: portable or cmsis_nn
    budget_bytes: int = DEFAULT_BUDGET_BYTES  # the SRAM the engine must fit (memory.json peak_sram_bytes); the
                                       # `auto` scheme picks the largest update under it

    def __post_init__(self):
        if self.storage is not None and self.storage not in WEIGHT_STORAGES:
            raise ConfigError(f"--storage {self.storage}: choose one of {', '.join(WEIGHT_STORAGES)}")
        if self.rounding is not None and self.rounding not in ROUNDINGS:
            raise ConfigError(f"--rounding {self.rounding}: choose one of {', '.join(ROUNDINGS)}")
        if self.momentum is not None:
            check_momentum(self.momentum, "--momentum")
        if self.bias_lr_scale is not None:
            check_bias_lr_scale(self.bias_lr_scale, "--bias-lr-scale")
        if self.step_clip is not None:
            check_step_clip(self.step_clip, "--step-clip")
        if self.planner is not None and self.planner not in PLANNERS:
            raise ConfigError(f"--planner {self.planner}: unknown; choose one of {', '.join(PLANNERS)}")
        if self.kernels not in KERNEL_BACKENDS:
            raise ConfigError(f"--kernels {self.kernels}: choose one of {', '.join(KERNEL_BACKENDS)}")
        if self.num_classes is not None and self.num_classes < 2:
            raise ConfigError(f"--num-classes {self.num_classes}: a classifier needs at least 2 classes")


@dataclass(frozen=True)
class Engine:
    """One compiled engine: what `tte compile` writes and `tte plan` reports."""

    forward: Graph                 # the forward graph (with its new head)
    graph: Graph                   # the step in the order the C runs it
    buffers: list[Buffer]          # the arena's buffers
    plan: Plan                     # their placement
    context: dict                  # codegen's context: every kernel call, every static
    summary: dict = field(repr=False)   # memory.json


def for_classes(g: Graph, scheme: UpdateScheme, num_classes: int | None, seed: int = 0) -> tuple[Graph, UpdateScheme]:
    """With num_classes, a new seeded classifier that trains in full; otherwise unchanged."""
    if num_classes is None:
        return g, scheme
    return replace_classifier(g, num_classes, seed), scheme.training_in_full("classifier")


def training_graph(g: Graph, scheme: UpdateScheme, *, use_qas: bool = True,
                   label_smoothing: float = 0.0) -> tuple[Graph, Graph]:
    """(the backward graph before pruning, the pruned training graph).  Autodiff builds the
    backward of the nodes above the earliest trained layer only (passes/autodiff.py), so a
    frozen op without a gradient rule below it does not matter."""
    trained = resolve(scheme, g)
    params = [g.node(layer).inputs[i] for layer, u in trained.items()
              for i, kept in ((1, u.channels is not None), (2, u.bias)) if kept]
    full = autodiff(g, label_smoothing=label_smoothing, trained=params)
    pruned = sparse_update(full, trained, weight_storage=scheme.weight_storage, rounding=scheme.rounding,
                           bias_lr_scale=scheme.bias_lr_scale, step_clip=scheme.step_clip)
    return full, (qas(pruned) if use_qas else pruned)


def with_options(scheme: UpdateScheme, options: Options) -> UpdateScheme:
    """`scheme` with the storage and optimizer fields that `options` sets (--momentum: every
    trained layer's)."""
    given = {"weight_storage": options.storage, "rounding": options.rounding, "bias_lr_scale": options.bias_lr_scale,
             "step_clip": options.step_clip}
    if options.momentum is not None:
        given.update(momentum=options.momentum, momentum_layers=ALL)
    return replace(scheme, **{k: v for k, v in given.items() if v is not None})


def unscheduled_training(g: Graph, scheme: UpdateScheme, options: Options = Options()) -> tuple[Graph, Graph]:
    """(the forward graph with its new head, the training step before scheduling): the passes of
    TRAINING_PASSES up to qas, every gradient made before any update.  What the schedule must
    preserve (tests/training/test_schedule_preserves_training.py); not for a fitted scheme."""
    g, scheme = for_classes(legalize_biases(g), with_options(scheme, options), options.num_classes, options.seed)
    _, train = training_graph(g, scheme, use_qas=options.qas, label_smoothing=options.label_smoothing)
    return g, train


def training_schedule(g: Graph, scheme: UpdateScheme, options: Options = Options()) -> tuple[Graph, Graph]:
    """(the forward graph with its new head, the training step in the order the C runs it):
    the passes of TRAINING_PASSES."""
    if scheme.fit_to_budget:
        engine = training_engine(g, scheme, options)
        return engine.forward, engine.graph
    g, train = unscheduled_training(g, scheme, options)
    # the row-banded in-place conv relies on the portable kernel's row order (tte_kernels.h)
    return g, inplace(reorder(fuse_frozen_prefix(train), fuse_updates=options.reorder),
                      banded=options.kernels == "portable")


def training_engine(g: Graph, scheme: UpdateScheme, options: Options = Options()) -> Engine:
    """The training engine of forward graph `g` under `scheme`."""
    if scheme.fit_to_budget:
        return _fitted_engine(g, scheme, options)
    forward, sched = training_schedule(g, scheme, options)
    return _engine(forward, sched, options, scheme_name=scheme.name)


def _candidates(g: Graph, scheme: UpdateScheme) -> list[UpdateScheme]:
    """`auto_candidates`, each with every other field (storage, rounding, optimizer) of `scheme`;
    momentum_layers, checked against the largest candidate, keeps in each the layers it trains."""
    out = [replace(scheme, name=c.name, biases=c.biases, weights=c.weights, n_bias_update=c.n_bias_update,
                   num_convs=c.num_convs, fit_to_budget=False) for c in auto_candidates(g)]
    if scheme.momentum_layers == ALL:
        return out
    wanted = {layer for layer, u in resolve(out[0], g).items() if u.momentum}
    return [replace(c, momentum_layers=tuple(layer for layer in resolve(replace(c, momentum=0.0, momentum_layers=ALL), g)
                                             if layer in wanted)) for c in out]


def _fitted_engine(g: Graph, scheme: UpdateScheme, options: Options) -> Engine:
    """The engine of the largest `auto_candidates` scheme within options.budget_bytes, found by
    bisection (a smaller candidate trains a subset, so as a rule needs no more SRAM).  Raises
    BudgetError when not even the smallest (the classifier alone) fits."""
    candidates = _candidates(g, scheme)
    built: dict[int, Engine] = {}

    def engine(i: int) -> Engine:
        if i not in built:
            built[i] = training_engine(g, candidates[i], options)
        return built[i]

    lo, hi = 0, len(candidates) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if engine(mid).summary["peak_sram_bytes"] <= options.budget_bytes:
            hi = mid
        else:
            lo = mid + 1
    need = engine(lo).summary["peak_sram_bytes"]
    if need > options.budget_bytes:
        raise BudgetError(f"scheme auto: even its smallest update, {candidates[lo].name.removeprefix('auto: ')}, "
                          f"needs {need} B of SRAM, over the budget {options.budget_bytes} B")
    return engine(lo)


def inference_engine(g: Graph, options: Options = Options()) -> Engine:
    """The inference engine of `g` (legal biases change no output: it computes what `g` does)."""
    g = legalize_biases(g)
    return _engine(g, g, options, scheme_name=None)


def _placed(sched: Graph, options: Options) -> tuple[list[Buffer], Plan]:
    buffers = lifetimes(sched, backend=options.kernels)
    return buffers, best_plan(buffers) if options.planner is None else PLANNERS[options.planner](buffers)


# The shares of an arena's free bytes a fused update's block may widen into (`_widened`).
WIDEN_SHARES = (1.0, 0.5, 0.25)


def _widened(sched: Graph, buffers: list[Buffer], plan: Plan, options: Options):
    """The fused weight-gradient blocks as wide as the arena allows (passes/update_blocks.py):
    all at once into the bytes free at their steps when that placement does not grow the arena.
    Otherwise node by node (`_widened_each`), from the blocks as they are and from all of them
    widened at once into the largest share of their free bytes that fits; of the two, the one
    with fewer blocks (each block is one more pass over its saved input).  The live bytes are a
    lower bound, hence the placements."""
    wider = update_blocks(sched, buffers, plan.arena_bytes)
    wider_buffers, wider_plan = _placed(wider, options)
    if wider_plan.arena_bytes <= plan.arena_bytes:
        return wider, wider_buffers, wider_plan
    starts = [(sched, buffers, plan)]
    for share in WIDEN_SHARES[1:]:
        wider = update_blocks(sched, buffers, plan.arena_bytes, share=share)
        if _blocks(wider) == _blocks(sched):   # nothing widened: no second start
            break
        wider_buffers, wider_plan = _placed(wider, options)
        if wider_plan.arena_bytes <= plan.arena_bytes:
            starts.append((wider, wider_buffers, wider_plan))
            break
    widened = [_widened_each(*start, options) for start in starts]
    return min(widened, key=lambda placed: (_blocks(placed[0]), placed[2].arena_bytes))


def _widened_each(sched: Graph, buffers: list[Buffer], plan: Plan, options: Options):
    """One fused update at a time, in schedule order, into each share of its free bytes in
    turn, each kept only if the arena did not grow."""
    for node in [n.name for n in sched.nodes if n.attrs.get("fused_update")]:
        for share in WIDEN_SHARES:
            trial = update_blocks(sched, buffers, plan.arena_bytes, only=node, share=share)
            if trial.node(node).attrs["block_rows"] == sched.node(node).attrs["block_rows"]:
                break
            trial_buffers, trial_plan = _placed(trial, options)
            if trial_plan.arena_bytes <= plan.arena_bytes:
                sched, buffers, plan = trial, trial_buffers, trial_plan
                break
    return sched, buffers, plan


def _blocks(sched: Graph) -> int:
    """The number of gradient blocks a training step makes, over its fused updates."""
    return sum(-(-sched.tensors[n.outputs[0]].shape[0] // n.attrs["block_rows"])
               for n in sched.nodes if n.attrs.get("fused_update"))


def _engine(forward: Graph, sched: Graph, options: Options, scheme_name: str | None) -> Engine:
    buffers, plan = _placed(sched, options)
    if any(n.attrs.get("fused_update") for n in sched.nodes):
        sched, buffers, plan = _widened(sched, buffers, plan, options)
    check_no_overlap(buffers, plan)
    ctx = build_context(sched, plan.offsets, plan.arena_bytes, source=sched.name,
                        source_sha256=graph_sha256(sched),
                        buffers=buffers)
    ctx["stack_bytes"] = engine_stack_bytes(ctx["kernels"], options.kernels)   # the build fragments name it
    extra = engine_notes(sched, buffers, scheme_name, options) if scheme_name is not None else None
    summary = memory_summary(buffers, plan, layers=layer_rows(forward, sched, buffers),
                             flash_bytes=flash_bytes(forward, sched), trainable_bytes=ctx.get("trainable_sram_bytes", 0),
                             data_bss_bytes=ctx["ram_bytes"], stack_bytes=ctx["stack_bytes"], extra=extra)
    return Engine(forward, sched, buffers, plan, ctx, summary)
