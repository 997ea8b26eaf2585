"""Code generation: a scheduled, planned IR Graph -> the C files of `tte compile`.

    kernels.py    OpKind -> runtime_c kernel symbols and their scratch formulas
    calls.py      one IR node -> one kernel call: its static parameter structs and arguments
    bias.py       int32 bias legalization (no accumulator overflow in C)
    context.py    Graph + arena offsets -> the plain dict the templates render
    emit.py       render templates/ and write the output folder atomically

Python makes every decision (offsets, multipliers, kernel choice); the templates only hold C
text and loops.
"""
