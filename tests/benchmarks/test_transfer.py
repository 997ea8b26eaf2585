"""benchmarks/transfer.py, small: the smoke run of `make test` (one model, 50 C training steps
of the paper's sparse scheme on the prefix-cut engine, the loss falling, the first steps equal
to the reference trainer on the whole graph), its --json line and its errors.  The full study
is not run here (python -m benchmarks.transfer)."""

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks import transfer as T
from tinyengine_compiler.datasets import FASHION_MNIST_DIR
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.passes.sparse_update import trained_params
from tinyengine_compiler.pipeline import Options, training_schedule
from tinyengine_compiler.scheme import load_scheme

needs_fashion = pytest.mark.skipif(not os.path.isdir(FASHION_MNIST_DIR),
                                   reason=f"{FASHION_MNIST_DIR} is absent (Debian package dataset-fashion-mnist)")


@pytest.fixture
def example_dir(example_models, monkeypatch, tmp_path):
    monkeypatch.setattr(T, "MODELS_DIR", Path(example_models["mcunet-5fps"]["int8"]).parent)
    monkeypatch.setattr(T, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(T, "SEARCH_DIR", tmp_path / "search")
    return T.MODELS_DIR


# What the fake tte search of the smoke run "finds" at the budget and at 0.7x of it (tte search
# itself is tested in tests/search; here, what the study hands it and does with its schemes).
SEARCHED = {"n_bias_update": 2, "manual_weight_idx": [], "weight_update_ratio": []}
SEARCHED_LOWER = {"n_bias_update": 0, "manual_weight_idx": [], "weight_update_ratio": []}


def fake_search(calls, lower=SEARCHED_LOWER):
    def search(model, dataset, protocol, out, options, **kw):
        calls.append(dict(model=model, dataset=dataset, protocol=protocol, options=options, **kw))
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(SEARCHED))
        return {"lower_budget": {"scheme": lower}}
    return search


@needs_fashion
def test_fifty_steps_of_the_sparse_scheme_in_c_learn_and_match_the_reference(example_dir):
    # lr 0.03, not the study's 0.003: in 50 int8 steps at 0.003 the loss stays at ln 5 within
    # its noise (most updates are below half an int8 step), so "falling" would be luck
    task = T.Task("smoke", "fashion-mnist", (0, 1, 2, 3, 4), 10, 4, 1, 0.03)
    T._DATA[task.name] = T.load_task(task, load_model(T.model_path("mcunet-5fps")))
    r = T.run_one(("mcunet-5fps", "paper-mcunet-5fps", task, T.Run("paper", "int8", True), 0, None))
    assert r["c_equals_reference"] is True
    assert r["cut"] is not None, "the frozen prefix should have been cut off"
    tenths = r["loss_by_tenth"]
    assert len(tenths) == 10
    assert sum(tenths[-3:]) < sum(tenths[:3]), tenths


