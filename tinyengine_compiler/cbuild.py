"""How the generated engine's C is built: the facts that tte.mk, tte.cmake and the stack table share.

codegen writes them into the build fragments of every `tte compile` folder; targets/stack.py
compiles the kernels with them to find each kernel's worst-case stack; targets/bench.py builds a
cmsis_nn engine's firmware with them.
"""

from __future__ import annotations

from pathlib import Path

# The flags of the engine's own sources, written into both build fragments (tte.mk, tte.cmake).
ENGINE_C_FLAGS = ("-std=c99", "-ffp-contract=off", "-fno-fast-math")
ENGINE_C_FLAGS_WHY = ("-ffp-contract=off -fno-fast-math: no fused multiply-add and no reassociation "
                      "(even under -Ofast), so float results equal the host reference bit for bit.")
# CMSIS-NN's source families the adapters need (closed under linking), and its rounding switch.
CMSIS_NN_FAMILIES = ("ConvolutionFunctions", "FullyConnectedFunctions", "BasicMathFunctions",
                     "NNSupportFunctions", "ActivationFunctions")
CMSIS_NN_DEFINE = "-DCMSIS_NN_USE_SINGLE_ROUNDING"
# the float sources of those families, which the adapters never call
CMSIS_NN_FLOAT_SUFFIXES = ("_f16.c", "_f32.c", "_flt.c")


def is_cmsis_nn_checkout(root: str | Path) -> bool:
    """Whether `root` (CMSIS_NN_ROOT) holds a CMSIS-NN checkout."""
    return bool(str(root)) and (Path(root) / "Include" / "arm_nnfunctions.h").is_file()


def cmsis_nn_sources(cmsis_nn_root: str | Path) -> list[Path]:
    """The CMSIS-NN sources tte.mk and tte.cmake build: the families' integer files, in name order."""
    root = Path(cmsis_nn_root) / "Source"
    return sorted(p for family in CMSIS_NN_FAMILIES for p in (root / family).glob("*.c")
                  if not p.name.endswith(CMSIS_NN_FLOAT_SUFFIXES))
