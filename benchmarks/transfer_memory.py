"""Peak SRAM of a transfer-learning run.

int8 runs: the SRAM of the engine that trained, `tte compile MODEL --update SCHEME
--num-classes N --storage int8|float32 --rounding nearest|stochastic --momentum M`'s
memory.json peak_sram_bytes (what `tte plan` prints for the same arguments).  fp32 runs are a
what-if figure, not an engine: the same schedule with every tensor float32 (activations, saved
activations, gradients and parameters; no 1-bit masks or kept channels, which describe int8
saved activations), placed by the same planners: what training the float model with this
engine's schedule would need.
"""

from __future__ import annotations

from functools import lru_cache

from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.ir import DType
from tinyengine_compiler.passes.inplace import inplace
from tinyengine_compiler.passes.lifetimes import lifetimes
from tinyengine_compiler.passes.sparse_update import trained_params
from tinyengine_compiler.pipeline import Options, training_engine, training_schedule
from tinyengine_compiler.planners import best_plan
from tinyengine_compiler.scheme import load_scheme


@lru_cache(maxsize=None)
def int8_peak_bytes(model_path: str, preset: str, num_classes: int, storage: str = "int8",
                    rounding: str = "nearest", momentum: float = 0.0, step_clip: float = 0.0) -> int:
    engine = training_engine(load_model(model_path), load_scheme(preset),
                             Options(num_classes=num_classes, storage=storage, rounding=rounding,
                                     momentum=momentum, step_clip=step_clip))
    return int(engine.summary["peak_sram_bytes"])


@lru_cache(maxsize=None)
def fp32_peak_bytes(model_path: str, preset: str, num_classes: int) -> int:
    _, sched = training_schedule(load_model(model_path), load_scheme(preset),
                                 Options(num_classes=num_classes, storage="float32"))
    for n in sched.nodes:   # in-place decisions made for 1-bit masks: remade for whole saved outputs
        n.attrs.pop("in_place", None)
    sched = inplace(sched, masks=False)
    for t in sched.tensors.values():
        t.dtype = DType.FLOAT32
    # no 1-bit masks or kept channels: those describe int8 saved activations
    return best_plan(lifetimes(sched, masks=False)).arena_bytes + sum(p.bytes for p in trained_params(sched))
