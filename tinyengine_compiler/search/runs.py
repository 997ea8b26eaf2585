"""The independent work of a search: its fine-tuning runs and plans, cached and spread over cores.

`RunCache(folder, model_sha256)`: one JSON file per answer, named by the SHA-256 of its key
(the model's hash, then what the answer depends on: the data's hash, the protocol and the
candidate for a run; the options and the candidate for a plan).  An answer is written whole
(to a temporary name, then renamed) the moment it exists, so a search that is interrupted
resumes without redoing what finished.

`map_jobs(fn, args, executor)`: fn over args, in order.  `executor` is any
`concurrent.futures.Executor` (`tte search --jobs N` makes a process pool); a cluster's
executor that honours the same interface serves as well, e.g. Dask's
`Client.get_executor()` or loky's `get_reusable_executor()` (joblib's backend).  None runs in
this process.

`finetune_run(args)` is one fine-tuning run (search/finetune.py) in a worker: it loads the
model and the data once per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..pipeline import Options

_WORKER: dict = {}    # per process: the model and the data of the search


class RunCache:
    def __init__(self, folder: str, model_sha256: str):
        self.folder, self.model = Path(folder), model_sha256
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: dict) -> Path:
        text = json.dumps({"model": self.model, **key}, sort_keys=True)
        return self.folder / f"{hashlib.sha256(text.encode()).hexdigest()[:24]}.json"

    def get(self, key: dict) -> dict | None:
        try:
            return json.loads(self._path(key).read_text())
        except (OSError, ValueError):   # absent, or torn by a crash before the rename
            return None

    def put(self, key: dict, value: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(value, f)
        os.replace(tmp, self._path(key))


def map_jobs(fn, args: list, executor=None) -> list:
    if executor is None or len(args) <= 1:
        return [fn(a) for a in args]
    return list(executor.map(fn, args))


def set_worker_data(model_path: str, g, data: tuple) -> None:
    """Hand this process's model and data to the runs (a forked worker inherits them)."""
    _WORKER.update(model_path=model_path, g=g, data=data)


def finetune_run(args) -> dict:
    """One run: (model path, loader of the data, scheme, num_classes, protocol dict, options) ->
    {"top1", "loss_last_tenth"}."""
    from .finetune import finetune, schedule

    model_path, load_data, scheme, num_classes, protocol, options = args
    if _WORKER.get("model_path") != model_path:
        from ..frontend import load_model
        g = load_model(model_path)
        set_worker_data(model_path, g, load_data(g))
    data = _WORKER["data"]
    steps = schedule(protocol["epochs"], len(data[0]), protocol["lr"], protocol["seed"])
    with tempfile.TemporaryDirectory(prefix="tte-search-") as tmp:
        out = finetune(_WORKER["g"], scheme, num_classes, data, steps, Path(tmp), Options(**options))
    tail = out["losses"][-max(1, len(out["losses"]) // 10):]
    return {"top1": out["top1"], "loss_last_tenth": float(sum(tail) / len(tail))}
