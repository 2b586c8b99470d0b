"""parse_config: typed values, rules across inputs, the config file, every error at once,
and secrets kept out of repr and messages."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capwrapper_action.config.inputs import INPUT_NAMES
from capwrapper_action.config.lists import ResumeRef
from capwrapper_action.config.settings import (
    ConfigErrors,
    empty_api_key_problem,
    from_fork,
)
from capwrapper_action.errors import ActionError, ConfigError
from tests.unit.config_rig import KEY, config_error, minimal_env, parse

TOKEN = "ghs_TOPSECRETTOKEN"


@pytest.fixture
def base(tmp_path: Path) -> dict[str, str]:
    return minimal_env(tmp_path)


def test_minimal_inputs_and_defaults(base: dict[str, str], tmp_path: Path) -> None:
    config = parse(base)
    assert config.api_key == KEY
    assert config.api_url == "https://api.capwrapper.com/v1"
    assert (config.app_url, config.app_name, config.bundle_id) == (
        "https://shop.example.com",
        "Example Shop",
        "com.example.shop",
    )
    assert config.version == "auto"
    assert config.version_bump == "patch"
    assert config.platforms == ("android", "ios")
    assert config.permissions is None
    assert dict(config.build_options) == {}
    assert config.resume == ()
    assert config.wait is True
    assert config.timeout == 1800.0
    assert config.queue_timeout is None
    assert config.poll_interval is None
    assert config.github_token == ""
    assert config.deploy is False
    assert config.deploy_labels == ()
    assert dict(config.deploy_options) == {}
    assert config.download is False
    assert config.download_path == tmp_path.resolve() / "capwrapper-artifacts"
    assert config.summary is True
    assert config.summary_download_links is False
    assert config.config_file is None
    assert config.dry_run is False
    assert config.workspace == tmp_path.resolve()


def test_every_input_set(base: dict[str, str], tmp_path: Path) -> None:
    env = base | {
        "INPUT_API-URL": "http://127.0.0.1:8765/v1/",
        "INPUT_VERSION": "2.0.0-rc.1",
        "INPUT_VERSION-BUMP": "minor",
        "INPUT_PLATFORMS": "ios",
        "INPUT_PERMISSIONS": "- camera\n- gps\n",
        "INPUT_BUILD-OPTIONS": '{"orientation": "portrait"}',
        "INPUT_WAIT": "TRUE",  # false with deploy or download true is an input error
        "INPUT_TIMEOUT": "1h30m",
        "INPUT_QUEUE-TIMEOUT": "10m",
        "INPUT_POLL-INTERVAL": "15",
        "INPUT_GITHUB-TOKEN": TOKEN,
        "INPUT_DEPLOY": "true",
        "INPUT_DEPLOY-LABELS": "deploy, ship it",
        "INPUT_DEPLOY-OPTIONS": "track: internal",
        "INPUT_DOWNLOAD": "True",
        "INPUT_DOWNLOAD-PATH": "out/apps",
        "INPUT_SUMMARY": "FALSE",
        "INPUT_SUMMARY-DOWNLOAD-LINKS": "true",
        "INPUT_DRY-RUN": "true",
    }
    config = parse(env)
    assert config.api_url == "http://127.0.0.1:8765/v1"
    assert str(config.version) == "2.0.0-rc.1"
    assert config.version_bump == "minor"
    assert config.platforms == ("ios",)
    assert config.permissions == ("camera", "gps")
    assert dict(config.build_options) == {"orientation": "portrait"}
    assert (config.wait, config.timeout, config.queue_timeout) == (True, 5400.0, 600.0)
    assert config.poll_interval == 15.0
    assert config.github_token == TOKEN
    assert (config.deploy, config.deploy_labels) == (True, ("deploy", "ship it"))
    assert dict(config.deploy_options) == {"track": "internal"}
    assert config.download is True
    assert config.download_path == tmp_path.resolve() / "out" / "apps"
    assert (config.summary, config.summary_download_links, config.dry_run) == (False, True, True)


def test_repr_never_shows_secrets(base: dict[str, str]) -> None:
    config = parse(base | {"INPUT_GITHUB-TOKEN": TOKEN})
    for text in (repr(config), str(config), f"{config!r}"):
        assert KEY not in text
        assert TOKEN not in text
    assert "api_key" not in repr(config)


def test_config_is_frozen(base: dict[str, str]) -> None:
    config = parse(base)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.api_key = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.build_options["url"] = "x"  # type: ignore[index]
    assert hash(config) == hash(dataclasses.replace(config))


def test_one_bad_input_raises_a_plain_config_error(base: dict[str, str]) -> None:
    err = config_error(base | {"INPUT_BUNDLE-ID": "shop"})
    assert type(err) is ConfigError
    assert err.input_name == "bundle-id"
    assert err.title == "Invalid input: bundle-id"
    assert str(err) == (
        "Input 'bundle-id': \"shop\" is not a reverse-domain id: it needs at least two parts "
        "separated by dots. Example of a valid value: com.example.shop"
    )


def test_every_bad_input_is_reported_at_once(base: dict[str, str]) -> None:
    env = base | {
        "INPUT_API-KEY": "",
        "INPUT_VERSION": "v1.0",
        "INPUT_TIMEOUT": "-1",
        "INPUT_BUNDLE-ID": "shop",
        "INPUT_WAIT": "yes",
    }
    err = config_error(env)
    assert isinstance(err, ConfigErrors)
    assert isinstance(err, ActionError)
    names = ["api-key", "bundle-id", "version", "wait", "timeout"]
    assert list(err.input_names) == names
    assert err.input_name == "api-key"
    assert err.title == "Invalid inputs: " + ", ".join(names)
    assert err.message.startswith("5 inputs are invalid:\n- Input 'api-key': ")
    for name in names:
        assert f"- Input '{name}': " in err.message
    assert [e.input_name for e in err.errors] == names


def test_secrets_never_appear_in_errors(base: dict[str, str]) -> None:
    env = base | {"INPUT_API-KEY": KEY + " x", "INPUT_GITHUB-TOKEN": TOKEN + "\tz"}
    err = config_error(env)
    assert isinstance(err, ConfigErrors)
    assert err.input_names == ("api-key", "github-token")
    for text in (str(err), err.title, *(str(e) for e in err.errors)):
        assert "TOPSECRET" not in text


def test_required_app_inputs_when_creating(base: dict[str, str]) -> None:
    env = base | {"INPUT_APP-URL": "", "INPUT_APP-NAME": " ", "INPUT_BUNDLE-ID": ""}
    err = config_error(env)
    assert isinstance(err, ConfigErrors)
    assert err.input_names == ("app-url", "app-name", "bundle-id")
    assert "required unless 'build-id' is given" in err.message


def test_resume_with_a_bare_id_keeps_platforms(base: dict[str, str]) -> None:
    env = base | {"INPUT_APP-URL": "", "INPUT_APP-NAME": "", "INPUT_BUNDLE-ID": ""}
    config = parse(env | {"INPUT_BUILD-ID": "bld_abc123"})
    assert config.resume == (ResumeRef("bld_abc123", None),)
    assert config.platforms == ("android", "ios")
    assert config.app_url is None
    assert config.app_name is None
    assert config.bundle_id is None


def test_resume_per_platform_sets_platforms(base: dict[str, str]) -> None:
    config = parse(base | {"INPUT_BUILD-ID": "ios:bld_b, android:bld_a"})
    assert config.resume == (ResumeRef("bld_b", "ios"), ResumeRef("bld_a", "android"))
    assert config.platforms == ("ios", "android")
    config = parse(base | {"INPUT_BUILD-ID": "ios:bld_b", "INPUT_PLATFORMS": "ios"})
    assert config.platforms == ("ios",)


def test_resume_conflicting_with_platforms(base: dict[str, str]) -> None:
    err = config_error(base | {"INPUT_BUILD-ID": "ios:bld_b", "INPUT_PLATFORMS": "android"})
    assert err.input_name == "build-id"
    assert "names ios but 'platforms' is android" in err.message


def test_bad_build_id_does_not_also_demand_app_inputs(base: dict[str, str]) -> None:
    env = base | {"INPUT_APP-URL": "", "INPUT_BUILD-ID": "bld a, bld b"}
    err = config_error(env)
    assert err.input_name == "build-id"
    assert type(err) is ConfigError


# --- api-key and forks -----------------------------------------------------------------------


def _event(tmp_path: Path, payload: object) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return str(path)


def _pr(full_name: str | None, fork: bool) -> dict[str, object]:
    repo = None if full_name is None else {"full_name": full_name, "fork": fork}
    return {"pull_request": {"number": 7, "head": {"repo": repo}}}


@pytest.mark.parametrize(
    ("event", "payload", "expected"),
    [
        ("pull_request", _pr("someone/shop", True), True),
        ("pull_request", _pr("Owner/Shop", False), False),
        ("pull_request", _pr(None, False), True),
        ("pull_request_review", _pr("someone/shop", True), True),
        ("pull_request_target", _pr("someone/shop", True), False),
        ("push", _pr("someone/shop", True), False),
        ("pull_request", {"pull_request": None}, False),
        ("pull_request", [], False),
        ("pull_request", {"pull_request": {"head": {"repo": {"fork": True}}}}, True),
    ],
)
def test_from_fork(tmp_path: Path, event: str, payload: object, expected: bool) -> None:
    env = {
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": _event(tmp_path, payload),
        "GITHUB_REPOSITORY": "owner/shop",
    }
    assert from_fork(env) is expected


def test_from_fork_without_a_readable_event(tmp_path: Path) -> None:
    assert from_fork({"GITHUB_EVENT_NAME": "pull_request"}) is False
    bad = tmp_path / "event.json"
    bad.write_text("{not json")
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(bad)}
    assert from_fork(env) is False


def test_empty_api_key_on_a_fork_pull_request(base: dict[str, str], tmp_path: Path) -> None:
    env = base | {
        "INPUT_API-KEY": "",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": _event(tmp_path, _pr("someone/shop", True)),
        "GITHUB_REPOSITORY": "owner/shop",
    }
    err = config_error(env)
    assert err.input_name == "api-key"
    assert "secrets to workflows triggered from forks" in err.message
    assert "pull_request_target" in err.message
    assert "on push" in err.message


def test_empty_api_key_messages_by_trigger() -> None:
    assert "Dependabot" in empty_api_key_problem({"GITHUB_ACTOR": "dependabot[bot]"})
    plain = empty_api_key_problem({"GITHUB_EVENT_NAME": "push"})
    assert "from a secret" in plain
    assert "fork" not in plain


# --- the config file -------------------------------------------------------------------------


def _config_file(tmp_path: Path, text: str, name: str = ".github/capwrapper.yml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


FILE = """\
app-url: https://file.example.com
app-name: From File
bundle-id: com.file.app
platforms: [ios]
permissions:
  - camera
  - notifications
