"""`tte`: the command line.  Parses arguments, calls the package, prints one-line errors.

Exit codes: 0 success, 1 a compile or model failure (a `TteError`), 2 a usage or config
error.  No command prints a traceback for bad input; set TTE_DEBUG=1 to see one for a bug.
"""

from __future__ import annotations

import functools
import json
import os
import sys

import click
import numpy as np

from .errors import TteError
from .scheme import DEFAULT_BUDGET_BYTES, ROUNDINGS, WEIGHT_STORAGES


def _one_line_errors(fn):
    """Turn every TteError (and, unless TTE_DEBUG is set, any other exception) into one line."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TteError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader went away (`tte graph ... | head`): nothing to report
            sys.stderr.close()
            sys.exit(0)
        except Exception as e:  # a bug: still one line unless asked for the traceback
            if os.environ.get("TTE_DEBUG"):
                raise
            click.echo(f"error: internal error ({type(e).__name__}: {' '.join(str(e).split())}); "
                       "rerun with TTE_DEBUG=1 for a traceback", err=True)
            sys.exit(1)

    return wrapper


def _print_version(ctx, _param, value):
    if not value or ctx.resilient_parsing:
        return
    from . import __version__
    from .resources import runtime_version

    click.echo(f"tte {__version__} (tinyengine-compiler), C runtime {runtime_version()}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Print the compiler's version and its C runtime's, then exit.")
def main():
    """tinyengine-compiler: compile an int8 ONNX model into C that trains it on a Cortex-M7."""


@main.command("import-paper-model")
@click.argument("pkl", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the QDQ int8 ONNX model.")
@_one_line_errors
def import_paper_model_cmd(pkl, output):
    """Convert one of the paper's released int8 .pkl models into a QDQ ONNX model."""
    from .frontend.onnx_export import export_qdq
    from .frontend.paper_pkl import load_paper_model

    g = load_paper_model(pkl)
    export_qdq(g, output)
    click.echo(f"wrote {output} ({len(g.nodes)} ops, input {list(g.tensors[g.inputs[0]].shape)} NHWC)")


@main.command("quantize")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--calib", required=True, type=click.Path(),
              help="Calibration images: a folder of .npy/.png/.jpg files or one .npy array (N,H,W,3 uint8).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the QDQ int8 ONNX model.")
@_one_line_errors
def quantize_cmd(model, calib, output):
    """Quantize a float ONNX model to int8 (QDQ, per-channel weights) with calibration data."""
    from .quantize import quantize_onnx

    quantize_onnx(model, calib, output)
    click.echo(f"wrote {output}")


@main.command("inspect")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the table as one JSON line.")
@_one_line_errors
def inspect_cmd(model, as_json):
    """Per-layer table: op, output shape, params, MACs and Flash bytes, with totals."""
    from .frontend import load_model
    from .report.inspect import format_inspect, inspect_rows

    g = load_model(model)
    if as_json:
        rows, totals = inspect_rows(g)
        click.echo(json.dumps({"layers": rows, "totals": totals}))
    else:
        click.echo(format_inspect(g))


@main.command("run")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="X.npy: a uint8 HxWx3 image (quantized with the model's input params) "
                   "or an int8 NHWC tensor used as is.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"top5": [[class, logit], ...], "logits": [...]} on one line.')
@_one_line_errors
def run_cmd(model, input_path, as_json):
    """Run the int8 reference forward pass and print the top-5 classes."""
    from .frontend import load_model
    from .frontend.inputs import load_input
    from .reference.interp import run_graph

    g = load_model(model, require_int8=True)
    x = load_input(g, input_path)
    logits = run_graph(g, x).reshape(-1).astype(np.int64)
    order = np.argsort(-logits, kind="stable")[:5]
    top5 = [[int(c), int(logits[c])] for c in order]
    if as_json:
        click.echo(json.dumps({"top5": top5, "logits": [int(v) for v in logits]}))
    else:
        for rank, (c, v) in enumerate(top5, 1):
            click.echo(f"{rank}. class {c:4d}  logit {v:4d}")


