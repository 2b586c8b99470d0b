"""The input table matches action.yml exactly (names, order, defaults, required), so start-up
never needs to parse it, and every input has its Config field."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from capwrapper_action.config.inputs import INPUT_NAMES, INPUTS, SECRET_INPUTS
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
    assert {spec.name: spec.default for spec in INPUTS} == expected


def test_required_matches() -> None:
    expected = {name: bool(spec.get("required")) for name, spec in _inputs().items()}
    assert {spec.name: spec.required for spec in INPUTS} == expected


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
    assert {"api-key", "github-token"} == SECRET_INPUTS


def test_every_input_has_its_config_field_in_order() -> None:
    fields = [f.name for f in dataclasses.fields(Config)]
    assert [spec.attribute for spec in INPUTS] == fields[: len(INPUTS)]
    assert INPUTS[INPUT_NAMES.index("build-id")].attribute == "resume"


def test_secret_fields_stay_out_of_repr() -> None:
    fields = {f.name: f for f in dataclasses.fields(Config)}
    for spec in INPUTS:
        assert fields[spec.attribute].repr is not spec.secret, spec.name


def test_every_input_has_an_example_and_a_one_line_help() -> None:
    for spec in INPUTS:
        assert spec.example, spec.name
        assert spec.help, spec.name
        assert "\n" not in spec.help, spec.name
        assert len(spec.help) < 100, spec.name
