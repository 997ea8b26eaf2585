"""The `tte` command line: help for every command, usage errors exit 2, bad files exit 1 on one line."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main

COMMANDS = sorted(main.commands)


def test_top_level_help_lists_every_command():
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0
    for name in COMMANDS:
        assert name in r.output


@pytest.mark.parametrize("name", COMMANDS)
def test_help_of_each_command_exits_0(name):
    r = CliRunner().invoke(main, [name, "--help"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Usage: ") and f" {name} " in r.output.splitlines()[0]


@pytest.mark.parametrize("args", [["--no-such-option"], ["inspect", "--no-such-option", "m.onnx"],
                                  ["no-such-command"], ["inspect"]])
def test_usage_errors_exit_2(args):
    assert CliRunner().invoke(main, args).exit_code == 2


def test_missing_model_is_a_one_line_error(tmp_path):
    r = CliRunner().invoke(main, ["inspect", str(tmp_path / "absent.onnx")])
    assert r.exit_code == 1
    assert r.output.count("\n") == 1 and r.output.startswith("error: ") and "absent.onnx" in r.output


def test_module_entry_point_runs():
    # The Makefile runs the CLI as a module, so that it works without installing the package.
    r = subprocess.run([sys.executable, "-m", "tinyengine_compiler.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "inspect" in r.stdout


def test_resources_find_the_repo_data_folders():
    from tinyengine_compiler.resources import runtime_c_dir, templates_dir

    assert (templates_dir() / "README.md").is_file()
    assert (runtime_c_dir() / "README.md").is_file()
