"""The CI memory gate of examples/ci: the workflows' steps run locally on two commits' worth of
models (the example MCUNet, planned with the last-layer update as the base and the 49 KB sparse
update as the head), and both CI files parse and hold those steps."""

import json

import pytest
from click.testing import CliRunner

from tests.conftest import REPO_ROOT
from tests.report.test_compare_formats import tte
from tests.test_cli_plan import FIRST_BLOCK_BYTES
from tinyengine_compiler.cli import main


CI_DIR = REPO_ROOT / "examples" / "ci"
# The last-layer update trains only the new 10-class head on MCUNet's 160 pooled channels:
# 160 x 10 int8 weights and 10 int32 biases.
LAST_LAYER_TRAINABLE_BYTES = 160 * 10 + 10 * 4


@pytest.fixture(scope="module")
def reports(example_models, tmp_path_factory):
    """`tte plan MODEL --update SCHEME --num-classes 10 -o DIR` for the base and the head."""
    out = tmp_path_factory.mktemp("ci_gate")
    model = example_models["mcunet-5fps"]["int8"]
    for side, scheme in (("base", "last-layer"), ("head", "sparse_49kb")):
        r = CliRunner().invoke(main, ["plan", model, "--update", scheme, "--num-classes", "10",
                                      "-o", str(out / side)])
        assert r.exit_code == 0, r.output
    return out / "base" / "memory.json", out / "head" / "memory.json"


def cells(md, key):
    """The cells of the Markdown table row of `key`: key, old, new, change (B), change, status."""
    line = next(line for line in md.splitlines() if line.startswith(f"| `{key}` |"))
    return [c.strip() for c in line.strip("|").split(" | ")]


def test_gate_fails_when_the_head_trains_more(reports):
    base, head = reports
    r = tte("compare", base, head, "--format", "md")
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "### Memory gate: failed (limit +3% per key)"
    assert lines[2].startswith("Grew by more than 3%: ") and "`trainable_bytes`" in lines[2]
    trainable = cells(r.stdout, "trainable_bytes")
    assert trainable[1] == f"{LAST_LAYER_TRAINABLE_BYTES:,d}" and trainable[5] == "**regressed**"
    # Both schemes peak in the forward pass, at the first block's projection (step 2).
    arena = f"{FIRST_BLOCK_BYTES:,d}"
    assert cells(r.stdout, "arena_bytes") == ["`arena_bytes`", arena, arena, "+0", "+0.00%", "ok"]
    assert f"Peak op: `blocks.0.project` (step 2, {arena} B live) in both reports." in lines
    assert "Most changed layers (5 of " in r.stdout
    assert r.stderr.startswith("error: memory regressed by more than 3% in ") and "trainable_bytes" in r.stderr


def test_gate_passes_the_other_way(reports):
    base, head = reports
    r = tte("compare", head, base, "--format", "md")
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.splitlines()
    assert lines[0] == "### Memory gate: passed (limit +3% per key)"
    assert lines[2].startswith("No key grew by more than 3%. Peak SRAM ")
    trainable = cells(r.stdout, "trainable_bytes")
    assert trainable[2] == f"{LAST_LAYER_TRAINABLE_BYTES:,d}" and trainable[5] == "improved"


def test_json_of_the_same_reports(reports):
    base, head = reports
    r = tte("compare", base, head, "--format", "json")
    assert r.returncode == 1
    result = json.loads(r.stdout)
    assert result["verdict"] == "fail" and "trainable_bytes" in result["failing"]
    trainable = next(row for row in result["rows"] if row["key"] == "trainable_bytes")
    assert trainable["old"] == LAST_LAYER_TRAINABLE_BYTES and trainable["status"] == "regressed"
    assert result["peak"]["old"] == result["peak"]["new"] == {"op": "blocks.0.project", "step": 2,
                                                              "live_bytes": FIRST_BLOCK_BYTES}


def load(name):
    """The parsed YAML of examples/ci/<name>; skips without PyYAML (the `test` extra)."""
    yaml = pytest.importorskip("yaml", reason="PyYAML (the `test` extra) parses the CI examples")
    return yaml.safe_load((CI_DIR / name).read_text())


def commands(steps_or_script):
    return "\n".join(s if isinstance(s, str) else s.get("run", "") for s in steps_or_script)


def test_github_workflow():
    wf = load("github-memory-gate.yml")
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on
    assert {"MODEL", "TTE_PLAN_ARGS", "MAX_REGRESS", "TTE_PACKAGE"} <= set(wf["env"])
    (job,) = wf["jobs"].values()
    steps = job["steps"]
    assert any(s.get("uses", "").startswith("actions/checkout@") for s in steps)
    run = commands(steps)
    assert "git worktree add" in run and "pip install" in run
    assert 'tte plan "$MODEL" $TTE_PLAN_ARGS -o' in run
    compare = next(s for s in steps if "tte compare" in s.get("run", ""))
    assert "--format md > report.md" in compare["run"] and "$GITHUB_STEP_SUMMARY" in compare["run"]
    assert any(s.get("uses", "").startswith("actions/github-script@") and "report.md" in s["with"]["script"]
               and "report == 'yes'" in s["if"] for s in steps)
    assert steps[-1]["run"] == 'exit "$STATUS"' and compare["id"] in steps[-1]["env"]["STATUS"]


def test_gitlab_job():
    ci = load("gitlab-memory-gate.yml")
    (job,) = [j for j in ci.values() if isinstance(j, dict) and "script" in j]
    assert {"MODEL", "TTE_PLAN_ARGS", "MAX_REGRESS", "TTE_PACKAGE"} <= set(job["variables"])
    assert any("merge_request_event" in rule["if"] for rule in job["rules"])
    script = commands(job["script"])
    assert "git worktree add" in script and "pip install" in script
    assert 'tte plan "$MODEL" $TTE_PLAN_ARGS -o' in script
    assert "tte compare " in script and "--format md > tte-reports/report.md" in script
    assert "/merge_requests/$CI_MERGE_REQUEST_IID/notes" in script and 'exit "$status"' in script
    assert "[ -s tte-reports/report.md ]" in script   # no empty note when compare wrote nothing
    assert job["artifacts"]["when"] == "always"

