"""The hostile-input corpus (tests/bad_inputs/): every file is refused with one line, no
traceback, the right exit code, and the malicious pickles run nothing."""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main
from tinyengine_compiler.errors import TteError
from tinyengine_compiler.frontend import load_model

from ..bad_inputs.make_bad_inputs import CASES, PWNED_MARKER
from ..bad_inputs.make_bad_inputs import main as regenerate

FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bad_inputs")


@pytest.fixture(autouse=True)
def no_marker():
    if os.path.exists(PWNED_MARKER):
        os.remove(PWNED_MARKER)
    yield
    assert not os.path.exists(PWNED_MARKER), "a hostile file ran a shell command"


def test_corpus_is_committed_and_reproducible(tmp_path):
    assert len(CASES) >= 12
    regenerate(str(tmp_path))
    for name in CASES:
        with open(os.path.join(FOLDER, name), "rb") as a, open(tmp_path / name, "rb") as b:
            assert a.read() == b.read(), f"{name} differs from a fresh make_bad_inputs.py run"


@pytest.mark.parametrize("name", sorted(CASES))
def test_load_model_refuses(name):
    _, words, code = CASES[name]
    with pytest.raises(TteError) as info:
        load_model(os.path.join(FOLDER, name))
    assert words in str(info.value) and info.value.exit_code == code
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_inspect_prints_one_error_line(name):
    _, words, code = CASES[name]
    r = CliRunner().invoke(main, ["inspect", os.path.join(FOLDER, name)])
    assert r.exit_code == code, r.output
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
    assert "Traceback" not in r.output and "internal error" not in r.stderr


def _run_cli(*args) -> subprocess.CompletedProcess:
    """A real `python -m tinyengine_compiler.cli` process: what a user (or an attacker) would run."""
    root = os.path.dirname(os.path.dirname(FOLDER))
    return subprocess.run([sys.executable, "-m", "tinyengine_compiler.cli", *args], capture_output=True, text=True,
                          cwd=root, timeout=60, env={**os.environ, "PYTHONPATH": root})


def _assert_one_error_line(p: subprocess.CompletedProcess) -> None:
    assert p.returncode == 1, p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "internal error" not in lines[0]
    assert "Traceback" not in p.stdout + p.stderr


@pytest.mark.parametrize("name", ["pwned.pkl", "pwned_raw.pkl"])
def test_hostile_pickle_runs_nothing_in_a_fresh_process(name, tmp_path):
    p = _run_cli("import-paper-model", os.path.join(FOLDER, name), "-o", str(tmp_path / "x.onnx"))
    _assert_one_error_line(p)
    assert not (tmp_path / "x.onnx").exists()


def test_random_bytes_in_a_fresh_process():
    _assert_one_error_line(_run_cli("inspect", os.path.join(FOLDER, "random_bytes.onnx")))


def test_unsupported_op_names_the_node_and_the_op_and_lists_the_supported_ones():
    from tinyengine_compiler.frontend.onnx_import import SUPPORTED_OPS

    with pytest.raises(TteError) as info:
        load_model(os.path.join(FOLDER, "unknown_op_softmax.onnx"))
    message = str(info.value)
    assert "\n" not in message and "node 'softmax" in message and "op 'Softmax' is not supported" in message
    listed = set(message.split("supported: ", 1)[1].split(", "))
    assert listed == set(SUPPORTED_OPS)