# The options every training command takes, declared once (click builds a new Option each time
# a decorator is applied).
UPDATE_OPTION = click.option(
    "--update", "update", default="auto", show_default=True,
    help="Sparse-update scheme: a preset (auto: the paper's recipe by position, the largest that fits --budget; "
         "full, last-layer, bias-only, paper-<model>, sparse_49kb) or a JSON file (docs/sparse_update.md).")
NUM_CLASSES_OPTION = click.option("--num-classes", type=int, default=None,
                                  help="Replace the classifier by a new N-class one that trains in full.")
NO_QAS_OPTION = click.option("--no-qas", is_flag=True, help="Turn quantization-aware scaling off (to compare).")
SEED_OPTION = click.option("--seed", type=int, default=0, show_default=True, help="Seed of the new classifier.")
BUDGET_OPTION = click.option(
    "--budget", default=f"{DEFAULT_BUDGET_BYTES // 1024}KB", show_default=True,
    help="SRAM budget for everything the engine keeps in SRAM (memory.json peak_sram_bytes: arena, trained "
         "parameters, static state, stack): the auto scheme picks the largest update under it, and plan, "
         "compile and bench-m7 exit 1 over it.")
STORAGE_OPTION = click.option(
    "--storage", type=click.Choice(WEIGHT_STORAGES), default=None,
    help="Trained weights: int8 updated in place (steps under half a step of the int8 grid are lost, unless "
         "--rounding stochastic), or a float32 master beside the int8 copy the forward reads (5 B a weight).  "
         "Default: the scheme's, int8.")
ROUNDING_OPTION = click.option(
    "--rounding", type=click.Choice(ROUNDINGS), default=None,
    help="How an int8 weight or int32 bias updated in place rounds its step: to nearest, or stochastically "
         "(up with the probability of the step's fraction, so small steps count in expectation; a 4-byte "
         "counter, saved in checkpoints).  Default: the scheme's, nearest.")


MOMENTUM_OPTION = click.option(
    "--momentum", type=float, default=None,
    help="SGD momentum of every trained layer, in [0, 1): v = momentum * v + g, step lr * v; a float32 "
         "velocity per trained element (counted in the SRAM, saved in checkpoints).  Default: the scheme's, "
         "0 (plain SGD); a scheme JSON may give it to some layers only.")
BIAS_LR_SCALE_OPTION = click.option(
    "--bias-lr-scale", type=float, default=None,
    help="Biases step at lr times this (weights at lr).  Default: the scheme's, 1.")
STEP_CLIP_OPTION = click.option(
    "--step-clip", type=float, default=None,
    help="Guard against divergence: where a weight update's largest step on an output channel (a depthwise "
         "conv: on the whole kernel) exceeds this times that row's largest |weight| (in int8 steps, at least "
         "1), the row's steps (and velocities) are scaled down to it, the direction kept; biases are not "
         "clipped.  Default: the scheme's, 0 (off).")


def _with_options(fn):
    """Hand the command one pipeline.Options, made from whichever pipeline options it declares
    (_training_options, _engine_options), instead of the options one by one."""
    # CLI parameter -> (Options field, its value from the CLI's)
    fields = {"num_classes": ("num_classes", None), "budget": ("budget_bytes", "bytes"), "storage": ("storage", None),
              "rounding": ("rounding", None), "momentum": ("momentum", None), "bias_lr_scale": ("bias_lr_scale", None),
              "step_clip": ("step_clip", None), "no_qas": ("qas", "not"), "no_reorder": ("reorder", "not"),
              "kernels": ("kernels", None), "planner": ("planner", None), "seed": ("seed", None),
              "label_smoothing": ("label_smoothing", None)}

    @functools.wraps(fn)
    def run(**kw):
        from .pipeline import Options
        from .report.plan import parse_bytes

        convert = {None: lambda v: v, "not": lambda v: not v, "bytes": parse_bytes}
        given = {field: convert[how](kw.pop(name)) for name, (field, how) in fields.items() if name in kw}
        return fn(options=Options(**given), **kw)
    return run


# What every training command takes after the scheme and the classes.
STEP_OPTIONS = (BUDGET_OPTION, STORAGE_OPTION, ROUNDING_OPTION, MOMENTUM_OPTION, BIAS_LR_SCALE_OPTION, STEP_CLIP_OPTION,
                NO_QAS_OPTION)
