"""`tte compile`: the engine of the one pipeline (`pipeline.py`) -> a C folder.

    compile_training(g, scheme, out, options, budget_bytes)   the training step, tte_infer too
    compile_inference(g, out, options)                        an inference engine

The budget is checked on the engine's memory summary, which `tte plan` prints for the same
arguments, before anything is written; the folder is then written all or nothing, with
memory.json/md/svg beside the C (`codegen/emit.py`).
"""

from __future__ import annotations

from dataclasses import replace

from .codegen.emit import write_output
from .ir import Graph
from .pipeline import Engine, Options, inference_engine, training_engine
from .report.memory import report_files
from .report.plan import check_budget
from .scheme import UpdateScheme


def compile_training(g: Graph, scheme: UpdateScheme, out_dir: str, options: Options = Options(), *,
                     budget_bytes: int | None = None) -> Engine:
    """Write the training engine of `g` under `scheme` to `out_dir`; over `budget_bytes` of
    SRAM it raises BudgetError and writes nothing (the `auto` scheme fits that budget)."""
    if budget_bytes is not None:
        options = replace(options, budget_bytes=budget_bytes)
    engine = training_engine(g, scheme, options)
    if budget_bytes is not None:
        check_budget(engine, budget_bytes)
    write_engine(engine, out_dir, options)
    return engine


def compile_inference(g: Graph, out_dir: str, options: Options = Options()) -> Engine:
    """Write the inference engine of `g` to `out_dir`."""
    engine = inference_engine(g, options)
    write_engine(engine, out_dir, options)
    return engine


def write_engine(engine: Engine, out_dir: str, options: Options) -> None:
    """The C folder of `engine` (built with `options`), memory.json/md/svg beside it."""
    write_output(str(out_dir), engine.context, report_files(engine.buffers, engine.plan, engine.summary),
                 backend=options.kernels)
