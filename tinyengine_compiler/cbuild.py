"""How the generated engine's C is built: the facts that tte.mk, tte.cmake and the stack table share.

codegen writes them into the build fragments of every `tte compile` folder; targets/stack.py
compiles the kernels with them to find each kernel's worst-case stack.
"""

# The flags of the engine's own sources, written into both build fragments (tte.mk, tte.cmake).
ENGINE_C_FLAGS = ("-std=c99", "-ffp-contract=off", "-fno-fast-math")
ENGINE_C_FLAGS_WHY = ("-ffp-contract=off -fno-fast-math: no fused multiply-add and no reassociation "
                      "(even under -Ofast), so float results equal the host reference bit for bit.")
# CMSIS-NN's source families the adapters need (closed under linking), and its rounding switch.
CMSIS_NN_FAMILIES = ("ConvolutionFunctions", "FullyConnectedFunctions", "BasicMathFunctions",
                     "NNSupportFunctions", "ActivationFunctions")
CMSIS_NN_DEFINE = "-DCMSIS_NN_USE_SINGLE_ROUNDING"