build-options:
  orientation: portrait
deploy-options: {track: beta}
deploy-labels: [deploy, ship it]
timeout: 45m
wait: false
"""


def test_valid_config_file(tmp_path: Path) -> None:
    path = _config_file(tmp_path, FILE)
    env = {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_API-KEY": KEY}
    config = parse(env)
    assert config.config_file == path.resolve()
    assert config.app_url == "https://file.example.com"
    assert config.app_name == "From File"
    assert config.bundle_id == "com.file.app"
    assert config.platforms == ("ios",)
    assert config.permissions == ("camera", "notifications")
    assert dict(config.build_options) == {"orientation": "portrait"}
    assert dict(config.deploy_options) == {"track": "beta"}
    assert config.deploy_labels == ("deploy", "ship it")
    assert (config.timeout, config.wait) == (2700.0, False)


def test_workflow_input_wins_over_the_file(base: dict[str, str], tmp_path: Path) -> None:
    _config_file(tmp_path, FILE)
    config = parse(base | {"INPUT_TIMEOUT": "5m", "INPUT_PLATFORMS": "android"})
    assert config.app_name == "Example Shop"  # set in the workflow (base)
    assert config.timeout == 300.0
    assert config.platforms == ("android",)
    assert config.wait is False  # left at its default: the file's value


def test_input_at_default_yields_to_the_file(tmp_path: Path) -> None:
    _config_file(
        tmp_path,
        "app-url: https://f.example.com\napp-name: F\nbundle-id: com.f.app\ntimeout: 10m\n",
    )
    env = {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_API-KEY": KEY, "INPUT_TIMEOUT": "30m"}
    assert parse(env).timeout == 600.0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("app-name: X\nbogus: 1\n", ["unknown key", '"bogus"']),
        ("api-key: sk_live_TOPSECRETKEY\n", ["'api-key'", "secrets do not belong"]),
        ("- a\n- b\n", ["must hold a mapping"]),
        ("app-name: 'unclosed\n", ["not valid YAML"]),
    ],
)
def test_bad_config_file(base: dict[str, str], tmp_path: Path, text: str, words: list[str]) -> None:
    _config_file(tmp_path, text)
    err = config_error(base)
    assert err.input_name == "config-file"
    assert ".github/capwrapper.yml" in err.message
    for word in words:
        assert word in err.message
    assert KEY not in str(err)


def test_bad_value_from_the_file_names_the_file(base: dict[str, str], tmp_path: Path) -> None:
    _config_file(tmp_path, "version: 1.4\npoll-interval: 0\n", "ci/cap.yml")
    err = config_error(base | {"INPUT_CONFIG-FILE": "ci/cap.yml"})
    assert isinstance(err, ConfigErrors)
    assert "(set in ci/cap.yml)." in err.errors[0].message
    assert err.errors[0].input_name == "version"
    assert err.errors[1].input_name == "poll-interval"


def test_missing_named_config_file(base: dict[str, str]) -> None:
    err = config_error(base | {"INPUT_CONFIG-FILE": "nope.yml"})
    assert err.input_name == "config-file"
    assert '"nope.yml" is not a file' in err.message


# --- any text at all -------------------------------------------------------------------------

_TEXT = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="-:,.[]{}&*!|>\"' \n\tabcAB01/h_ms@#?%~", max_size=40),
)
_ANY_TEXT = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _error_or_none(env: dict[str, str]) -> ConfigError | None:
    try:
        parse(env)
    except ConfigError as err:
        return err
    return None


@_ANY_TEXT
@given(name=st.sampled_from(INPUT_NAMES), text=_TEXT)
def test_any_text_in_any_input_is_a_config_or_a_config_error(
    base: dict[str, str], name: str, text: str
) -> None:
    err = _error_or_none(base | {"INPUT_" + name.upper(): text})
    assert err is None or f"'{name}'" in err.message or "required unless" in err.message


@_ANY_TEXT
@given(name=st.sampled_from(["api-key", "github-token"]), text=_TEXT)
def test_no_part_of_a_secret_is_ever_quoted(base: dict[str, str], name: str, text: str) -> None:
    err = _error_or_none(base | {"INPUT_" + name.upper(): "MARKsecret" + text})
    assert err is None or "MARKsecret" not in f"{err} {err.title}"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("a\x00b", ["control character"]),
        ("x" * 5000, ["5,000 characters"]),
        ("a/" * 400, ["not a file"]),
        ("x" * 1000, ["not a file"]),
    ],
)
def test_unusable_config_file_names(base: dict[str, str], value: str, words: list[str]) -> None:
    err = config_error(base | {"INPUT_CONFIG-FILE": value})
    assert err.input_name == "config-file"
    for word in words:
        assert word in err.message