# What the engines of `plan`, `compile`, `bench-m7` and `search` are built with besides.
ENGINE_BUILD_OPTIONS = (
    click.option("--no-reorder", is_flag=True,
                 help="Baseline: compute every gradient, then apply all updates (the paper's 'w/o reorder')."),
    click.option("--kernels", type=click.Choice(["portable", "cmsis_nn"]), default="portable", show_default=True,
                 help="Kernel backend: our portable C, or calls into CMSIS-NN (you supply it as CMSIS_NN_ROOT)."),
    click.option("--planner", default=None, help="One arena planner (default: the best of all of them)."),
)


def _decorated(fn, decorators):
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def _training_options(fn):
    """Options shared by `tte graph` and `tte train-sim` (defaults as `pipeline.Options`)."""
    return _decorated(fn, [UPDATE_OPTION, NUM_CLASSES_OPTION, *STEP_OPTIONS,
                           click.option("--label-smoothing", type=float, default=0.0, show_default=True), SEED_OPTION])


def _load_training_graphs(model, update, options):
    """(forward graph with its head, the backward graph of every op before pruning, or None when
    an op has no gradient rule, the scheduled training step of the one pipeline)."""
    from .frontend import load_model
    from .grads import trainable_ops
    from .passes.autodiff import autodiff
    from .pipeline import training_schedule
    from .scheme import load_scheme

    g, train = training_schedule(load_model(model, require_int8=True), load_scheme(update), options)
    whole = all(n.op in trainable_ops() for n in g.nodes)
    return g, autodiff(g, label_smoothing=options.label_smoothing) if whole else None, train


@main.command("graph")
@click.argument("model", type=click.Path(dir_okay=False))
@_training_options
@click.option("--json", "as_json", is_flag=True, help="Print the op counts as one JSON line.")
@_one_line_errors
@_with_options
def graph_cmd(model, update, options, as_json):
    """Build the training graph: op counts before and after pruning, and the backward ops kept."""
    from .ir.ops import BACKWARD_OPS
    from .passes.sparse_update import trained_params

    g, full, train = _load_training_graphs(model, update, options)
    before = None if full is None else len([n for n in full.nodes if n.op in BACKWARD_OPS])
    after = [n for n in train.nodes if n.op in BACKWARD_OPS]
    params = trained_params(train)
    if as_json:
        click.echo(json.dumps({"forward_ops": len(g.nodes), "backward_ops_before_pruning": before,
                               "backward_ops_after_pruning": len(after), "trained_params": len(params)}))
        return
    click.echo(f"forward ops: {len(g.nodes)}")
    click.echo(f"backward ops: {before if before is not None else 'n/a (an op has no gradient rule)'} "
               f"before pruning, {len(after)} after")
    click.echo(f"trained parameters: {len(params)} tensors, {sum(p.elements for p in params)} values, "
               f"{sum(p.bytes for p in params)} bytes as stored (without momentum velocities)")
    for n in after:
        shape = list(train.tensors[n.outputs[0]].shape)
        click.echo(f"  {n.name:40s} {n.op.value:30s} -> {n.outputs[0]} {shape}")


@main.command("train-sim")
@click.argument("model", type=click.Path(dir_okay=False))
@_training_options
@click.option("--dataset", required=True,
              help="fashion-mnist, fashion-vww (classes 0,1: is a sneaker in the scene), digits, or a folder "
                   "of class subfolders of PNG, JPEG or .npy images (cropped to a centred square and resized "
                   "to the model's input).")
@click.option("--classes", required=True, help="Comma-separated class ids, e.g. 0,1,2,3.")
@click.option("--train-per-class", type=click.IntRange(min=1), required=True)
@click.option("--test-per-class", type=click.IntRange(min=0), required=True)
@click.option("--epochs", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--lr", type=float, required=True,
              help="SGD learning rate of the weights (batch 1; biases: times --bias-lr-scale).")
