"""`tte search` end to end on an example model that is not from the paper (the MobileNetV3-like
family model, 64 px), on a folder of PNG images: the scheme, its report, the resume, and the
memory of a candidate against `tte plan` of the scheme file written for it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.search.memory import PlannedMemory
from tinyengine_compiler.search.runs import Inputs, RunCache, file_sha256
from tinyengine_compiler.search.space import Candidate, search_space

CLASSES = 3


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    Image = pytest.importorskip("PIL.Image", reason="PNG folders need Pillow (the test extra)")
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for c in range(CLASSES):
        (root / f"class{c}").mkdir()
        for i in range(6):
            Image.fromarray((rng.random((40, 50, 3)) * 60 + 80 * c).astype(np.uint8)).save(root / f"class{c}" / f"{i}.png")
    return str(root)


def _search(model, folder, out, *extra):
    return CliRunner().invoke(main, ["search", model, "--dataset", folder, "--num-classes", str(CLASSES), "--quick",
                                     "--jobs", "1", "--train-per-class", "3", "--val-per-class", "3", "-o", str(out),
                                     *extra])


def test_search_writes_a_scheme_that_compiles_under_its_budget_and_resumes(family_models, image_folder, tmp_path):
    model = family_models["mobilenetv3"]["int8"]
    out = tmp_path / "scheme.json"
    first = _search(model, image_folder, out, "--budget", "200KB")
    assert first.exit_code == 0, first.output
    scheme = json.loads(out.read_text())
    assert set(scheme) == {"n_bias_update", "manual_weight_idx", "weight_update_ratio"}
    md = (tmp_path / "scheme.md").read_text()
    assert "## Contributions" in md and "## Frontier" in md and "exact (proven optimum)" in md
    assert (tmp_path / "scheme.svg").read_text().startswith("<?xml")
    # the planned SRAM it reports is tte plan's for the scheme file, and tte compile takes it
    planned = int(first.output.split("planned SRAM ")[1].split(" B")[0])
    plan = CliRunner().invoke(main, ["plan", model, "--update", str(out), "--num-classes", str(CLASSES), "--json"])
    assert plan.exit_code == 0 and json.loads(plan.output)["peak_sram_bytes"] == planned
    compiled = CliRunner().invoke(main, ["compile", model, "--update", str(out), "--num-classes", str(CLASSES),
                                         "--budget", "200KB", "-o", str(tmp_path / "engine")])
    assert compiled.exit_code == 0, compiled.output
    assert first.output.strip().splitlines()[-1] == \
        f"compile it with: tte compile {model} --update {out} --num-classes {CLASSES} --budget 204800 -o OUT"
    # a second search runs nothing again: every run and plan comes from the cache, unchanged
    cache = tmp_path / "scheme.cache"
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    again = _search(model, image_folder, out, "--budget", "200KB")
    assert again.exit_code == 0, again.output
    phases = re.findall(r"fine-tuning runs \((\d+) of (\d+) cached\)", again.output)
    assert len(phases) == 2 and all(a == b for a, b in phases), phases
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == stamps
    assert json.loads(out.read_text()) == scheme


def test_two_processes_measure_what_one_does(family_models, image_folder, tmp_path):
    model = family_models["mobilenetv3"]["int8"]
    one = _search(model, image_folder, tmp_path / "one.json")
    two = _search(model, image_folder, tmp_path / "two.json", "--jobs", "2")
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    contributions = [(tmp_path / f"{n}.md").read_text().split("## The choice")[0].split("## Contributions")[1]
                     for n in ("one", "two")]
    assert contributions[0] == contributions[1]


def test_the_options_that_shape_the_engine_go_into_the_scheme(family_models, image_folder, tmp_path):
    model = family_models["mobilenetv3"]["int8"]
    out = tmp_path / "scheme.json"
    result = _search(model, image_folder, out, "--storage", "float32", "--kernels", "portable", "--no-reorder")
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["weight_storage"] == "float32"
    assert "--no-reorder" in result.output.strip().splitlines()[-1]
    planned = int(result.output.split("planned SRAM ")[1].split(" B")[0])
    plan = CliRunner().invoke(main, ["plan", model, "--update", str(out), "--num-classes", str(CLASSES), "--no-reorder",
                                     "--json"])
    assert plan.exit_code == 0 and json.loads(plan.output)["peak_sram_bytes"] == planned


@pytest.mark.parametrize("dataset, classes, message", [
    ("fashion-vww", 3, "--dataset fashion-vww has 2 classes; use --num-classes 2"),
    (None, 2, "has 3 classes; use --num-classes 3 (or a folder of just the class subfolders to train)")])
def test_a_class_count_the_data_does_not_have_is_refused(family_models, image_folder, tmp_path, dataset, classes,
                                                         message):
    result = CliRunner().invoke(main, ["search", family_models["mobilenetv3"]["int8"], "--dataset",
                                       dataset or image_folder, "--num-classes", str(classes), "--quick",
                                       "-o", str(tmp_path / "s.json")])
    assert result.exit_code == 2 and result.output.strip().splitlines()[-1].endswith(message), result.output
    assert not (tmp_path / "s.json").exists()


def test_a_float_model_is_refused_in_one_line(family_models, image_folder, tmp_path):
    result = _search(family_models["mobilenetv3"]["float"], image_folder, tmp_path / "s.json")
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and "internal error" not in line


def test_a_budget_nothing_fits_is_one_line_and_writes_nothing(family_models, image_folder, tmp_path):
    out = tmp_path / "scheme.json"
    result = _search(family_models["mobilenetv3"]["int8"], image_folder, out, "--budget", "8KB")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("error: no scheme of the search space fits 8192 B; the classifier alone needs ")
    assert not any("fine-tuning runs" in line for line in lines)   # refused before any run
    assert not out.exists() and not (tmp_path / "scheme.md").exists()


def test_the_output_must_be_a_json_file(family_models, image_folder, tmp_path):
    result = _search(family_models["mobilenetv3"]["int8"], image_folder, tmp_path / "scheme.txt")
    assert result.exit_code == 2   # a ConfigError
    assert result.output.strip().splitlines() == [f"error: -o {tmp_path / 'scheme.txt'}: the scheme is a .json file"]


@pytest.mark.parametrize("family", ["mobilenetv3", "squeezenet"])
def test_a_candidates_memory_is_tte_plan_of_its_scheme_file(family_models, tmp_path, family):
    model = family_models[family]["int8"]
    g = load_model(model)
    space = search_space(g)
    assert space.layers, "the family model has no weight layer to search"
    # the deepest biases and every weight layer at a middle ratio: a candidate that trains a lot
    c = Candidate(space.depths[-1], tuple(space.ratios[len(space.ratios) // 2] for _ in space.layers))
    options = Options(num_classes=CLASSES)
    inputs = Inputs(model, file_sha256(model))
    need = PlannedMemory(inputs, space, options, RunCache(str(tmp_path / "cache"), {"test": 1}))([c])[0]
    (tmp_path / "c.json").write_text(json.dumps(space.scheme_json(c)))
    plan = CliRunner().invoke(main, ["plan", model, "--update", str(tmp_path / "c.json"), "--num-classes", str(CLASSES),
                                     "--json"])
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.output)["peak_sram_bytes"] == need


def test_the_search_measures_on_images_held_out_from_the_training_data(family_models, tmp_path, monkeypatch):
    """Never the test split: search() asks the data set for a validation split."""
    from tinyengine_compiler.search import command

    asked = []

    def load_split(name, classes, train_per_class, test_per_class, size, validation=False):
        asked.append((name, train_per_class, test_per_class, validation))
        raise RuntimeError("enough")
    monkeypatch.setattr(command, "load_split", load_split)
    with pytest.raises(RuntimeError, match="enough"):
        command.search(family_models["mobilenetv3"]["int8"], "fashion-mnist", command.Protocol(4, 5, 1, 0.01, 0),
                       str(tmp_path / "s.json"), Options(num_classes=10, budget_bytes=1 << 20))
    assert asked == [("fashion-mnist", 4, 5, True)]


@pytest.mark.parametrize("protocol, message", [
    ((3, 3, 1, float("nan"), 0), "--lr nan: a learning rate is a positive number"),
    ((3, 0, 1, 0.01, 0), "--val-per-class 0: at least 1"),
    ((0, 3, 1, 0.01, 0), "--train-per-class 0: at least 1")])
def test_a_protocol_that_measures_nothing_is_refused(family_models, image_folder, tmp_path, protocol, message):
    from tinyengine_compiler.errors import ConfigError
    from tinyengine_compiler.search import command

    with pytest.raises(ConfigError, match=re.escape(message)):
        command.search(family_models["mobilenetv3"]["int8"], image_folder, command.Protocol(*protocol),
                       str(tmp_path / "s.json"), Options(num_classes=CLASSES, budget_bytes=1 << 20))
