"""What a newcomer trips over in the inputs: one boolean rule for the workflow and the config
file, bare durations, bundle ids per store, wait: false with deploy or download, and a missing
config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from capwrapper_action.config.inputs import read_inputs
from capwrapper_action.config.settings import ConfigErrors, parse_config
from tests.unit.config_rig import KEY, config_error, minimal_env, parse


@pytest.fixture
def base(tmp_path: Path) -> dict[str, str]:
    return minimal_env(tmp_path)


def _file(workspace: Path, text: str) -> None:
    (workspace / ".github").mkdir(exist_ok=True)
    (workspace / ".github" / "capwrapper.yml").write_text(text, encoding="utf-8")


# --- one boolean rule ------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes", "y"])
def test_yaml_11_words_are_refused_alike_in_the_workflow_and_the_file(
    base: dict[str, str], tmp_path: Path, word: str
) -> None:
    from_workflow = config_error(base | {"INPUT_DEPLOY": word})
    _file(tmp_path, f"deploy: {word}\n")
    from_file = config_error(base)
    assert from_workflow.input_name == from_file.input_name == "deploy"
    expected = f'Input \'deploy\': "{word}" is not a boolean; use true or false'
    assert from_workflow.message == expected + "."
    assert from_file.message == expected + " (set in .github/capwrapper.yml)."


@pytest.mark.parametrize(("word", "value"), [("true", True), ("False", False), ("TRUE", True)])
def test_true_and_false_are_taken_alike_in_the_workflow_and_the_file(
    base: dict[str, str], tmp_path: Path, word: str, value: bool
) -> None:
    assert parse(base | {"INPUT_DOWNLOAD": word}).download is value
    _file(tmp_path, f"download: {word}\n")
    assert parse(base).download is value


def test_yes_inside_a_mapping_stays_text(base: dict[str, str], tmp_path: Path) -> None:
    _file(tmp_path, "build-options: {splash: yes, dark: true}\n")
    assert dict(parse(base).build_options) == {"splash": "yes", "dark": True}


# --- durations without a unit ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["timeout", "queue-timeout"])
def test_a_bare_number_under_60_warns_and_keeps_meaning_seconds(
    base: dict[str, str], name: str
) -> None:
    config = parse(base | {"INPUT_" + name.upper(): "10"})
    assert getattr(config, name.replace("-", "_")) == 10.0
    [warning] = config.warnings
    assert f"'{name}' is 10 with no unit, so it means 10 seconds" in warning
    assert "write 10m" in warning


@pytest.mark.parametrize("text", ["10s", "60", "1800", "10m", "45.5s"])
def test_no_warning_with_a_unit_or_from_a_minute(base: dict[str, str], text: str) -> None:
    assert parse(base | {"INPUT_TIMEOUT": text}).warnings == ()


def test_a_bare_number_in_the_config_file_warns_too(base: dict[str, str], tmp_path: Path) -> None:
    _file(tmp_path, "timeout: 10\n")
    config = parse(base)
    assert config.timeout == 10.0
    assert len(config.warnings) == 1


# --- bundle ids per store --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bundle", "platforms", "words"),
    [
        ("com.example.my-shop", "android, ios", ["Android application id", '"my-shop"',
                                                 "letters, digits and underscores"]),
        ("com.example.my-shop", "android", ["Android application id"]),
        ("com.example.shop_app", "android, ios", ["iOS bundle id",
                                                  "letters, digits, hyphens and periods"]),
        ("com.example.shop_app", "ios", ["iOS bundle id", "no '_'"]),
    ],
)  # fmt: skip
def test_bundle_ids_follow_the_rule_of_each_requested_store(
    base: dict[str, str], bundle: str, platforms: str, words: list[str]
) -> None:
    err = config_error(base | {"INPUT_BUNDLE-ID": bundle, "INPUT_PLATFORMS": platforms})
    assert err.input_name == "bundle-id"
    for word in words:
        assert word in err.message, err.message
    assert err.example == "com.example.shop"


@pytest.mark.parametrize(
    ("bundle", "platforms"), [("com.example.my-shop", "ios"), ("com.example.shop_app", "android")]
)
def test_a_bundle_id_only_one_store_refuses_is_fine_for_the_other(
    base: dict[str, str], bundle: str, platforms: str
) -> None:
    config = parse(base | {"INPUT_BUNDLE-ID": bundle, "INPUT_PLATFORMS": platforms})
    assert config.bundle_id == bundle


# --- wait: false ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"INPUT_DEPLOY": "true"}, "'deploy' is true"),
        ({"INPUT_DOWNLOAD": "true"}, "'download' is true"),
        ({"INPUT_DEPLOY": "true", "INPUT_DOWNLOAD": "true"}, "'deploy' and 'download' are true"),
    ],
)
def test_wait_false_with_deploy_or_download_is_an_input_error(
    base: dict[str, str], extra: dict[str, str], named: str
) -> None:
    err = config_error(base | {"INPUT_WAIT": "false", **extra})
    assert err.input_name == "wait"
    assert f"is false, but {named}" in err.message
    assert "only a finished build can be deployed or downloaded" in err.message


def test_wait_false_alone_is_fine(base: dict[str, str]) -> None:
    assert parse(base | {"INPUT_WAIT": "false"}).wait is False


# --- a missing config file -------------------------------------------------------------------


def test_empty_required_inputs_say_that_no_config_file_was_found(tmp_path: Path) -> None:
    env = {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_API-KEY": KEY}
    err = config_error(env)
    assert isinstance(err, ConfigErrors)
    assert err.input_names == ("app-url", "app-name", "bundle-id")
    for single in err.errors:
        assert ".github/capwrapper.yml, which was not found in the workspace" in single.message
        assert "actions/checkout before this step" in single.message
    assert "give `app-url: https://shop.example.com`, or set it in" in err.errors[0].message


def test_hints_speak_the_command_line_s_words(tmp_path: Path) -> None:
    import io

    from capwrapper_action.ghio import ActionIO

    cli = ActionIO(io.StringIO()).setting
    env = {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_API-KEY": KEY, "INPUT_WAIT": "false",
           "INPUT_DEPLOY": "true"}  # fmt: skip
    with pytest.raises(ConfigErrors) as caught:
        parse_config(read_inputs(env), env=env, setting=cli)
    messages = {e.input_name: e.message for e in caught.value.errors}
    assert "give `--app-url https://shop.example.com`, or set it in" in messages["app-url"]
    assert "Set `--wait true`, or `--deploy false`." in messages["wait"]


def test_with_a_config_file_the_error_names_it(tmp_path: Path) -> None:
    _file(tmp_path, "app-name: Example Shop\napp-url: https://shop.example.com\n")
    err = config_error({"GITHUB_WORKSPACE": str(tmp_path), "INPUT_API-KEY": KEY})
    assert err.input_name == "bundle-id"
    assert "give `bundle-id: com.example.shop`, or set it in .github/capwrapper.yml." in err.message
    assert "actions/checkout" not in err.message
