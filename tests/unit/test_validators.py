"""Every validator, table-driven: good values and what they become, bad values and the words
their message must hold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from capwrapper_action.config import lists as C
from capwrapper_action.config import paths as P
from capwrapper_action.config import urls as U
from capwrapper_action.config import values as V
from capwrapper_action.config.inputs import BY_NAME
from capwrapper_action.errors import ConfigError
from capwrapper_action.release.semver import Bump

SECRET = "sk_live_TOPSECRET123"


def _fails(parse: Callable[[], object], input_name: str, *words: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse()
    err = BY_NAME[input_name].explain(caught.value)  # as the input table reports it
    assert err.input_name == input_name
    assert err.message.startswith(f"Input '{input_name}': ")
    assert err.example, "every error gives an example of a right value"
    for word in words:
        assert word in err.message, (word, err.message)
    return err


# --- check_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "multiline", "words"),
    [
        ("Shop\nX", False, ["line break", "U+000A", "position 5", '"Shop\\nX"']),
        ("Shop\rX", False, ["line break", "U+000D"]),
        ("Shop\u2028X", False, ["line break", "U+2028"]),
        ("Shop\x00", False, ["control character", "U+0000"]),
        ("Shop\x1b[31m", False, ["control character", "U+001B", "\\u001b"]),
        ("Shop\x7f", False, ["control character"]),
        ("Shop\tX", False, ["control character", "U+0009"]),
        ("a\x00b", True, ["control character"]),
        ("ab\udcff", False, ["not UTF-8"]),
    ],
)
def test_check_text_refuses_control_characters(
    value: str, multiline: bool, words: list[str]
) -> None:
    _fails(
        lambda: V.check_text("app-name", value, limit=100, multiline=multiline, secret=False),
        "app-name",
        *words,
    )


def test_check_text_allows_tabs_and_line_breaks_in_multiline_inputs() -> None:
    text = "a: 1\r\n\tb: 2\n"
    assert V.check_text("build-options", text, limit=100, multiline=True, secret=False) == text


def test_check_text_refuses_absurd_sizes_without_quoting() -> None:
    err = _fails(
        lambda: V.check_text("app-name", "x" * 5000, limit=4096, multiline=False, secret=False),
        "app-name",
        "5,000 characters",
        "4,096",
    )
    assert "xxxxxxxxxx" not in err.message


def test_check_text_never_quotes_a_secret() -> None:
    err = _fails(
        lambda: V.check_text("api-key", SECRET + "\n1", limit=100, multiline=False, secret=True),
        "api-key",
        "line break",
    )
    assert "TOPSECRET" not in str(err)


# --- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["k", SECRET, "abc.DEF-123_456=="])
def test_api_key_good(key: str) -> None:
    assert V.api_key(key, empty_problem="x") == key


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", ["is empty because"]),
        (f"Bearer {SECRET}", ["Bearer"]),
        (f"{SECRET} extra", ["white space"]),
        (f"{SECRET}é", ["HTTP header"]),
    ],
)
def test_api_key_bad_never_quoted(key: str, words: list[str]) -> None:
    err = _fails(lambda: V.api_key(key, empty_problem="is empty because"), "api-key", *words)
    assert "TOPSECRET" not in str(err)


@pytest.mark.parametrize(
    ("token", "expected"),
    [("", ""), ("ghs_abc123", "ghs_abc123"), ("${{ github.token }}", "")],
)
def test_github_token_good(token: str, expected: str) -> None:
    assert V.github_token(token) == expected


def test_github_token_bad_is_not_quoted() -> None:
    err = _fails(lambda: V.github_token("ghs_TOPSECRET with space"), "github-token", "white")
    assert "TOPSECRET" not in str(err)


# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.capwrapper.com/v1", "https://api.capwrapper.com/v1"),
        ("https://api.capwrapper.com/v1/", "https://api.capwrapper.com/v1"),
        ("https://api.capwrapper.com", "https://api.capwrapper.com"),
        ("https://api.example.com:8443/v1//", "https://api.example.com:8443/v1"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        ("http://127.8.9.10/v1", "http://127.8.9.10/v1"),
        ("http://localhost:9000/v1", "http://localhost:9000/v1"),
        ("http://[::1]:9000/v1", "http://[::1]:9000/v1"),
        ("HTTPS://API.EXAMPLE.COM/v1", "HTTPS://API.EXAMPLE.COM/v1"),
    ],
)
def test_api_url_good(url: str, expected: str) -> None:
    assert U.api_url(url) == expected


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", ["is empty"]),
        ("http://api.capwrapper.com/v1", ["http://", "not this machine"]),
        ("http://10.0.0.5/v1", ["http://"]),
        ("http://localhost.evil.com/v1", ["http://"]),
        ("ftp://api.capwrapper.com/v1", ["https://"]),
        ("api.capwrapper.com/v1", ["host"]),
        ("https:///v1", ["host"]),
        ("https://api.capwrapper.com/v1?key=1", ["query or fragment"]),
        ("https://api.capwrapper.com/v1#x", ["query or fragment"]),
        ("https://api.capwrapper.com/v1?", ["query or fragment"]),
        ("https://api.capwrapper.com:99999/v1", ["not a valid URL"]),
        ("https://api.capwrapper.com/v 1", ["white space"]),
        ("https://api.capwrapper.com\\@evil.com/", ["backslash"]),
        ("https://bad_host!/v1", ["host"]),
        ("https://" + "a" * 3000 + ".com", ["limit is 2,048"]),
    ],
)
def test_api_url_bad(url: str, words: list[str]) -> None:
    _fails(lambda: U.api_url(url), "api-url", *words)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2pass@api.capwrapper.com/v1",
        "https://hunter2pass@api.capwrapper.com/v1",
        "http://user:hunter2pass@127.0.0.1/v1",
    ],
)
def test_api_url_with_credentials_is_refused_without_echoing_them(url: str) -> None:
    err = _fails(lambda: U.api_url(url), "api-url", "credentials", "***@")
    assert "hunter2pass" not in str(err)


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example.com",
        "https://shop.example.com/app/?utm=1#home",
        "https://xn--bcher-kva.example/",
        "https://93.184.216.34/",
        "https://bücher.example/",
    ],
)
def test_app_url_good(url: str) -> None:
    assert U.app_url(url) == url


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", ["is empty"]),
        ("http://shop.example.com", ["https://"]),
        ("shop.example.com", ["host"]),
        ("https://", ["host"]),
        ("https://user:pw@shop.example.com", ["credentials"]),
        ("https://shop.example.com/a b", ["white space"]),
        ("https://localhost:3000", ["private", "public"]),
        ("https://127.0.0.1", ["private"]),
        ("https://192.168.1.20/app", ["private"]),
        ("javascript:alert(1)", ["https://"]),
    ],
)
def test_app_url_bad(url: str, words: list[str]) -> None:
    _fails(lambda: U.app_url(url), "app-url", *words)


# --- names and versions ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Example Shop", "Ünïcode Café ☕", "x", "A" * 100])
def test_app_name_good(name: str) -> None:
    assert V.app_name(name) == name


@pytest.mark.parametrize(
    ("name", "words"), [("", ["is empty"]), ("A" * 101, ["101 characters", "100"])]
)
def test_app_name_bad(name: str, words: list[str]) -> None:
    _fails(lambda: V.app_name(name), "app-name", *words)


@pytest.mark.parametrize(
    "bundle",
    [
        "com.example.shop",
        "com.example",
        "io.my_company.app2",
        "com.my-company.shop",
        "Com.Example.Shop",
        "a.b",
        "com." + "a" * 151,
    ],
)
def test_bundle_id_good(bundle: str) -> None:
    assert V.bundle_id(bundle) == bundle


@pytest.mark.parametrize(
    ("bundle", "words"),
    [
        ("", ["is empty"]),
        ("shop", ['"shop" is not a reverse-domain id', "two parts"]),
        ("com..shop", ["empty part"]),
        (".com.shop", ["empty part"]),
        ("com.shop.", ["empty part"]),
        ("com.1shop", ['"1shop"', "start with a letter"]),
        ("com.example.my shop", ["my shop"]),
        ("com.example.shop!", ["letters, digits"]),
        ("com.exämple.shop", ["letters, digits"]),
        ("com/example/shop", ["two parts"]),
        ("com." + "a" * 152, ["156 characters", "155"]),
    ],
)
def test_bundle_id_bad(bundle: str, words: list[str]) -> None:
    _fails(lambda: V.bundle_id(bundle), "bundle-id", *words)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.4.0", "1.4.0"),
        ("0.0.1", "0.0.1"),
        ("10.20.30-rc.1+build.5", "10.20.30-rc.1+build.5"),
        ("auto", "auto"),
        ("AUTO", "auto"),
    ],
)
def test_version_good(text: str, expected: str) -> None:
    assert str(V.version(text)) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["is empty"]),
        ("v1.4.0", ["not a semantic version", "leading 'v'"]),
        ("1.4", ["all three numbers"]),
        ("1", ["all three numbers"]),
        ("01.4.0", ["not a semantic version"]),
        ("1.4.0.1", ["not a semantic version"]),
        ("latest", ['"latest"']),
        ("1.4.0-", ["not a semantic version"]),
    ],
)
def test_version_bad(text: str, words: list[str]) -> None:
    _fails(lambda: V.version(text), "version", *words)


@pytest.mark.parametrize(("text", "expected"), [("patch", "patch"), ("Minor", "minor")])
def test_version_bump_good(text: str, expected: str) -> None:
    assert V.one_of("version-bump", Bump, text) == expected


@pytest.mark.parametrize("text", ["", "micro", "build", "1"])
def test_version_bump_bad(text: str) -> None:
    _fails(lambda: V.one_of("version-bump", Bump, text), "version-bump", "patch, minor, major")


# --- lists -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("android, ios", ("android", "ios")),
        ("ios android", ("ios", "android")),
        ("android\nios", ("android", "ios")),
        ("Android,IOS", ("android", "ios")),
        ("  ios  ", ("ios",)),
        ("[android, ios]", ("android", "ios")),
        ("- ios\n- android", ("ios", "android")),
    ],
)
def test_platforms_good(text: str, expected: tuple[str, ...]) -> None:
    assert C.platforms(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["is empty"]),
        (" , ", ["is empty"]),
        ("windows", ['"windows" is not a platform']),
        ("android, iphone", ['"iphone"']),
        ("android, android", ["android more than once"]),
        ("ios, IOS", ["ios more than once"]),
        ("[android, {a: 1}]", ["not a list of plain words"]),
        ("[android, ios", ["not a valid YAML list"]),
    ],
)
def test_platforms_bad(text: str, words: list[str]) -> None:
    _fails(lambda: C.platforms(text), "platforms", *words)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("[]", None),
        ("camera", ("camera",)),
        ("camera, gps,notifications", ("camera", "gps", "notifications")),
        ("camera\ngps", ("camera", "gps")),
        ("[camera, gps]", ("camera", "gps")),
        ("- camera\n- gps", ("camera", "gps")),
        ("push_notifications background-fetch", ("push_notifications", "background-fetch")),
    ],
)
def test_permissions_good(text: str, expected: tuple[str, ...] | None) -> None:
    assert C.permissions(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("camera, 1gps", ['"1gps"', "not a permission name"]),
        ("camera;gps", ['"camera;gps"']),
        ("camera, camera", ['"camera" more than once']),
        ("[camera, [gps]]", ["not a list of plain words"]),
        ("[camera, true]", ["not a list of plain words"]),
        ("- camera\n  - gps: x", ["YAML"]),
        (", ".join(f"p{i}" for i in range(65)), ["65 permissions", "64"]),
        ("a" * 65, ["not a permission name"]),
    ],
)
def test_permissions_bad(text: str, words: list[str]) -> None:
    _fails(lambda: C.permissions(text), "permissions", *words)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("deploy", ("deploy",)),
        ("deploy, release now", ("deploy", "release now")),
        ("deploy\nship it\n", ("deploy", "ship it")),
        ("deploy, deploy,release", ("deploy", "release")),
        ("🚀 ship", ("🚀 ship",)),
    ],
)
def test_deploy_labels_good(text: str, expected: tuple[str, ...]) -> None:
    assert C.deploy_labels(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("deploy, " + "x" * 51, ["51 characters", "at most 50"]),
        (",".join(f"l{i}" for i in range(65)), ["65 labels"]),
    ],
)
def test_deploy_labels_bad(text: str, words: list[str]) -> None:
    _fails(lambda: C.deploy_labels(text), "deploy-labels", *words)


# --- mappings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("   ", {}),
        ('{"orientation": "portrait"}', {"orientation": "portrait"}),
        (
            "orientation: portrait\nsplash:\n  color: '#fff'",
            {"orientation": "portrait", "splash": {"color": "#fff"}},
        ),
        ("{}", {}),
        (
            "released: 2024-05-01\nratio: 0.5\nn: null",
            {"released": "2024-05-01", "ratio": 0.5, "n": None},
        ),
        ('{"urlScheme": "shop", "versionCode": 7}', {"urlScheme": "shop", "versionCode": 7}),
    ],
)
def test_build_options_good(text: str, expected: dict[str, Any]) -> None:
    result = C.options("build-options", text, reserved=C.BUILD_RESERVED)
    assert dict(result) == expected


def test_options_are_read_only() -> None:
    result = C.options("build-options", "a: 1", reserved=C.BUILD_RESERVED)
    with pytest.raises(TypeError):
        result["a"] = 2  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[1, 2]", ["mapping", "not a list"]),
        ("just text", ["mapping", '"just text"']),
        ("42", ["mapping"]),
        ('{"a": 1', ["not a valid YAML or JSON mapping", "line"]),
        ("a: [1, 2", ["not a valid YAML or JSON mapping"]),
        ("a: 1\na: 2", ["appears twice"]),
        ("base: &b {x: 1}\nother: *b", ["aliases"]),
        ("a: .nan", [".nan"]),
        ("1: one", ["not text"]),
        ("a: !!binary aGVsbG8=", ["bytes"]),
        ("a: !!python/object:os.system {}", ["not a valid YAML"]),
        ("a: " + "[" * 5000 + "]" * 5000, ["nested"]),
        ("url: https://other.example.com", ['sets "url"', "'app-url'"]),
        ('{"appName": "X"}', ['"appName"', "'app-name'"]),
        ("bundleId: com.x.y", ["'bundle-id'"]),
        ("version: 9.9.9", ["'version'"]),
        ("platform: ios", ["'platforms'"]),
        ("permissions: [camera]", ["'permissions'"]),
        ("URL: https://x.example.com", ['"URL"']),
        ("a: " + "x" * 70000, ["bytes long", "65,536"]),
    ],
)
def test_build_options_bad(text: str, words: list[str]) -> None:
    _fails(
        lambda: C.options("build-options", text, reserved=C.BUILD_RESERVED),
        "build-options",
        *words,
    )


def test_deploy_options() -> None:
    good = C.options("deploy-options", "track: internal\nrollout: 0.1", reserved=C.DEPLOY_RESERVED)
    assert dict(good) == {"track": "internal", "rollout": 0.1}
    _fails(
        lambda: C.options("deploy-options", '{"buildId": "bld_x"}', reserved=C.DEPLOY_RESERVED),
        "deploy-options",
        '"buildId"',
        "'build-id'",
    )


# --- build ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("bld_abc123", (("bld_abc123", None),)),
        ("android:bld_a, ios:bld_b", (("bld_a", "android"), ("bld_b", "ios"))),
        ("ios: bld_b\nandroid : bld_a", (("bld_b", "ios"), ("bld_a", "android"))),
        ("IOS:bld-1", (("bld-1", "ios"),)),
        ("x" * 128, (("x" * 128, None),)),
    ],
)
def test_build_id_good(text: str, expected: tuple[tuple[str, str | None], ...]) -> None:
    assert tuple((ref.build_id, ref.platform) for ref in C.build_id(text)) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("windows:bld_a", ['"windows" is not a platform']),
        ("android:bld_a, android:bld_b", ["more than once"]),
        ("android:bld_a, ios:bld_a", ["same build id"]),
        ("bld_a, bld_b", ["one per platform"]),
        ("bld_a, ios:bld_b", ["one per platform"]),
        ("bld/../../x", ["not a build id"]),
        ("bld_a?x=1", ["not a build id"]),
        ("android:", ['""', "not a build id"]),
        ("x" * 129, ["not a build id"]),
        ("android:ios:bld", ["not a build id"]),
    ],
)
def test_build_id_bad(text: str, words: list[str]) -> None:
    _fails(lambda: C.build_id(text), "build-id", *words)


# --- booleans, durations, paths --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
    ],
)
def test_boolean_good(text: str, expected: bool) -> None:
    assert V.boolean("wait", text) is expected


@pytest.mark.parametrize("text", ["", "yes", "no", "on", "off", "1", "0", "tRue", "y", "truee"])
def test_boolean_bad(text: str) -> None:
    _fails(lambda: V.boolean("deploy", text), "deploy", "true or false")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1800", 1800.0),
        ("2.5", 2.5),
        ("90s", 90.0),
        ("45m", 2700.0),
        ("1h30m", 5400.0),
        ("2h", 7200.0),
        ("1h 30m 15s", 5415.0),
        ("1H30M", 5400.0),
        ("1.5h", 5400.0),
        ("6h", 21600.0),
    ],
)
def test_duration_good(text: str, seconds: float) -> None:
    assert V.duration("timeout", text) == seconds


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["is empty"]),
        ("-5", ["negative"]),
        ("-1h", ["negative"]),
        ("0", ["more than 0"]),
        ("0s", ["more than 0"]),
        ("7h", ["more than 6h"]),
        ("21601", ["more than 6h"]),
        ("1d", ["not a duration"]),
        ("30 minutes", ["not a duration"]),
        ("500ms", ["not a duration"]),
        ("30m1h", ["not a duration"]),
        ("inf", ["not a duration"]),
        ("nan", ["not a duration"]),
        ("1e3", ["not a duration"]),
        ("h", ["not a duration"]),
    ],
)
def test_duration_bad(text: str, words: list[str]) -> None:
    _fails(lambda: V.duration("timeout", text), "timeout", *words)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("auto", None),
        ("AUTO", None),
        ("15", 15.0),
        ("1", 1.0),
        ("600", 600.0),
        ("2m", 120.0),
        ("7.5", 7.5),
    ],
)
def test_poll_interval_good(text: str, expected: float | None) -> None:
    assert V.poll_interval(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["is empty"]),
        ("0.5", ["1 to 600"]),
        ("601", ["1 to 600"]),
        ("11m", ["1 to 600"]),
        ("-1", ["negative"]),
        ("fast", ["not a duration"]),
    ],
)
def test_poll_interval_bad(text: str, words: list[str]) -> None:
    _fails(lambda: V.poll_interval(text), "poll-interval", *words)


@pytest.mark.parametrize(
    ("text", "relative"),
    [
        ("capwrapper-artifacts", "capwrapper-artifacts"),
        ("out/apps", "out/apps"),
        ("./out/../apps", "apps"),
        (".", "."),
    ],
)
def test_download_path_good(tmp_path: Path, text: str, relative: str) -> None:
    result = P.workspace_path("download-path", text, workspace=tmp_path)
    assert result == (tmp_path / relative).resolve()
    assert result.is_absolute()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["is empty"]),
        ("/tmp/out", ["not relative", "/github/workspace"]),
        ("/home/runner/work/repo/repo/out", ["not relative"]),
        ("~/out", ["not relative"]),
        ("C:\\out", ["not relative"]),
        ("../out", ["outside the workspace"]),
        ("a/../../out", ["outside the workspace"]),
        ("out\x00", ["not a usable path"]),
    ],
)
def test_download_path_bad(tmp_path: Path, text: str, words: list[str]) -> None:
    _fails(
        lambda: P.workspace_path("download-path", text, workspace=tmp_path),
        "download-path",
        *words,
    )


def test_download_path_through_a_symlink_leading_out_is_refused(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "link").symlink_to(tmp_path)
    _fails(
        lambda: P.workspace_path("download-path", "link/out", workspace=workspace),
        "download-path",
        "outside",
    )


def test_examples_cover_every_input_and_are_valid_where_checkable() -> None:
    examples = {name: spec.example for name, spec in BY_NAME.items()}
    assert all(examples.values())
    assert U.api_url(examples["api-url"])
    assert U.app_url(examples["app-url"])
    assert V.bundle_id(examples["bundle-id"])
    assert C.platforms(examples["platforms"])
    assert C.permissions(examples["permissions"])
    assert C.deploy_labels(examples["deploy-labels"])
    assert C.options("deploy-options", examples["deploy-options"], reserved=C.DEPLOY_RESERVED)