@click.option("--json", "as_json", is_flag=True, help='Print {"epochs": [{"loss": .., "test_acc": ..}, ...]}.')
@_one_line_errors
@_with_options
def train_sim_cmd(model, update, options, dataset, classes, train_per_class, test_per_class, epochs, lr, as_json):
    """Simulate on-device training with the numpy reference trainer (the C's golden model)."""
    from .errors import ConfigError
    from .frontend.inputs import quantize_image
    from .datasets import load_split
    from .training.trainer import Trainer, fit

    try:
        class_ids = [int(c) for c in classes.split(",")]
    except ValueError:
        raise ConfigError(f"--classes {classes}: expected comma-separated integers") from None
    g, _, train = _load_training_graphs(model, update, options)
    n_logits = g.tensors[g.outputs[0]].shape[-1]
    if len(class_ids) > n_logits:
        raise ConfigError(f"{len(class_ids)} classes but the model has {n_logits} outputs; use --num-classes")
    size = g.tensors[g.inputs[0]].shape[1]
    tr_x, tr_y, te_x, te_y = load_split(dataset, class_ids, train_per_class, test_per_class, size)
    tr_x = [quantize_image(g, im) for im in tr_x]
    te_x = [quantize_image(g, im) for im in te_x]
    trainer = Trainer(train, lr)
    with click.progressbar(length=epochs * len(tr_x), label="training", file=sys.stderr) as bar:
        history = fit(trainer, tr_x, tr_y, te_x, te_y, epochs, options.seed, on_step=lambda: bar.update(1))
    if as_json:
        click.echo(json.dumps({"epochs": history}))
    else:
        for i, h in enumerate(history, 1):
            click.echo(f"epoch {i}: loss {h['loss']:.4f}  test accuracy {100 * h['test_acc']:.1f}%")


def _engine_options(fn):
    """Options shared by `tte plan`, `tte compile` and `tte bench-m7`: one pipeline, one set of
    defaults (`pipeline.Options`)."""
    return _decorated(fn, [UPDATE_OPTION, NUM_CLASSES_OPTION, *STEP_OPTIONS, *ENGINE_BUILD_OPTIONS, SEED_OPTION])


def _build_engine(model, update, options):
    """The pipeline's training engine of `model` under scheme `update`."""
    from .frontend import load_model
    from .pipeline import training_engine
    from .scheme import load_scheme

    return training_engine(load_model(model, require_int8=True), load_scheme(update), options)


def _sram_line(s: dict) -> str:
    """The SRAM total of a memory.json and what it is made of."""
    return (f"SRAM {s['peak_sram_bytes']} B ({s['peak_sram_bytes'] / 1024:.1f} KB) = arena {s['arena_bytes']} B "
            f"+ trained parameters {s['trainable_bytes']} B + other static {s['other_static_bytes']} B "
            f"+ stack (worst case) {s['stack_bytes']} B")


