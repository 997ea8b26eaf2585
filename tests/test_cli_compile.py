"""`tte compile`: the output folder, the budget gate, and never a partial folder."""

import json

from click.testing import CliRunner

from tinyengine_compiler.cli import main


def _compile(model, out, *extra):
    return CliRunner().invoke(main, ["compile", model, "--update", "sparse_49kb", "--num-classes", "10",
                                     "-o", str(out), *extra])


def test_compile_writes_a_self_contained_folder(example_models, tmp_path):
    r = _compile(example_models["mcunet-5fps"]["int8"], tmp_path / "out")
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    for name in ("tte_model.h", "tte_model.c", "tte_weights.c", "tte_weights.h", "tte.mk", "memory.json",
                 "memory.md", "memory.svg"):
        assert (out / name).is_file(), name
    header = (out / "tte_model.h").read_text()
    assert "int tte_train_step(const int8_t *input_nhwc, int32_t label, float lr, float *loss);" in header
    memory = json.loads((out / "memory.json").read_text())
    assert f"#define TTE_ARENA_BYTES {memory['arena_bytes']}u" in header
    assert memory["peak_sram_bytes"] == memory["data_bss_bytes"] + memory["stack_bytes"]
    assert f"#define TTE_TRAINABLE_BYTES {memory['trainable_bytes']}u" in header
    listed = (out / "tte.mk").read_text()
    for src in (out / "runtime" / "src").glob("*.c"):
        assert f"runtime/src/{src.name}" in listed


def test_float32_storage_keeps_a_master_beside_each_trained_weight(example_models, tmp_path):
    model = example_models["mcunet-5fps"]["int8"]
    assert _compile(model, tmp_path / "int8").exit_code == 0
    r = _compile(model, tmp_path / "f32", "--storage", "float32", "--budget", "512KB")
    assert r.exit_code == 0, r.output
    int8, f32 = (json.loads((tmp_path / d / "memory.json").read_text()) for d in ("int8", "f32"))
    # sparse_49kb, 10 classes: each of its 13,696 trained weights (../shared/models/README.md:
    # the trained input channels of the expand convs 24, 27 and 30, and the 160 x 10 head)
    # gains a 4-byte master; the frozen columns stay in Flash either way
    assert f32["trainable_bytes"] - int8["trainable_bytes"] == 4 * 13696
    code = (tmp_path / "f32" / "tte_model.c").read_text()
    assert "tte_sgd_update_f32(" in code and "tte_master_to_s8(" in code
    r = _compile(model, tmp_path / "bad", "--storage", "float16")
    assert r.exit_code == 2 and not (tmp_path / "bad").exists()


def test_over_budget_exits_1_with_one_line_and_keeps_the_old_folder(example_models, tmp_path):
    model = example_models["mcunet-5fps"]["int8"]
    assert _compile(model, tmp_path / "out").exit_code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}
    r = _compile(model, tmp_path / "out", "--budget", "64KB")
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: needs ") and "budget 65536 B" in lines[0]
    assert "peak at step" in lines[0] and "Traceback" not in r.output
    after = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}
    assert after == before
    assert not _compile(model, tmp_path / "fresh", "--budget", "64KB").exit_code == 0
    assert not (tmp_path / "fresh").exists()


def test_bad_budget_and_unknown_scheme_are_usage_errors(example_models, tmp_path):
    model = example_models["mcunet-5fps"]["int8"]
    r = _compile(model, tmp_path / "out", "--budget", "lots")
    assert r.exit_code == 2 and r.output.startswith("error: --budget")
    r = CliRunner().invoke(main, ["compile", model, "--update", "nope", "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "neither a preset" in r.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "o").exists()


def test_simulate_runs_the_compiled_c_like_the_reference_trainer(example_models, tmp_path):
    import numpy as np

    from tinyengine_compiler.frontend import load_model
    from tinyengine_compiler.pipeline import Options, training_schedule
    from tinyengine_compiler.frontend.inputs import quantize_image
    from tinyengine_compiler.scheme import load_scheme
    from tinyengine_compiler.training.trainer import Trainer

    from .sample_images import sample_images

    model = example_models["mcunet-5fps"]["int8"]
    assert _compile(model, tmp_path / "out").exit_code == 0
    g = load_model(model)
    xs = np.stack([quantize_image(g, im)[0] for im in sample_images(4)])
    np.save(tmp_path / "x.npy", xs)
    np.save(tmp_path / "y.npy", np.array([0, 1, 2, 3]))
    r = CliRunner().invoke(main, ["simulate", str(tmp_path / "out"), "--input", str(tmp_path / "x.npy"),
                                  "--labels", str(tmp_path / "y.npy"), "--lr", "0.02", "--json"])
    assert r.exit_code == 0, r.output
    losses = json.loads(r.output)["losses"]
    _, sched = training_schedule(g, load_scheme("sparse_49kb"), Options(num_classes=10))
    trainer = Trainer(sched, 0.02)
    assert losses == [float(np.float32(trainer.step(x[None], y))) for x, y in zip(xs, [0, 1, 2, 3])]
    r = CliRunner().invoke(main, ["simulate", str(tmp_path / "out"), "--input", str(tmp_path / "x.npy"), "--json"])
    assert r.exit_code == 0 and len(json.loads(r.output)["logits"]) == 4
    np.save(tmp_path / "bad.npy", xs.astype(np.float32))
    r = CliRunner().invoke(main, ["simulate", str(tmp_path / "out"), "--input", str(tmp_path / "bad.npy")])
    assert r.exit_code == 2 and r.output.startswith("error:") and "int8 inputs" in r.output
