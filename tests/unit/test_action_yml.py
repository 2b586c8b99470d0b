"""The Python tables of inputs match action.yml exactly, so start-up never needs to parse it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from capwrapper_action.config.inputs import INPUT_DEFAULTS, INPUT_NAMES, SECRET_INPUTS
from capwrapper_action.config.settings import Config

ACTION_YML = Path(__file__).resolve().parents[2] / "action.yml"


def _inputs() -> dict[str, Any]:
    data = yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))
    inputs = data["inputs"]
    assert isinstance(inputs, dict)
    return inputs


def test_input_names_match_in_order() -> None:
    assert list(INPUT_NAMES) == list(_inputs())


def test_defaults_match_exactly() -> None:
    expected = {name: spec.get("default", "") for name, spec in _inputs().items()}
    assert dict(INPUT_DEFAULTS) == expected


def test_defaults_are_strings_in_action_yml() -> None:
    """An unquoted `true` would be a YAML boolean; the runner's text must be 'true'."""
    for name, spec in _inputs().items():
        if "default" in spec:
            assert isinstance(spec["default"], str), name


def test_only_api_key_is_required_and_it_has_no_default() -> None:
    required = [name for name, spec in _inputs().items() if spec.get("required")]
    assert required == ["api-key"]
    assert "default" not in _inputs()["api-key"]


def test_secret_inputs_exist() -> None:
    assert set(SECRET_INPUTS) <= set(INPUT_NAMES)


def test_every_input_has_a_config_field() -> None:
    fields = {f.name for f in dataclasses.fields(Config)}
    renamed = {"build-id": "resume"}
    for name in INPUT_NAMES:
        assert renamed.get(name, name.replace("-", "_")) in fields, name
