"""The example workflows users copy: declared inputs only, actions pinned by commit SHA,
least-privilege permissions, a concurrency group, and no expression inside a `run:` script."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.yml"))
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
