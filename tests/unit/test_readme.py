"""The README's inputs and outputs tables are generated from action.yml and must not drift."""

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

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "readme_tables.py"
README = ROOT / "README.md"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_tables", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return data


def table_rows(marker: str) -> dict[str, str]:
    """`name` -> the rest of the row, for the table between the README's markers."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker}:start -->\n(.*?)<!-- {marker}:end -->", text, re.DOTALL)
    assert found, f"README.md has no {marker} table markers"
    rows: dict[str, str] = {}
    for line in found.group(1).splitlines():
        cell = re.match(r"\| `([^`]+)` \|(.*)\|$", line)
        if cell:
            rows[cell.group(1)] = cell.group(2)
    return rows


def test_check_passes_on_the_committed_readme() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], cwd=ROOT, capture_output=True, text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_fails_on_a_stale_readme(tmp_path: Path) -> None:
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    stale = README.read_text(encoding="utf-8").replace("| `api-key` |", "| `api_key` |", 1)
    (tmp_path / "README.md").write_text(stale, encoding="utf-8")
    assert load_script().main(["--check", "--root", str(tmp_path)]) == 1
    assert load_script().main(["--root", str(tmp_path)]) == 0  # rewrites it
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == README.read_text(
        encoding="utf-8"
    )


def test_rendering_is_idempotent() -> None:
    script = load_script()
    text = README.read_text(encoding="utf-8")
    assert script.render(text, action()) == text


@pytest.mark.parametrize("kind", ["inputs", "outputs"])
def test_every_name_has_exactly_one_row_in_action_yml_order(kind: str) -> None:
    declared = list(action()[kind])
    assert list(table_rows(kind)) == declared


def test_every_input_row_carries_its_default_and_description() -> None:
    rows = table_rows("inputs")
    for name, spec in action()["inputs"].items():
        row = rows[name]
        default = str(spec.get("default", ""))
        if default:
            assert f"`{default}`" in row, name
        first_words = " ".join(str(spec["description"]).split()[:4])
        assert first_words in row, name
        assert ("| yes |" in f"|{row}") == bool(spec.get("required")), name


def test_every_output_row_carries_its_description() -> None:
    rows = table_rows("outputs")
    for name, spec in action()["outputs"].items():
        first_words = " ".join(str(spec["description"]).split()[:4])
        assert first_words in rows[name], name

