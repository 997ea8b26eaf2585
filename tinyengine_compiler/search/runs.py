"""The independent work of a search: its fine-tuning runs and plans, cached and spread over cores.

`RunCache(folder, identity)`: one JSON file per answer, named by the SHA-256 of its key: the
identity (the model file's hash and `compiler_fingerprint()`, so that a changed model or
compiler never reuses an answer), then what the answer depends on (the data's hash, the
protocol and the candidate for a run; the engine options and the candidate for a plan).  An
answer is written whole (a temporary name, then a rename) the moment it exists, so an
interrupted search resumes without redoing what finished.

`run_jobs(fn, jobs, executor, done)`: fn over each job's arguments, `done(key, result)` as each
finishes, in any order.  `executor` is any `concurrent.futures.Executor` (`tte search --jobs N`
makes a process pool); a cluster's executor with the same interface serves as well, e.g. Dask's
`Client.get_executor()` or loky's `get_reusable_executor()` (joblib's backend).  None runs in
this process.  On an error or an interrupt the jobs not started are cancelled.

A job names the model and the data by path and hash (`Inputs`); a worker loads each once, and
again only when a job names another, so a reused executor never runs on a previous search's
data.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..errors import TteError
from ..folders import replace_texts
from ..resources import PACKAGE_DIR, runtime_c_dir, templates_dir

_WORKER: dict = {}    # per process: {"inputs": Inputs, "g": the model, "data": the data}


def compiler_fingerprint() -> str:
    """A hash of the compiler: every file of the package (code, the stack table, the host
    driver), the C runtime and the templates."""
    h = hashlib.sha256(__version__.encode())
    for root in (PACKAGE_DIR, runtime_c_dir(), templates_dir()):
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(root).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def file_sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class RunCache:
    def __init__(self, folder: str, identity: dict):
        self.folder, self.identity = Path(folder), identity
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: dict) -> Path:
        text = json.dumps({**self.identity, **key}, sort_keys=True)
        return self.folder / f"{hashlib.sha256(text.encode()).hexdigest()[:24]}.json"

    def get(self, key: dict) -> dict | None:
        try:
            return json.loads(self._path(key).read_text())
        except (OSError, ValueError):   # absent, or torn by a crash before the rename
            return None

    def put(self, key: dict, value: dict) -> None:
        replace_texts({self._path(key): json.dumps(value)})


def run_jobs(fn: Callable, jobs: list[tuple[object, tuple]], executor, done: Callable[[object, object], None]) -> None:
    if executor is None:
        for key, args in jobs:
            done(key, fn(args))
        return
    futures = {executor.submit(fn, args): key for key, args in jobs}
    reported = set()
    try:
        for future in as_completed(futures):
            done(futures[future], future.result())
            reported.add(future)
    except BaseException:
        for future in futures:
            future.cancel()
        for future in futures:   # keep what finished before the error or the interrupt
            if future not in reported and future.done() and not future.cancelled() and future.exception() is None:
                done(futures[future], future.result())
        raise


@dataclass(frozen=True)
class Inputs:
    """What a job runs on: the model (absolute path, file hash) and how to load the data (a
    picklable function of the graph) with the hash of what it loads; no data for a plan.  Two
    Inputs are equal by the paths and hashes (the loader, a new object after pickling, is not
    compared)."""
    model_path: str
    model_sha256: str
    load_data: Callable | None = field(default=None, compare=False)
    data_sha256: str | None = None


def data_sha256(data: tuple) -> str:
    import numpy as np

    h = hashlib.sha256()
    for a in data:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def set_worker_inputs(inputs: Inputs, g, data: tuple | None) -> None:
    """This process's model and data (a forked worker inherits them)."""
    _WORKER.update(model=(inputs.model_path, inputs.model_sha256), g=g)
    if data is not None:
        _WORKER.update(data_sha256=inputs.data_sha256, data=data)


def worker_inputs(inputs: Inputs):
    """(the graph, the data or None) of `inputs`, each loaded here unless this process holds it
    already (the model by path and hash, the data by hash)."""
    if _WORKER.get("model") != (inputs.model_path, inputs.model_sha256):
        from ..frontend import load_model

        if file_sha256(inputs.model_path) != inputs.model_sha256:
            raise TteError(f"{inputs.model_path} changed during the search")
        _WORKER.update(model=(inputs.model_path, inputs.model_sha256), data_sha256=None,
                       g=load_model(inputs.model_path, require_int8=True))
    if inputs.load_data is None:
        return _WORKER["g"], None
    if _WORKER.get("data_sha256") != inputs.data_sha256:
        data = inputs.load_data(_WORKER["g"])
        if data_sha256(data) != inputs.data_sha256:
            raise TteError("the data set changed during the search")
        _WORKER.update(data_sha256=inputs.data_sha256, data=data)
    return _WORKER["g"], _WORKER["data"]


def finetune_run(args) -> dict:
    """One run: (Inputs, scheme, num_classes, protocol dict, options dict) -> {"top1"}."""
    from ..pipeline import Options
    from .finetune import finetune, schedule

    inputs, scheme, num_classes, protocol, options = args
    g, data = worker_inputs(inputs)
    steps = schedule(protocol["epochs"], len(data[0]), protocol["lr"], protocol["seed"])
    with tempfile.TemporaryDirectory(prefix="tte-search-") as tmp:
        out = finetune(g, scheme, num_classes, data, steps, Path(tmp), Options(**options))
    return {"top1": out["top1"]}
