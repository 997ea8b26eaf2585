"""The `tte` command line: help for every command, usage errors exit 2, bad files exit 1 on one line."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from tinyengine_compiler.cli import main
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.report.plan import parse_bytes

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


def test_example_firmware_writes_a_new_folder_and_never_over_one(tmp_path):
    r = CliRunner().invoke(main, ["example-firmware", "-o", str(tmp_path / "fw")])
    assert r.exit_code == 0, r.output
    for name in ("main.c", "Makefile", "CMakeLists.txt", "arm-none-eabi.cmake", "README.md", "harness/startup.c",
                 "harness/stm32f746_qemu.ld", "harness/stm32f746_sections.ld"):
        assert (tmp_path / "fw" / name).is_file(), name
    (tmp_path / "fw" / "main.c").write_text("/* edited */\n")
    r = CliRunner().invoke(main, ["example-firmware", "-o", str(tmp_path / "fw")])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "already exists" in r.output
    assert (tmp_path / "fw" / "main.c").read_text() == "/* edited */\n"
    (tmp_path / "file").write_text("")
    r = CliRunner().invoke(main, ["example-firmware", "-o", str(tmp_path / "file" / "fw")])
    assert r.exit_code == 2 and r.output.startswith("error: cannot write ") and r.output.count("\n") == 1


# each option of the one pipeline, its Options field, and how the CLI's text maps to the field
_PIPELINE_OPTIONS = {"budget": ("budget_bytes", lambda v: parse_bytes(v)), "storage": ("storage", None),
                     "rounding": ("rounding", None), "momentum": ("momentum", None),
                     "bias_lr_scale": ("bias_lr_scale", None), "step_clip": ("step_clip", None),
                     "seed": ("seed", None), "kernels": ("kernels", None), "planner": ("planner", None),
                     "num_classes": ("num_classes", None), "no_qas": ("qas", lambda v: not v),
                     "no_reorder": ("reorder", lambda v: not v), "label_smoothing": ("label_smoothing", None)}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_defaults_to_the_pipeline_defaults(name):
    """A command that takes an option of the pipeline defaults to pipeline.Options' value (one
    that requires it, as `tte search --num-classes`, has no default)."""
    defaults = Options()
    for param in main.commands[name].params:
        if param.name in _PIPELINE_OPTIONS and not param.required:
            field, to_field = _PIPELINE_OPTIONS[param.name]
            value = param.default if to_field is None else to_field(param.default)
            assert value == getattr(defaults, field), f"tte {name} --{param.name}"