@main.command("plan")
@click.argument("model", type=click.Path(dir_okay=False))
@_engine_options
@click.option("-o", "--output", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Write memory.json, memory.md and memory.svg into this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print memory.json on one line.")
@_one_line_errors
@_with_options
def plan_cmd(model, update, options, out_dir, as_json):
    """Plan the SRAM of one training step as `tte compile` builds it; report it, gate on a budget."""
    from .codegen.emit import write_files
    from .report.memory import report_files
    from .report.plan import check_budget, peak_breakdown

    engine = _build_engine(model, update, options)
    s = engine.summary
    if out_dir is not None:
        write_files(out_dir, report_files(engine.buffers, engine.plan, s))
    if as_json:
        click.echo(json.dumps(s))
    else:
        lb = s["lower_bound_bytes"]
        click.echo(f"{_sram_line(s)}; flash {s['flash_bytes']} B")
        click.echo(f"arena planner {s['planner']}: lower bound {lb} B, arena / lower bound "
                   f"{s['arena_bytes'] / lb if lb else 0:.3f}")
        click.echo(peak_breakdown(engine))
        for note in s["notes"]:
            click.echo(f"  {note}")
    check_budget(engine, options.budget_bytes)


@main.command("compile")
@click.argument("model", type=click.Path(dir_okay=False))
@_engine_options
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder: tte_model.[ch], tte_weights.[ch], runtime/, tte.mk, tte.cmake, memory.*")
@_one_line_errors
@_with_options
def compile_cmd(model, update, options, out_dir):
    """Compile the training step into a self-contained C folder (memory.json as `tte plan` reports it)."""
    from .compile import write_engine
    from .report.plan import check_budget

    engine = _build_engine(model, update, options)
    check_budget(engine, options.budget_bytes)
    write_engine(engine, out_dir, options)
    click.echo(f"wrote {out_dir}: {_sram_line(engine.summary)}; "
               f"{len(engine.context['train_calls'])} kernel calls a training step")


def _search_options(fn):
    """`tte search`: the engine options of `tte compile` (a candidate's memory is what it would
    allocate with them), but no --update: the scheme is what is searched."""
    return _decorated(fn, [click.option("--num-classes", type=click.IntRange(min=2), required=True,
                                        help="Classes of the task: a new classifier that trains in full."),
                           *STEP_OPTIONS, *ENGINE_BUILD_OPTIONS,
                           click.option("--seed", type=int, default=0, show_default=True,
                                        help="Seed of the new classifier, of every run's image order and flips, "
                                             "and of the evolutionary search.")])


@main.command("search")
@click.argument("model", type=click.Path(dir_okay=False, exists=True))
@click.option("--dataset", required=True,
              help="fashion-mnist (10 classes: the first --num-classes), fashion-vww (2), digits (10: the first "
                   "--num-classes), or a folder of exactly --num-classes class subfolders of PNG, JPEG or .npy images.")
@_search_options
@click.option("--train-per-class", type=click.IntRange(min=1), default=None,
              help="Training images a class of every fine-tuning run.  [default: 50; --quick: 10]")
@click.option("--val-per-class", type=click.IntRange(min=1), default=None,
              help="Validation images a class, whose top-1 is a run's result: the training data's next ones "
                   "after the training images (fashion-mnist and fashion-vww: never a test image).  "
                   "[default: 50; --quick: 20]")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Epochs of every run.  [default: 2; --quick: 1]")
@click.option("--lr", type=float, default=0.003, show_default=True,
              help="Peak learning rate of every run (batch 1, cosine schedule).")
@click.option("--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="one a core",
              help="Processes for the runs and plans.")
@click.option("--quick", is_flag=True,
              help="A small search (3 bias depths, the last 4 block heads at ratios 0.25 and 1) on little data.")
@click.option("--cache", "cache_dir", default=None, type=click.Path(file_okay=False),
              help="Where runs and plans are kept, so an interrupted search resumes.  [default: <output>.cache]")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="The scheme JSON (tte compile --update reads it); <stem>.md and <stem>.svg go beside it.")
@_one_line_errors
@_with_options
def search_cmd(model, dataset, options, train_per_class, val_per_class, epochs, lr, jobs, quick, cache_dir, out):
    """Search the sparse-update scheme of largest measured contribution under --budget."""
    from .search.command import Protocol, StderrBar, search

    protocol = Protocol.default(quick, lr, options.seed, train_per_class, val_per_class, epochs)
    result = search(model, dataset, protocol, out, options, quick=quick, jobs=jobs, cache_dir=cache_dir,
                    progress=StderrBar,
                    echo=lambda line: click.echo(line, err=True))
    proof = "the proven optimum" if result["proven_optimal"] else "the best the evolutionary search found"
    lower = result["lower_budget"]
    click.echo(f"wrote {out}: {json.dumps(result['scheme'])}, planned SRAM {result['planned_sram_bytes']} B "
               f"({result['planned_sram_bytes'] / 1024:.1f} KB), summed contribution "
               f"{result['summed_contribution']:+.1f} points, {proof} ({result['runs']} runs, {result['plans']} plans); "
               f"at 0.7x the budget ({lower['budget_bytes']} B): "
               f"{json.dumps(lower['scheme']) if lower['scheme'] else 'nothing fits'}")
    click.echo(f"compile it with: {result['compile_command']}")


