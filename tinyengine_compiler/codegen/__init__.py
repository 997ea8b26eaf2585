"""Code generation: a scheduled, planned IR Graph -> the C files of `tte compile`.

    structs.py    the one description of each tte_types.h struct: designated initializers, layouts
    calls.py      one forward IR node -> one kernel call: its static parameter structs and arguments
    backward_calls.py  the same for the backward and update nodes
    context.py    Graph + arena offsets -> the plain dict the templates render
    emit.py       render templates/ and write the output folder atomically
    stack_usage.py    each kernel's worst-case stack, from stack_usage.json (targets/stack.py writes it)

Python makes every decision (offsets, multipliers, kernel choice: registry.py); the templates only
hold C text and loops.
"""
