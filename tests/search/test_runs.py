"""search/runs.py: what a worker loads, what an interrupted batch keeps, what the cache key holds."""

from __future__ import annotations

import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tinyengine_compiler.search import runs
from tinyengine_compiler.search.runs import Inputs, compiler_fingerprint, data_sha256, file_sha256, run_jobs, \
    worker_inputs

LOADS: list[str] = []


class CountingLoader:
    """Data of a graph, counting its calls (picklable: a module-level class)."""
    def __init__(self, value: int):
        self.value = value

    def __call__(self, g):
        LOADS.append(f"data {self.value}")
        return ([self.value],)


def test_a_worker_loads_the_model_and_the_data_once_and_again_only_for_others(family_models, monkeypatch):
    model = family_models["mobilenetv3"]["int8"]
    monkeypatch.setattr(runs, "_WORKER", {})
    LOADS.clear()
    a = Inputs(model, file_sha256(model), CountingLoader(1), data_sha256(([1],)))
    b = Inputs(model, file_sha256(model), CountingLoader(2), data_sha256(([2],)))
    plan_only = Inputs(model, file_sha256(model))
    for inputs in (a, pickle.loads(pickle.dumps(a)), plan_only, pickle.loads(pickle.dumps(a))):
        g, data = worker_inputs(inputs)
        assert data == (None if inputs.load_data is None else ([1],))
    assert LOADS == ["data 1"]          # a pickled copy is the same inputs; a plan keeps the data
    assert worker_inputs(b)[1] == ([2],) and LOADS == ["data 1", "data 2"]
    with pytest.raises(Exception, match="the data set changed"):
        worker_inputs(Inputs(model, file_sha256(model), CountingLoader(3), data_sha256(([2, 2],))))


def test_a_failed_batch_keeps_what_finished_and_raises():
    release = threading.Event()

    def job(n):
        if n == 3:
            release.wait(5)
            raise ValueError("job 3 failed")
        return n * 10

    kept = {}

    def done(key, result):
        kept[key] = result
        if len(kept) == 3:
            release.set()

    with ThreadPoolExecutor(2) as pool, pytest.raises(ValueError, match="job 3 failed"):
        run_jobs(job, [(n, n) for n in (0, 1, 2, 3)], pool, done)
    assert {k: kept[k] for k in (0, 1, 2)} == {0: 0, 1: 10, 2: 20}
    assert 3 not in kept


def test_the_compiler_fingerprint_covers_every_file_of_the_package(tmp_path, monkeypatch):
    (tmp_path / "codegen").mkdir()
    table = tmp_path / "codegen" / "stack_usage.json"
    table.write_text('{"tte_conv2d_s8": 100}')
    monkeypatch.setattr(runs, "PACKAGE_DIR", tmp_path)
    before = compiler_fingerprint()
    table.write_text('{"tte_conv2d_s8": 104}')
    assert compiler_fingerprint() != before