@needs_fashion
def test_json_prints_one_line_with_every_run(example_dir, monkeypatch, capsys):
    monkeypatch.setitem(T.QUICK, "fashion-mnist", dict(train_per_class=1, test_per_class=1, epochs=1))
    # two seeds of the stochastic full run, one of every other: one row a (run, seed)
    stochastic = T.Run("full", "int8", True, rounding="stochastic", seeds=2)
    monkeypatch.setattr(T, "RUNS", tuple(stochastic if r == stochastic else replace(r, seeds=1) for r in T.RUNS))
    assert any(r.momentum for r in T.RUNS)
    searches = []
    monkeypatch.setattr(T, "search", fake_search(searches))
    assert T.main(["--quick", "--json", "--models", "mcunet-5fps", "--tasks", "fashion-mnist"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    runs = json.loads(lines[0])["runs"]
    expected = [(run, seed) for run in T.RUNS for seed in range(run.seeds)]
    assert len(runs) == len(T.RUNS) + 1
    assert [(r["scheme"], r["precision"], r["qas"], r["storage"], r["rounding"], r["momentum"], r["warmup"],
             r["step_clip"], r["seed"]) for r in runs] == [(run.preset("mcunet-5fps"), run.precision, run.qas,
                                                            run.storage, run.rounding, run.momentum, run.warmup,
                                                            run.step_clip, seed) for run, seed in expected]
    for r in runs:
        assert set(r) == {"model", "task", "scheme", "precision", "qas", "storage", "rounding", "momentum",
                          "lr_scale", "warmup", "step_clip", "budget_share", "seed", "top1", "peak_sram_bytes"}
        assert 0.0 <= r["top1"] <= 1.0 and isinstance(r["peak_sram_bytes"], int)
    assert len(list((T.CACHE_DIR).glob("*.json"))) == len(expected)
    # one search, under the SRAM of the paper scheme's engine, on held-out images of the quick task's sizes
    paper = next(r for r in runs if r["scheme"] == "paper-mcunet-5fps" and r["qas"] and r["storage"] == "int8"
                 and r["rounding"] == "nearest" and not r["momentum"])
    [call] = searches
    assert call["options"].budget_bytes == paper["peak_sram_bytes"] and call["options"].num_classes == 10
    assert call["dataset"] == "fashion-mnist" and call["quick"]
    assert (call["protocol"].train_per_class, call["protocol"].val_per_class, call["protocol"].epochs) == (1, 1, 1)
    # the searched rows train the schemes it wrote, and cost what those compile to
    task = replace(T.TASKS["fashion-mnist"], train_per_class=1, test_per_class=1, epochs=1)
    for share, scheme in ((1.0, SEARCHED), (0.7, SEARCHED_LOWER)):
        path = T.searched_path(T.search_folder("mcunet-5fps", task, quick=True), share)
        assert json.loads(path.read_text()) == scheme
        [row] = [r for r in runs if r["scheme"] == "searched" and r["budget_share"] == share]
        assert row["peak_sram_bytes"] == T.int8_peak_bytes(T.model_path("mcunet-5fps"), str(path), 10)
    # stochastic rounding keeps a 4-byte draw counter with the trained parameters (aligned as the C places it)
    nearest = next(r for r in runs if r["scheme"] == "full" and r["precision"] == "int8" and r["qas"]
                   and r["storage"] == "int8" and r["rounding"] == "nearest")["peak_sram_bytes"]
    stochastic = [r["peak_sram_bytes"] for r in runs if r["rounding"] == "stochastic" and r["scheme"] == "full"
                  and not r["momentum"] and not r["step_clip"]]
    assert stochastic and all(nearest + 4 <= b <= nearest + 8 for b in stochastic)
    # the step clip keeps nothing per element: its weight updates take SGD entries of their own (16 B each)
    clipped = [r["peak_sram_bytes"] for r in runs if r["step_clip"] and r["precision"] == "int8"]
    assert clipped and all(stochastic[0] < b <= stochastic[0] + 4 * 16 for b in clipped)
    # momentum keeps a float32 velocity a trained element: full trains every weight and bias
    sgdm = next(r for r in runs if r["momentum"] and r["scheme"] == "full")["peak_sram_bytes"]
    assert sgdm - nearest >= 4 * sum(p.elements for p in trained_params(
        training_schedule(load_model(T.model_path("mcunet-5fps")), load_scheme("full"), Options(num_classes=10))[1]))


def test_seeds_change_the_order_and_flips_but_not_the_learning_rates():
    task = T.Task("t", "fashion-mnist", (0, 1), 5, 1, 2, 0.01)
    first, second = list(T.schedule(task, 10, 0)), list(T.schedule(task, 10, 1))
    assert [s[2] for s in first] == [s[2] for s in second]
    np.testing.assert_allclose([s[2] for s in T.schedule(task, 10, 0, 0.1)], [0.1 * s[2] for s in first], rtol=1e-12)
    assert first[0][2] == 0.01 and first[-1][2] > 0.0
    assert [s[:2] for s in first] != [s[:2] for s in second]
    for run in (first, second):   # each epoch visits every image once
        assert sorted(i for i, _, _ in run[:10]) == list(range(10)) == sorted(i for i, _, _ in run[10:])


def test_the_warm_up_ramps_the_first_steps_and_changes_nothing_else():
    task = T.Task("t", "fashion-mnist", (0, 1), 5, 1, 2, 0.01)
    plain, warm = list(T.schedule(task, 10, 0)), list(T.schedule(task, 10, 0, warmup=0.25))
    assert [s[:2] for s in warm] == [s[:2] for s in plain]
    # 20 steps, a quarter of them ramp: step t's lr is the cosine's times (t + 1) / 5
    cosine = [0.01 * 0.5 * (1 + np.cos(np.pi * t / 20)) for t in range(20)]
    np.testing.assert_allclose([s[2] for s in plain], cosine, rtol=1e-12)
    np.testing.assert_allclose([s[2] for s in warm], [c * min(1.0, (t + 1) / 5) for t, c in enumerate(cosine)],
                               rtol=1e-12)
    assert warm[0][2] == pytest.approx(plain[0][2] / 5, rel=1e-15) and warm[4:] == plain[4:]
    with pytest.raises(ValueError, match="warmup"):
        list(T.schedule(task, 10, 0, warmup=1.5))


def test_a_seed_is_part_of_the_cache_key_and_a_defaulted_field_is_not(example_dir):
    task = T.TASKS["fashion-mnist"]
    run = T.Run("paper", "int8", True)
    key = lambda run, seed: T._cache_key("mcunet-5fps", "paper-mcunet-5fps", task, run, seed)   # noqa: E731
    assert key(run, 0) != key(run, 1)
    assert key(run, 0) == key(replace(run, seeds=3), 0)
    assert run.spec() == {"scheme": "paper", "precision": "int8", "qas": True}
    assert T.Run("full", "int8", True, rounding="stochastic").spec()["rounding"] == "stochastic"
    # the warm-up rows are new runs; the rows without it keep the keys of the runs they cached
    assert T.Run("full", "fp32", False, warmup=0.1).spec()["warmup"] == 0.1
    assert "warmup" not in T.Run("full", "fp32", False).spec()
    assert T.Run("full", "fp32", False, step_clip=0.1).spec()["step_clip"] == 0.1
    assert "step_clip" not in T.Run("full", "fp32", False).spec()


def test_a_missing_model_is_one_line_and_exit_2(example_dir, capsys):
    assert T.main(["--models", "no-such-model"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-model" in err[0]


def _row(model, tenths, storage="int8", top1=0.1, seed=0):
    return {"task": "fashion-mnist", "model": model, "scheme": "full", "precision": "int8", "qas": True,
            "storage": storage, "rounding": "nearest", "momentum": 0.0, "lr_scale": 1.0, "warmup": 0.0,
            "step_clip": 0.0, "budget_share": 1.0, "seed": seed,
            "loss_by_tenth": tenths,
            "top1": top1}


def test_a_run_whose_loss_ends_at_ln_classes_is_reported_stuck_with_its_master_twin():
    stuck = [2.19, 1.98, 1.91] + [2.3026] * 7
    recovers = [2.19, 2.3026, 2.3026, 1.5] + [1.2] * 6
    once = [2.19] * 9 + [2.3026]
    rows = [_row("a", stuck), _row("a", [2.0] * 10, "float32", 0.837), _row("b", recovers), _row("c", once)]
    lines = T.stuck_runs([T.TASKS["fashion-mnist"]], rows)
    assert len(lines) == 1, lines
    assert lines[0].startswith("- **a, fashion-mnist, int8 full, QAS, seed 0: stuck.**")
    assert "for the last 7 tenths it is ln 10 = 2.3026" in lines[0]
    assert "ends at 83.7 % top-1" in lines[0]


def test_a_run_whose_loss_ends_near_ln_classes_is_reported_as_not_learning():
    """Not every logit equal, but at chance: a loss within 0.05 nats of ln 10 at the end and a
    top-1 within 5 points of 10 %."""
    at_chance = [2.64, 2.91, 2.76, 2.66, 2.58, 2.46, 2.43, 2.38, 2.33, 2.32]
    learns = [2.33, 1.82, 1.31, 0.97, 0.83, 0.73, 0.59, 0.46, 0.40, 0.45]
    slow = [2.31] * 10   # near ln 10 all along, but above chance: learning, slowly
    lines = T.stuck_runs([T.TASKS["fashion-mnist"]], [_row("a", at_chance), _row("b", learns, top1=0.804),
                                                      _row("c", slow, top1=0.3)])
    assert len(lines) == 1, lines
    assert lines[0].startswith("- **a, fashion-mnist, int8 full, QAS, seed 0: does not learn.**")
    assert "for the last 2 tenths it is within 0.05 of ln 10 = 2.3026, and top-1 is 10.0 %" in lines[0]


def test_the_table_gives_the_mean_and_spread_over_seeds_per_model_and_of_the_models_mean():
    run = T.Run("full", "int8", True, seeds=3)
    rows = [{**_row(m, [1.0] * 10, top1=acc, seed=k), "peak_sram_bytes": 2048}
            for m, accs in (("a", (0.80, 0.82, 0.84)), ("b", (0.70, 0.70, 0.76))) for k, acc in enumerate(accs)]
    line = T.table(T.TASKS["fashion-mnist"], rows, ["a", "b"], [run]).splitlines()[2]
    # a: mean 82.0, SD 2.0; b: 72.0, SD 3.5; per-seed means 75, 76, 80 -> 77.0, SD 2.6
    assert line.startswith("| int8 full, QAS | 3 | 82.0 ±2.0 | 2 | 72.0 ±3.5 | 2 | 77.0 ±2.6 |"), line


def test_a_partial_study_says_which_seeds_and_runs_are_missing():
    """--cached-only reports what the cache holds: a row whose models ran fewer seeds than
    planned says "k of n", a model that has not run says so, and a difference that needs a
    missing run is "not measured yet" rather than a number."""
    run = T.Run("full", "int8", True, seeds=3)
    rows = [{**_row("a", [1.0] * 10, top1=0.8, seed=k), "peak_sram_bytes": 2048} for k in range(2)]
    line = T.table(T.TASKS["fashion-mnist"], rows, ["a", "b"], [run]).splitlines()[2]
    assert line.startswith("| int8 full, QAS | 0 of 3 | 80.0 ±0.0 | 2 | not run | - | - |"), line
    assert "not measured yet" in T.checks(T.TASKS["fashion-mnist"], rows, ["a", "b"])[0]


def test_the_acceptance_line_compares_each_pair_on_its_own_guard():
    """Stochastic rounding against fp32, each pair on its own schedule and guard: without either
    the int8 runs are 5 points down, with the warm-up 1 point, with the step clip 0.5 points
    (and 3 points up on the unclipped fp32); a warm-up run whose loss sat at ln 10 for a tenth
    and near it for another is counted."""
    def row(model, precision, rounding, top1, tenths=(1.0,) * 10, warmup=0.0, step_clip=0.0):
        return {**_row(model, list(tenths), top1=top1), "precision": precision, "qas": precision == "int8",
                "rounding": rounding, "warmup": warmup, "step_clip": step_clip}
    rows = [row(m, "fp32", "nearest", 0.80) for m in "ab"] + [row(m, "fp32", "nearest", 0.80, warmup=0.1)
                                                              for m in "ab"]
    rows += [row(m, "fp32", "nearest", 0.835, step_clip=0.1) for m in "ab"]
    rows += [row(m, "int8", "stochastic", 0.75) for m in "ab"]
    rows += [row("a", "int8", "stochastic", 0.79, [2.3026, 2.3] + [1.0] * 8, warmup=0.1),
             row("b", "int8", "stochastic", 0.79, warmup=0.1)]
    rows += [row(m, "int8", "stochastic", 0.83, step_clip=0.1) for m in "ab"]
    line = T.checks(T.TASKS["fashion-mnist"], rows, ["a", "b"])[0]
    assert "means over the models: -5.0 pt over 1 seeds; the most tenths of training any of its 2 runs spent " \
           "with a loss of ln 10 to the digit: 0, within 0.05 of it: 0 (fp32's 2 runs: 0).  Both with the lr " \
           "warm-up (10 % of the steps): -1.0 pt over 1 seeds; the most tenths of training any of its 2 runs spent " \
           "with a loss of ln 10 to the digit: 1, within 0.05 of it: 2 (fp32's 2 runs: 0).  Both with the step " \
           "clip 0.1 (`--step-clip`, today's schedule): -0.5 pt over 1 seeds; the most tenths of training any of " \
           "its 2 runs spent with a loss of ln 10 to the digit: 0, within 0.05 of it: 0 (fp32's 2 runs: 0); the " \
           "clipped int8 row against fp32 without it: +3.0 pt." in line, line


def test_a_searched_run_is_keyed_by_the_scheme_the_search_wrote(example_dir, tmp_path):
    task, run = T.TASKS["fashion-vww"], T.Run("searched", "int8", True)
    path = tmp_path / "1x.json"
    path.write_text(json.dumps(SEARCHED))
    key = T._cache_key("mcunet-5fps", str(path), task, run, 0)
    assert key == T._cache_key("mcunet-5fps", str(path), task, run, 0)
    path.write_text(json.dumps(SEARCHED_LOWER))
    assert T._cache_key("mcunet-5fps", str(path), task, run, 0) != key


@needs_fashion
def test_the_study_searches_once_for_its_inputs_and_leaves_out_what_the_search_did_not_find(example_dir,
                                                                                             monkeypatch):
    """--cached-only searches nothing; a study searches once, and a second one reuses it; a task
    with other sizes is another search; a share the search found nothing for has no rows."""
    task = T.Task("fashion-mnist", "fashion-mnist", tuple(range(10)), 1, 1, 1, 0.003)
    runs = (T.Run("searched", "int8", True), T.Run("searched", "int8", True, budget_share=0.7))
    calls = []
    monkeypatch.setattr(T, "search", fake_search(calls, lower=None))
    assert T.study(["mcunet-5fps"], [task], runs, 1, True, True, cached_only=True, quick=True) == []
    assert calls == []
    rows = T.study(["mcunet-5fps"], [task], runs, 1, True, True, quick=True)
    assert len(calls) == 1 and [r["budget_share"] for r in rows] == [1.0]
    assert json.loads(Path(rows[0]["scheme_file"]).read_text()) == SEARCHED
    assert T.study(["mcunet-5fps"], [task], runs, 1, True, True, quick=True) == rows and len(calls) == 1
    T.study(["mcunet-5fps"], [replace(task, test_per_class=2)], runs, 1, True, True, cached_only=True, quick=True)
    assert len(calls) == 1
    T.study(["mcunet-5fps"], [replace(task, test_per_class=2)], runs, 1, True, True, quick=True)
    assert len(calls) == 2 and calls[1]["protocol"].val_per_class == 2


@needs_fashion
def test_a_search_again_keeps_nothing_of_the_one_before(example_dir, monkeypatch):
    """--no-cache searches again: a share it no longer finds has no rows (the earlier search's
    file is gone), and a folder without its manifest (an interrupted search) is searched again."""
    task = T.Task("fashion-mnist", "fashion-mnist", tuple(range(10)), 1, 1, 1, 0.003)
    runs = (T.Run("searched", "int8", True, budget_share=0.7),)
    calls = []
    monkeypatch.setattr(T, "search", fake_search(calls))
    assert len(T.study(["mcunet-5fps"], [task], runs, 1, True, True, quick=True)) == 1
    monkeypatch.setattr(T, "search", fake_search(calls, lower=None))
    assert T.study(["mcunet-5fps"], [task], runs, 1, False, True, quick=True) == [] and len(calls) == 2
    assert T.planned_runs([task], ["mcunet-5fps"], runs, quick=True) == 0
    (T.search_folder("mcunet-5fps", task, quick=True) / T.MANIFEST).unlink()
    assert T.searched("mcunet-5fps", task, quick=True) is None
    T.study(["mcunet-5fps"], [task], runs, 1, True, True, quick=True)
    assert len(calls) == 3


def test_a_run_whose_loss_rises_far_above_ln_classes_is_reported_diverged():
    fine = [2.1, 1.9] + [1.0] * 8
    blown = [1.95, 55.2, 51.3] + [3.0] * 7      # above 2 ln 10 = 4.6 from the second tenth
    rows = [{**_row("a", fine), "precision": "fp32", "qas": False}, {**_row("b", blown), "seed": 1}]
    lines = T.diverged_runs([T.TASKS["fashion-mnist"]], rows)
    assert len(lines) == 2 and lines[0].startswith("- **Runs that diverged**")
    assert lines[1] == "  b, fashion-mnist, int8 full, QAS, seed 1: tenth 2 at 55.2 (highest 55.2), top-1 10.0 %."
