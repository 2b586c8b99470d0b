"""Reading INPUT_* variables, normalizing their text, strict YAML, and the config-file merge."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capwrapper_action.config.file import merge_config_file
from capwrapper_action.config.inputs import INPUT_NAMES, INPUTS, normalize, read_inputs
from capwrapper_action.config.settings import Config, parse_config, workspace_of
from capwrapper_action.config.strict_yaml import YamlProblem, json_safe, load_yaml
from capwrapper_action.config.values import show
from capwrapper_action.errors import ConfigError

INPUT_DEFAULTS = {spec.name: spec.default for spec in INPUTS}


def test_missing_inputs_get_their_defaults() -> None:
    values = read_inputs({})
    assert list(values) == list(INPUT_NAMES)
    assert values["api-url"] == "https://api.capwrapper.com/v1"
    assert values["platforms"] == "android, ios"
    assert values["timeout"] == "30m"
    assert values["api-key"] == ""


def test_expression_default_is_empty_outside_the_runner() -> None:
    assert INPUT_DEFAULTS["github-token"] == "${{ github.token }}"
    assert read_inputs({})["github-token"] == ""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"INPUT_API-KEY": "hyphen"}, "hyphen"),
        ({"INPUT_API_KEY": "underscore"}, "underscore"),
        ({"INPUT_API-KEY": "hyphen", "INPUT_API_KEY": "underscore"}, "hyphen"),
        ({"INPUT_API-KEY": "same", "INPUT_API_KEY": "same"}, "same"),
        ({"INPUT_API-KEY": "", "INPUT_API_KEY": "underscore"}, ""),
        ({"input_api-key": "lower"}, ""),
    ],
)
def test_hyphen_and_underscore_forms(env: dict[str, str], expected: str) -> None:
    assert read_inputs(env)["api-key"] == expected


def test_every_input_is_read_in_both_forms() -> None:
    for name in INPUT_NAMES:
        hyphen = "INPUT_" + name.upper()
        assert read_inputs({hyphen: "x"})[name] == "x", name
        assert read_inputs({hyphen.replace("-", "_"): "y"})[name] == "y", name


def test_runner_given_defaults_equal_python_defaults() -> None:
    """What the runner sets for inputs left out normalizes to what INPUT_DEFAULTS says."""
    env = {"INPUT_" + n.upper(): d for n, d in INPUT_DEFAULTS.items() if "${{" not in d}
    assert {k: v for k, v in read_inputs(env).items() if k != "github-token"} == {
        n: normalize(n, d) for n, d in INPUT_DEFAULTS.items() if n != "github-token"
    }


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("app-name", "  Example Shop \n", "Example Shop"),
        ("api-key", " key\n", "key"),
        ("platforms", "android\r\nios\r\n", "android\nios"),
        ("build-options", "\n  a: 1\n  b:\n    c: 2\n\n", "a: 1\nb:\n  c: 2"),
        ("permissions", "  - camera\n  - gps\n", "- camera\n- gps"),
        ("deploy-labels", " ship it ,\n deploy ", "ship it ,\n deploy"),
        ("app-name", "Shop\nX", "Shop\nX"),
    ],
)
def test_normalize(name: str, raw: str, expected: str) -> None:
    assert normalize(name, raw) == expected
    assert read_inputs({"INPUT_" + name.upper(): raw})[name] == expected


def test_workspace_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert workspace_of({"GITHUB_WORKSPACE": str(tmp_path)}) == tmp_path.resolve()
    monkeypatch.chdir(tmp_path)
    assert workspace_of({}) == tmp_path.resolve()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("shop", '"shop"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a\nb\tc\rd", '"a\\nb\\tc\\rd"'),
        ("\x1b[31m", '"\\u001b[31m"'),
        ("\u202eevil", '"\\u202eevil"'),
        ("x" * 70, '"' + "x" * 60 + '"…'),
        ("::error::x", '"::error::x"'),
    ],
)
def test_show(value: str, expected: str) -> None:
    assert show(value) == expected


# --- YAML ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1", {"a": 1}),
        ('{"a": [1, "x"]}', {"a": [1, "x"]}),
        ("- a\n- b", ["a", "b"]),
        ("", None),
        ("<<: {x: 1}\ny: 2", {"x": 1, "y": 2}),
    ],
)
def test_load_yaml(text: str, expected: object) -> None:
    assert load_yaml(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: 1\na: 2", ["appears twice", "line 2"]),
        ("a: &x [1]\nb: *x", ["aliases"]),
        ("a: [1", ["line"]),
        ("a: !!python/name:os.system", ["could not determine a constructor"]),
        ("[" * 3000, ["nested too deeply"]),
        ("\t- a", ["line 1"]),
    ],
)
def test_load_yaml_refuses(text: str, words: list[str]) -> None:
    with pytest.raises(YamlProblem) as caught:
        load_yaml(text)
    for word in words:
        assert word in str(caught.value)


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    with pytest.raises(YamlProblem, match="aliases"):
        load_yaml("\n".join(lines))


def test_json_safe() -> None:
    import datetime as dt

    assert json_safe({"d": dt.date(2024, 5, 1), "n": [1, 2.5, None, True]}) == {
        "d": "2024-05-01",
        "n": [1, 2.5, None, True],
    }
    for bad in ({1: "x"}, {"a": float("inf")}, {"a": b"x"}, {"a": {1, 2}}):
        with pytest.raises(YamlProblem):
            json_safe(bad)
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    with pytest.raises(YamlProblem, match="32 levels"):
        json_safe(deep)


# --- config file merge -----------------------------------------------------------------------


def _write(workspace: Path, text: str, name: str = ".github/capwrapper.yml") -> Path:
    path = workspace / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_no_change(tmp_path: Path) -> None:
    raw = read_inputs({})
    merged = merge_config_file(raw, workspace=tmp_path)
    assert merged.values == raw
    assert merged.config_file is None
    assert merged.from_file == frozenset()


def test_default_file_is_read_and_values_are_taken_as_yaml_gave_them(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "app-name: Example Shop\n"
        "wait: false\n"
        "timeout: 600\n"
        "permissions: [camera, gps]\n"
        "platforms:\n  - ios\n"
        "deploy-labels: [ship it, deploy]\n"
        "build-options:\n  orientation: portrait\n  released: 2024-05-01\n"
        "version: 1.4.0\n"
        "app-url:\n",
    )
    merged = merge_config_file(read_inputs({}), workspace=tmp_path)
    assert merged.config_file == (tmp_path / ".github/capwrapper.yml").resolve()
    values = merged.values
    assert values["app-name"] == "Example Shop"
    assert values["wait"] is False
    assert values["timeout"] == 600
    assert values["permissions"] == ["camera", "gps"]
    assert values["platforms"] == ["ios"]
    assert values["deploy-labels"] == ["ship it", "deploy"]
    assert values["version"] == "1.4.0"
    assert values["app-url"] is None
    assert "app-name" in merged.from_file
    assert "api-url" not in merged.from_file
    config = _parse_with_file(
        tmp_path, {"INPUT_APP-URL": "https://shop.example.com", "INPUT_BUNDLE-ID": "com.ex.a"}
    )
    assert (config.app_name, config.wait, config.timeout) == ("Example Shop", False, 600.0)
    assert config.permissions == ("camera", "gps")
    assert config.platforms == ("ios",)
    assert config.deploy_labels == ("ship it", "deploy")
    assert dict(config.build_options) == {"orientation": "portrait", "released": "2024-05-01"}
    assert str(config.version) == "1.4.0"


def _parse_with_file(workspace: Path, inputs: dict[str, str]) -> Config:
    env = {"GITHUB_WORKSPACE": str(workspace), "INPUT_API-KEY": "k", **inputs}
    return parse_config(read_inputs(env), env=env)


def test_workflow_value_wins_and_default_yields(tmp_path: Path) -> None:
    _write(tmp_path, "app-name: From File\nbundle-id: com.file.app\nplatforms: ios\n")
    raw = read_inputs({"INPUT_APP-NAME": "From Workflow", "INPUT_PLATFORMS": "android, ios"})
    merged = merge_config_file(raw, workspace=tmp_path)
    assert merged.values["app-name"] == "From Workflow"
    assert merged.values["bundle-id"] == "com.file.app"
    # Spelling the default out cannot be told from leaving it out: the file wins.
    assert merged.values["platforms"] == "ios"
    assert merged.from_file == frozenset({"bundle-id", "platforms"})


def test_named_file(tmp_path: Path) -> None:
    _write(tmp_path, "app-name: Named\n", "config/app.yaml")
    merged = merge_config_file(
        read_inputs({"INPUT_CONFIG-FILE": "config/app.yaml"}), workspace=tmp_path
    )
    assert merged.values["app-name"] == "Named"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("app_name: X\n", ["unknown key", '"app_name"', "did you mean 'app-name'"]),
        ("appUrl: https://x.example.com\n", ["unknown key", '"appUrl"']),
        ("api-key: sk_live_TOPSECRET\n", ["'api-key'", "secrets do not belong"]),
        ("github-token: ghp_TOPSECRET\n", ["'github-token'", "secrets do not belong"]),
        ("config-file: other.yml\n", ["'config-file'", "cannot name another"]),
        ("- app-name\n", ["mapping", "list"]),
        ("just text\n", ["mapping", "str"]),
        ("app-name: [x\n", ["not valid YAML", "line"]),
        ("app-name: X\napp-name: Y\n", ["appears twice"]),
        ("a: &x 1\nb: *x\n", ["aliases"]),
    ],
)
def test_bad_file_names_config_file_and_the_file(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        merge_config_file(read_inputs({}), workspace=tmp_path)
    err = caught.value
    assert err.input_name == "config-file"
    assert ".github/capwrapper.yml" in err.message
    for word in words:
        assert word in err.message, err.message
    assert "TOPSECRET" not in str(err)


@pytest.mark.parametrize(
    ("text", "name", "words"),
    [
        ("app-name: [a, b]\n", "app-name", ["is a list", ".github/capwrapper.yml"]),
        ("wait: {a: 1}\n", "wait", ["is a mapping"]),
        ("deploy-labels: ['a, b']\n", "deploy-labels", ["not a plain word"]),
        ("permissions: [camera, [gps]]\n", "permissions", ["not a plain word"]),
        ("platforms: [true]\n", "platforms", ["not a plain word"]),
        ("platforms: [yes]\n", "platforms", ['"yes" is not a platform']),
        ("build-options: {a: .inf}\n", "build-options", [".inf"]),
    ],
)
def test_bad_file_values_name_the_input(
    tmp_path: Path, text: str, name: str, words: list[str]
) -> None:
    _write(tmp_path, text + "app-url: https://a.example.com\nbundle-id: com.example.a\n")
    with pytest.raises(ConfigError) as caught:
        _parse_with_file(tmp_path, {"INPUT_APP-NAME": "A"} if name != "app-name" else {})
    assert caught.value.input_name == name
    assert ".github/capwrapper.yml" in caught.value.message
    for word in words:
        assert word in caught.value.message


def test_empty_file_is_fine(tmp_path: Path) -> None:
    _write(tmp_path, "# nothing yet\n")
    merged = merge_config_file(read_inputs({}), workspace=tmp_path)
    assert merged.from_file == frozenset()
    assert merged.config_file is not None


@pytest.mark.parametrize(
    ("named", "words"),
    [
        ("missing.yml", ["not a file", "check out"]),
        ("/etc/passwd", ["not relative"]),
        ("../outside.yml", ["outside the workspace"]),
        (".github", ["not a file"]),
    ],
)
def test_named_file_problems(tmp_path: Path, named: str, words: list[str]) -> None:
    workspace = tmp_path / "ws"
    (workspace / ".github").mkdir(parents=True)
    (tmp_path / "outside.yml").write_text("app-name: X\n")
    with pytest.raises(ConfigError) as caught:
        merge_config_file(read_inputs({"INPUT_CONFIG-FILE": named}), workspace=workspace)
    assert caught.value.input_name == "config-file"
    for word in words:
        assert word in caught.value.message


def test_default_file_symlinked_outside_is_refused(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / ".github").mkdir(parents=True)
    secret = tmp_path / "elsewhere.yml"
    secret.write_text("app-name: X\n")
    (workspace / ".github/capwrapper.yml").symlink_to(secret)
    with pytest.raises(ConfigError, match="outside the workspace"):
        merge_config_file(read_inputs({}), workspace=workspace)


def test_unreadable_and_oversized_and_binary_files(tmp_path: Path) -> None:
    path = _write(tmp_path, "a" * (256 * 1024 + 1))
    with pytest.raises(ConfigError, match="larger than 256 KiB"):
        merge_config_file(read_inputs({}), workspace=tmp_path)
    path.write_bytes(b"app-name: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        merge_config_file(read_inputs({}), workspace=tmp_path)
    path.unlink()
    path.mkdir()  # a folder where the default file would be: no file, nothing read
    assert merge_config_file(read_inputs({}), workspace=tmp_path).config_file is None


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.text(max_size=120),
        st.text(alphabet="-:,.[]{}&*!|>\"' \n\tabpv0123_", max_size=80).map(lambda t: "a" + t),
        st.dictionaries(st.sampled_from(INPUT_NAMES), st.text(max_size=10), max_size=4).map(str),
    )
)
def test_any_config_file_text_merges_or_is_a_config_error(tmp_path: Path, text: str) -> None:
    _write(tmp_path, text)
    try:
        merged = merge_config_file(read_inputs({}), workspace=tmp_path)
    except ConfigError:
        return
    assert set(merged.values) == set(INPUT_NAMES)
    with contextlib.suppress(ConfigError):
        _parse_with_file(tmp_path, {})
