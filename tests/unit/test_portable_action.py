"""portable/action.yml is generated from action.yml: same inputs and outputs, never drifting,
and its steps pass inputs to the code only through the environment."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from capwrapper_action.config.inputs import read_inputs
from tests.runner_files import input_env_name

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "portable_action.py"
PORTABLE = ROOT / "portable" / "action.yml"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("portable_action", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ACTION = load(ROOT / "action.yml")
COMPOSITE = load(PORTABLE)
STEPS = {step["id"]: step for step in COMPOSITE["runs"]["steps"]}


def test_the_committed_file_is_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], cwd=ROOT, capture_output=True, text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_fails_when_action_yml_changed(tmp_path: Path) -> None:
    (tmp_path / "portable").mkdir()
    shutil.copy(PORTABLE, tmp_path / "portable" / "action.yml")
    changed = (ROOT / "action.yml").read_text(encoding="utf-8").replace(
        "Write the job summary", "Write the new job summary", 1
    )
    (tmp_path / "action.yml").write_text(changed, encoding="utf-8")
    script = load_script()
    assert script.main(["--check", "--root", str(tmp_path)]) == 1
    assert script.main(["--root", str(tmp_path)]) == 0
    summary = load(tmp_path / "portable" / "action.yml")["inputs"]["summary"]
    assert "new job summary" in summary["description"]
    assert script.main(["--check", "--root", str(tmp_path)]) == 0


def test_an_input_missing_from_the_table_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "portable").mkdir()
    shutil.copy(PORTABLE, tmp_path / "portable" / "action.yml")
    changed = (ROOT / "action.yml").read_text(encoding="utf-8").replace(
        "  dry-run:\n", "  dry-run-extra:\n    description: new\n  dry-run:\n", 1
    )
    (tmp_path / "action.yml").write_text(changed, encoding="utf-8")
    assert load_script().main(["--root", str(tmp_path)]) == 1
    assert "not in the table: dry-run-extra" in capsys.readouterr().out


def test_inputs_are_identical() -> None:
    assert COMPOSITE["inputs"] == ACTION["inputs"]
    assert list(COMPOSITE["inputs"]) == list(ACTION["inputs"])


def test_outputs_are_the_same_and_each_maps_the_run_steps_output() -> None:
    assert list(COMPOSITE["outputs"]) == list(ACTION["outputs"])
    for name, spec in COMPOSITE["outputs"].items():
        assert spec["description"] == ACTION["outputs"][name]["description"]
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


def test_metadata_follows_action_yml() -> None:
    assert COMPOSITE["name"].startswith(ACTION["name"])
    assert COMPOSITE["description"].startswith(ACTION["description"])
    assert COMPOSITE["branding"] == ACTION["branding"]
    assert COMPOSITE["runs"]["using"] == "composite"


def test_every_input_is_passed_as_the_runners_input_variable() -> None:
    env = STEPS["run"]["env"]
    for name in ACTION["inputs"]:
        variable = input_env_name(name)  # the runner's rule for container actions: hyphens kept
        assert "-" not in name or "-" in variable
        assert env[variable] == f"${{{{ inputs.{name} }}}}"
    passed = {k for k in env if k.startswith("INPUT_")}
    assert passed == {input_env_name(name) for name in ACTION["inputs"]}


def test_the_code_reads_every_variable_the_step_sets() -> None:
    env = {k: f"value of {k}" for k in STEPS["run"]["env"] if k.startswith("INPUT_")}
    values = read_inputs(env)
    for name in ACTION["inputs"]:
        assert values[name] == f"value of {input_env_name(name)}"


def test_no_expression_is_expanded_inside_a_script() -> None:
    for step in COMPOSITE["runs"]["steps"]:
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], step["id"]
        assert "uses" not in step


def test_expressions_appear_only_as_whole_values() -> None:
    """An env value is exactly one look-up, never text around one (no quoting games)."""
    lookup = re.compile(r"\$\{\{ [a-z]+(\.[a-z0-9_-]+)+ \}\}")
    for value in STEPS["run"]["env"].values():
        assert "${{" not in value or lookup.fullmatch(value), value


def test_install_step_uses_the_lock_with_hashes_and_exposes_the_interpreter() -> None:
    script = STEPS["install"]["run"]
    assert '--require-hashes --no-deps -r "$GITHUB_ACTION_PATH/../requirements.txt"' in script
    assert '--no-deps "$GITHUB_ACTION_PATH/.."' in script
    assert (PORTABLE.parent / ".." / "requirements.txt").is_file()
    assert '"$RUNNER_TEMP/' in script
    assert 'echo "python=$python" >> "$GITHUB_OUTPUT"' in script
    assert STEPS["run"]["env"]["CAPWRAPPER_PYTHON"] == "${{ steps.install.outputs.python }}"
    assert STEPS["run"]["run"].startswith('exec "$CAPWRAPPER_PYTHON" -m capwrapper_action.cli ')


def test_the_makefile_lints_it() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"ACTION_FILES := .*portable/action\.yml", makefile)


def test_zizmor_finds_nothing() -> None:
    """`make lint` runs zizmor on the workflows; the composite action is audited here."""
    zizmor = Path(sys.executable).with_name("zizmor")
    if not zizmor.is_file():
        pytest.skip("zizmor is not installed next to this interpreter")
    done = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", str(PORTABLE)], capture_output=True,
        text=True, check=False, timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