@main.command("simulate")
@click.argument("out_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="X.npy: int8 NHWC inputs, one [H,W,C] / [1,H,W,C] or a stack [N,H,W,C].")
@click.option("--labels", "labels_path", default=None, type=click.Path(dir_okay=False),
              help="Y.npy: one int label per input; with it, run one training step per input.")
@click.option("--lr", type=float, default=0.01, show_default=True, help="Learning rate of the training steps.")
@click.option("--epochs", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help='One line: {"logits": [[...], ...]} or {"losses": [...]}.')
@_one_line_errors
def simulate_cmd(out_dir, input_path, labels_path, lr, epochs, as_json):
    """Build a `tte compile` folder for this host and run its C: inference, or training steps."""
    from .errors import ConfigError
    from .targets.host import engine_from_folder

    engine = engine_from_folder(out_dir)
    try:
        x = np.load(input_path, allow_pickle=False)
        labels = None if labels_path is None else np.load(labels_path, allow_pickle=False).reshape(-1)
    except Exception as e:
        raise ConfigError(f"not a readable .npy array ({type(e).__name__}: {e})") from None
    if x.dtype != np.int8 or x.size % engine.input_bytes:
        raise ConfigError(f"{input_path}: expected int8 inputs of {engine.input_bytes} bytes each, got {x.dtype} {x.shape}")
    inputs = x.reshape(-1, engine.input_bytes)
    if labels is None:
        logits = [engine.infer(xi).tolist() for xi in inputs]
        click.echo(json.dumps({"logits": logits}) if as_json else "\n".join(
            f"input {i}: class {int(np.argmax(l))}" for i, l in enumerate(logits)))
        return
    if len(labels) != len(inputs) or not engine.trainable_bytes:
        raise ConfigError("--labels needs one label per input and a training engine (compiled with --update)")
    losses = [float(engine.train_step(xi, int(y), lr)) for _ in range(epochs) for xi, y in zip(inputs, labels)]
    click.echo(json.dumps({"losses": losses}) if as_json else "\n".join(
        f"step {i + 1}: loss {loss:.6f}" for i, loss in enumerate(losses)))


@main.command("compare")
@click.argument("old", type=click.Path(dir_okay=False, exists=True))
@click.argument("new", type=click.Path(dir_okay=False, exists=True))
@click.option("--max-regress", default="3%", show_default=True,
              help="Allowed growth of any *_bytes key, as 3% or 0.03.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True,
              help="text: a table; md: Markdown for a pull-request comment (verdict, keys, peak op, most "
                   "changed layers); json: the same as one JSON object.")
@_one_line_errors
def compare_cmd(old, new, max_regress, fmt):
    """Compare two memory.json reports; exit 1 if any category grew more than --max-regress."""
    from .errors import BudgetError
    from .report.compare import comparison, format_comparison, format_markdown, load_report, parse_max_regress

    limit = parse_max_regress(max_regress)
    result = comparison(load_report(old), load_report(new), limit)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(format_markdown(result) if fmt == "md" else format_comparison(result["rows"]))
    if result["verdict"] == "fail":
        raise BudgetError(f"memory regressed by more than {max_regress} in {', '.join(result['failing'])}")


@main.command("example-firmware")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="A new folder: main.c, Makefile, CMakeLists.txt, arm-none-eabi.cmake, README.md, tte_ab_store.[ch] "
                   "(checkpoints in two Flash slots), harness/.")
@_one_line_errors
def example_firmware_cmd(out_dir):
    """Write a minimal STM32F746 firmware that trains a `tte compile` folder (Make and CMake builds)."""
    from .targets.example import write_example_firmware

    written = write_example_firmware(out_dir)
    click.echo(f"wrote {out_dir}: {', '.join(written)}")
    click.echo(f"build it: make -C {out_dir} TTE_OUT=/absolute/path/to/out   (or cmake: {out_dir}/README.md)")


@main.command("bench-m7")
@click.argument("model", type=click.Path(dir_okay=False))
@_engine_options
@click.option("--steps", type=click.IntRange(min=1), default=3, show_default=True, help="Training steps K.")
@click.option("--lr", type=float, default=0.01, show_default=True, help="SGD learning rate.")
@click.option("--inputs", "inputs_path", default=None, type=click.Path(dir_okay=False),
              help="X.npy: K uint8 HxWx3 images or K int8 NHWC inputs (default: seeded random images); "
                   "labels are step % classes.")
