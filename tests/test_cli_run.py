"""`tte run`: input handling and the stable --json format, checked against onnxruntime."""

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main

from .sample_images import china
from .test_paper_models import ort_logits


@pytest.fixture(scope="module")
def mcunet_onnx(paper_models_dir, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("run") / "mcunet.onnx")
    r = CliRunner().invoke(main, ["import-paper-model", os.path.join(paper_models_dir, "mcunet-5fps.pkl"), "-o", path])
    assert r.exit_code == 0, r.output
    return path


def test_run_json_on_an_image_matches_onnxruntime(mcunet_onnx, tmp_path):
    image = china()
    np.save(tmp_path / "china.npy", image)
    r = CliRunner().invoke(main, ["run", mcunet_onnx, "--input", str(tmp_path / "china.npy"), "--json"])
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert list(out) == ["top5", "logits"]
    logits = np.array(out["logits"])
    assert logits.shape == (1000,)
    assert out["top5"][0] == [int(np.argmax(logits)), int(logits.max())]
    assert [v for _, v in out["top5"]] == sorted(logits.tolist(), reverse=True)[:5]
    reference = ort_logits(mcunet_onnx, image[None])[0].astype(int)
    assert np.mean(np.abs(logits - reference) <= 2) >= 0.99


def test_run_accepts_an_int8_tensor_as_is(mcunet_onnx, tmp_path):
    image = china()
    np.save(tmp_path / "u8.npy", image)
    np.save(tmp_path / "s8.npy", (image.astype(np.int16) - 128).astype(np.int8)[None])
    outs = [json.loads(CliRunner().invoke(main, ["run", mcunet_onnx, "--input", str(tmp_path / f), "--json"]).output)
            for f in ("u8.npy", "s8.npy")]
    assert outs[0] == outs[1]  # the paper models' input quantization is q = pixel - 128


def test_run_text_output_lists_five_classes(mcunet_onnx, tmp_path):
    np.save(tmp_path / "china.npy", china())
    r = CliRunner().invoke(main, ["run", mcunet_onnx, "--input", str(tmp_path / "china.npy")])
    assert r.exit_code == 0
    assert len(r.output.strip().splitlines()) == 5


@pytest.mark.parametrize("array", [np.zeros((64, 64, 3), np.uint8), np.zeros((128, 128, 3), np.float32)])
def test_run_rejects_wrong_inputs_with_one_line(mcunet_onnx, tmp_path, array):
    np.save(tmp_path / "bad.npy", array)
    r = CliRunner().invoke(main, ["run", mcunet_onnx, "--input", str(tmp_path / "bad.npy")])
    assert r.exit_code == 1
    assert r.output.startswith("error:") and len(r.output.strip().splitlines()) == 1
    assert "expected a uint8 image of shape (128, 128, 3)" in r.output


def test_run_rejects_a_file_that_is_not_npy(mcunet_onnx, tmp_path):
    (tmp_path / "x.npy").write_bytes(b"not numpy")
    r = CliRunner().invoke(main, ["run", mcunet_onnx, "--input", str(tmp_path / "x.npy")])
    assert r.exit_code == 1 and "not a readable .npy array" in r.output
