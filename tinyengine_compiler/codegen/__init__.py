"""Code generation: a scheduled, planned IR Graph -> the C files of `tte compile`.

    kernels.py    OpKind -> runtime_c kernel symbols and their scratch formulas
    structs.py    the one description of each tte_types.h struct: designated initializers, layouts
    calls.py      one forward IR node -> one kernel call: its static parameter structs and arguments
    backward_calls.py  the same for the backward and update nodes
    context.py    Graph + arena offsets -> the plain dict the templates render
    emit.py       render templates/ and write the output folder atomically
    stack_usage.json  each kernel's worst-case stack (targets/stack.py writes it)

Python makes every decision (offsets, multipliers, kernel choice); the templates only hold C
text and loops.
"""
