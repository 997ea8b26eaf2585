"""The stack the runtime_c kernels take: the figure the memory report counts beside the arena.

Which kernel runs a node, and the scratch it needs, is the op registry's (registry.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache

from ..errors import UnsupportedError
from ..resources import stack_table_path

# The worst-case stack of a call to each portable kernel on the Cortex-M7 (its frame and the
# deepest chain below it, the largest over -O2/-Os/-O3/-Ofast), measured from the compiler's
# call graph by targets/stack.py and checked by tests/qemu/test_stack.py.
STACK_TABLE = stack_table_path()
# A bound on the frame of a generated entry point (tte_train_step, tte_infer, tte_init: saved
# registers, the outgoing arguments of a 15-argument kernel call, two locals); 112 B measured
# on the paper's engines, checked on every QEMU test engine.
ENTRY_FRAME_BYTES = 128


@lru_cache(maxsize=None)
def _stack_table(backend: str) -> dict[str, int]:
    tables = json.loads(STACK_TABLE.read_text())
    # the cmsis_nn backend swaps in its adapters (runtime_c/src/cmsis) for the kernels it has
    return {**tables["kernels"], **(tables["cmsis_nn"] if backend == "cmsis_nn" else {})}


def engine_stack_bytes(kernels: Iterable[str], backend: str = "portable") -> int:
    """The worst-case stack of an engine that calls `kernels` with kernel `backend`: an entry
    point's frame plus the deepest kernel call."""
    table = _stack_table(backend)
    missing = sorted(set(kernels) - set(table))
    if missing:
        raise UnsupportedError(f"no stack figure for kernel {missing[0]}; regenerate {STACK_TABLE.name} "
                               "with python -m tinyengine_compiler.targets.stack")
    return ENTRY_FRAME_BYTES + max((table[k] for k in kernels), default=0)
