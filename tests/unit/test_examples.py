"""The example workflows users copy: declared inputs only, actions pinned by commit SHA,
least-privilege permissions, a concurrency group, and no expression inside a `run:` script."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_SAMPLE = ROOT / "docs" / "examples" / "capwrapper.yml"  # a config file, not a workflow
EXAMPLES = sorted(set((ROOT / "docs" / "examples").glob("*.yml")) - {SETTINGS_SAMPLE})
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_safe_to_copy(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") == {}, "deny by default; grant per job"
    assert "concurrency" in workflow or all("concurrency" in j for j in workflow["jobs"].values())
    for job in workflow["jobs"].values():
        assert "timeout-minutes" in job
        assert "permissions" in job
    for step in steps(workflow):
        if "uses" in step and not step["uses"].startswith("./"):
            assert PINNED.match(step["uses"]), step["uses"]
        assert "${{" not in step.get("run", ""), f"expression inside run: in {path.name}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_uses_only_declared_inputs_and_outputs(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for step in steps(load(path)):
        if "capwrapper-action" in step.get("uses", ""):
            assert set(step.get("with", {})) <= set(ACTION["inputs"]), step["with"]
    for name in re.findall(r"steps\.[\w-]+\.outputs\.([\w-]+)", text):
        assert name in ACTION["outputs"], name


# --- the sample settings file ----------------------------------------------------------------


def test_the_settings_sample_names_every_key_a_config_file_takes_with_a_comment() -> None:
    from capwrapper_action.config.inputs import INPUTS

    lines = SETTINGS_SAMPLE.read_text(encoding="utf-8").splitlines()
    keys = {m.group(1): i for i, ln in enumerate(lines) if (m := re.match(r"^#? ?([a-z-]+):", ln))}
    allowed = [spec.name for spec in INPUTS if not spec.not_in_file]
    missing = sorted(set(allowed) - set(keys))
    assert not missing, f"{SETTINGS_SAMPLE.name} lacks {missing}: add each with a comment"
    assert set(keys) == set(allowed)
    for name, index in keys.items():
        above = lines[max(0, index - 3) : index]
        assert any(ln.startswith("# ") for ln in above) or lines[index].startswith("#"), name


def test_the_settings_sample_is_a_valid_config_file(tmp_path: Path) -> None:
    from capwrapper_action.config.inputs import read_inputs
    from capwrapper_action.config.settings import parse_config

    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "capwrapper.yml").write_text(SETTINGS_SAMPLE.read_text("utf-8"))
    env = {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_API-KEY": "sk_test_key"}
    config = parse_config(read_inputs(env), env=env)
    assert config.app_name == "Example Shop"
    assert config.deploy_labels == ("release",)
    assert config.warnings == ()


def test_the_readme_links_the_settings_sample() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/examples/capwrapper.yml)" in readme