@click.option("--opt", type=click.Choice(["-O2", "-Os", "-O3", "-Ofast"]), default="-Ofast", show_default=True,
              help="Optimization level, always with -fno-fast-math -ffp-contract=off; -Ofast is the build the "
                   "QEMU tests prove bit-exact for every scheme and docs/BENCHMARKS.md reports.")
@click.option("--timeout", type=float, default=600, show_default=True, help="Seconds before QEMU is killed.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON line: flash_bytes, ram_bytes, instr_* (instr_by_kernel: per function) and losses.")
@_one_line_errors
@_with_options
def bench_m7_cmd(model, update, options, steps, lr, inputs_path, opt, timeout, as_json):
    """Compile, link for the STM32F746 and train K steps on QEMU: sizes, instructions, losses."""
    import tempfile

    from .compile import write_engine
    from .errors import ConfigError
    from .frontend.inputs import quantize_image
    from .report.plan import check_budget
    from .targets.bench import bench_m7
    from .targets.firmware import REGION_BYTES

    engine = _build_engine(model, update, options)
    check_budget(engine, options.budget_bytes)
    g = engine.forward
    shape = g.tensors[g.inputs[0]].shape
    if inputs_path is None:
        images = np.random.default_rng(0).integers(0, 256, (steps, *shape[1:]), dtype=np.uint8)
    else:
        images = np.load(inputs_path, allow_pickle=False)
        if len(images) < steps or images.dtype not in (np.uint8, np.int8) or images.shape[1:] != tuple(shape[1:]):
            raise ConfigError(f"{inputs_path}: expected at least {steps} uint8 images or int8 inputs of shape "
                              f"{tuple(shape[1:])}, got {images.dtype} {images.shape}")
    xs = np.stack([quantize_image(g, im) if im.dtype == np.uint8 else im for im in images[:steps]])
    with tempfile.TemporaryDirectory(prefix="tte-bench-m7-") as tmp:
        write_engine(engine, tmp, options)
        labels = [i % engine.context["output"]["bytes"] for i in range(steps)]
        r = bench_m7(tmp, xs, labels, lr, opt=opt, timeout_s=timeout, strict_precision=False)
    if r["double_precision"]:
        click.echo(f"warning: {r['double_precision']}", err=True)
    if as_json:
        keys = ["flash_bytes", "ram_bytes", "text_bytes", "data_bytes", "bss_bytes", "stack_bytes", "stack_used_bytes",
                "stack_worst_case_bytes", "device_ram_bytes", "engine_ram_bytes", "harness_ram_bytes", "instr_infer",
                "instr_train_step", "instr_forward", "instr_backward", "instr_update", "steps", "instr_by_kernel"]
        click.echo(json.dumps({**{k: r[k] for k in keys}, "losses": r["losses"],
                               "single_precision": r["double_precision"] is None}))
        return
    flash, ram = REGION_BYTES["FLASH"], REGION_BYTES["RAM"]
    click.echo(f"Flash {r['flash_bytes']:8d} B of {flash} ({100 * r['flash_bytes'] / flash:.1f}%): "
               f"text {r['text_bytes']} + data {r['data_bytes']}")
    click.echo(f"RAM   {r['device_ram_bytes']:8d} B of {ram} ({100 * r['device_ram_bytes'] / ram:.1f}%) used: "
               f"data {r['data_bytes']} + bss {r['bss_bytes']} (the engine's {r['engine_ram_bytes']} + harness "
               f"{r['harness_ram_bytes']}) + stack {r['stack_used_bytes']} measured (worst case "
               f"{r['stack_worst_case_bytes']}, reserve {r['stack_bytes']})")
    click.echo(f"inference: {r['instr_infer']} instructions (QEMU, retired, not cycles)")
    for i, (s, loss) in enumerate(zip(r["steps"], r["losses"]), 1):
        click.echo(f"step {i}: loss {loss:.6f}  {s['train_step']} instructions = forward {s['forward']} "
                   f"+ backward {s['backward']} + update {s['update']}")
    step = r["instr_by_kernel"]["train_step"]
    click.echo("step 1 by function (the top 8; --json has all): " + ", ".join(
        f"{name} {count / r['instr_train_step']:.1%}" for name, count in list(step.items())[:8]))


if __name__ == "__main__":
    main()
