"""`tte search` (docs/search.md): a sparse-update scheme chosen on the user's data under the SRAM
budget.

  space.py         what a scheme may train: bias depths, weight layers and their ratios
  finetune.py      fine-tuning in the host C engine, the frozen prefix once per image
  runs.py          the run cache and the executor the runs and plans spread over
  contribution.py  the runs that measure each part's gain in top-1
  memory.py        a candidate's memory: the pipeline's planned peak SRAM
  optimize.py      the exact and the evolutionary search, the frontier
  report.py        <scheme>.md and <scheme>.svg
  command.py       the command: all of the above, in order
"""
