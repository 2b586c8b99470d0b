"""Secrets on every path (issue 6), in process: the whole action runs against a loopback API that
echoes the key it is sent back in its answers, on a virtual clock (retries and waits cost no
time), with step debug off and on. After each run the API key and the GitHub token must be
masked on the first lines and then appear nowhere: not in stdout or stderr, not in any file the
runner reads (tests/leaks.py), not even as a prefix cut off by some length limit."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from capwrapper_action.errors import ActionError
from capwrapper_action.main import run
from capwrapper_action.release import pipeline
from capwrapper_simulator import SimConfig, Simulator
from tests.echo_api import Answer, EchoApi, Responder, always, builds_api, json_answer
from tests.github_standin import GitHubStandin
from tests.leaks import assert_no_leaks
from tests.runner_files import RunnerEnv
from tests.virtual_clock import VirtualClock

KEY = "cwk_live_Q7vX2mZ9pL4sR8tNw3Yb"
WRONG_KEY = "wrk_test_H5cJ8nB2vK6xD1zF"
# Every character Markdown, HTML, JSON or a URL would escape (all of it fit for a header).
PUNCTUATED_KEY = 'pk_9Q"x\\Zr|a*Tb<c>&Kd%e~www.Mf[g]Ph'
TOKEN = "ghs_T0k3nJ5hW8dK2fM6gP9qR"
DEBUG = pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])


@pytest.fixture
def github() -> Iterator[GitHubStandin]:
    with GitHubStandin() as standin:
        standin.add_token(TOKEN)
        yield standin


@dataclass
class Outcome:
    code: int
    stdout: str  # after the mask lines
    runner: RunnerEnv

    @property
    def outputs(self) -> dict[str, str]:
        return self.runner.outputs()


class Harness:
    """Runs the action in process with the runner's files under ``tmp_path``."""

    def __init__(self, tmp_path: Path, capfd: pytest.CaptureFixture[str], github_url: str):
        self.tmp_path = tmp_path
        self.capfd = capfd
        self.github_url = github_url
        self.runs = 0

    def __call__(
        self,
        api_url: str,
        *,
        debug: bool,
        key: str = KEY,
        session: requests.Session | None = None,
        github_url: str | None = None,
        more: dict[str, str] | None = None,
        **extra: str,
    ) -> Outcome:
        self.runs += 1
        runner = RunnerEnv(self.tmp_path / f"run{self.runs}", api_url=github_url or self.github_url)
        runner.env["RUNNER_DEBUG"] = "1" if debug else "0"
        out = io.StringIO()
        self.capfd.readouterr()
        code = run(
            runner.with_inputs(inputs(api_url, key, **extra, **(more or {}))),
            stdout=out,
            clock=VirtualClock(wall_start=datetime.now(UTC)),
            session=session,
        )
        stderr = self.capfd.readouterr().err
        rest = assert_no_leaks(out.getvalue(), stderr, runner, [key, TOKEN], debug=debug)
        return Outcome(code, rest, runner)


@pytest.fixture
def action(tmp_path: Path, capfd: pytest.CaptureFixture[str], github: GitHubStandin) -> Harness:
    return Harness(tmp_path, capfd, github.url)


def inputs(api_url: str, key: str = KEY, **extra: str) -> dict[str, str]:
    given = {
        "api-key": key,
        "api-url": api_url,
        "app-url": "https://shop.example.com",
        "app-name": "Example Shop",
        "bundle-id": "com.example.shop",
        "version": "1.4.0",
        "github-token": TOKEN,
    }
    given.update({k.replace("_", "-"): v for k, v in extra.items()})
    return given


# --- answers that echo the key ------------------------------------------------------------------

ECHO = "The request carried Bearer {key}; key {key} is refused."
DOWNLOAD_URL = "{origin}/files/{key}/shop-{key}.apk?token={key}&sig=s1"


def _echo_error(status: int, **headers: str) -> Responder:
    return always(json_answer(status, {"error": "echo", "message": ECHO, "key": "{key}"}, headers))


def _nested(value: object, depth: int) -> object:
    for _ in range(depth):
        value = [value]
    return value


@dataclass(frozen=True)
class Scenario:
    id: str
    responder: Responder
    inputs: dict[str, str]
    code: int
    status: str


SCENARIOS = [
    Scenario(
        "success, key in messages and download URLs",
        builds_api(downloadUrl=DOWNLOAD_URL, message=ECHO, note="{key}"),
        {"download": "true", "summary-download-links": "true"},
        0,
        "success",
    ),
    Scenario(
        "build failed with the key in its error",
        builds_api(status="failed", error=ECHO),
        {},
        1,
        "failed",
    ),
    Scenario(
        "build error cut at a length limit inside the key",
        builds_api(status="failed", error="x" * 1990 + "{key}"),
        {},
        1,
        "failed",
    ),
    Scenario("400", _echo_error(400), {}, 1, "failed"),
    Scenario("403", _echo_error(403), {}, 1, "failed"),
    Scenario("404 on resume", _echo_error(404), {"build-id": "android:bld_unknown"}, 1, "failed"),
    Scenario(
        "429 until the retry budget is spent",
        _echo_error(429, **{"Retry-After": "0"}),
        {},
        1,
        "failed",
    ),
    Scenario("500 with JSON", _echo_error(500), {}, 1, "failed"),
    Scenario(
        "502 with an HTML page",
        always(
            Answer(502, f"<html><body><h1>Bad Gateway</h1><p>{ECHO}</p></body></html>", "text/html")
        ),
        {},
        1,
        "failed",
    ),
    Scenario(
        "503 with plain text",
        always(Answer(503, ECHO, "text/plain")),
        {},
        1,
        "failed",
    ),
    Scenario(
        "200 that is not JSON",
        always(Answer(200, ECHO, "text/plain")),
        {},
        1,
        "failed",
    ),
    Scenario(
        "302 to an address holding the key",
        always(Answer(302, "", headers={"Location": "http://localhost:9/v1/{key}?k={key}"})),
        {},
        1,
        "failed",
    ),
    Scenario(
        "the key deep inside an answer",
        builds_api(deep=[[[[{"k": "{key}"}]]]] * 2, nested=_nested("{key}", 700)),
        {},
        0,
        "success",
    ),
    Scenario(
        "timeout while building",
        builds_api(status="building", completedAt=None, message=ECHO),
        {"timeout": "3m"},
        1,
        "timed_out",
    ),
]


@DEBUG
@pytest.mark.parametrize("key", [KEY, PUNCTUATED_KEY], ids=["plain-key", "punctuated-key"])
@pytest.mark.parametrize("case", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_echoed_key_never_shows(case: Scenario, key: str, debug: bool, action: Harness) -> None:
    with EchoApi(case.responder) as api:
        outcome = action(api.base_url, debug=debug, key=key, more=case.inputs)
        assert api.requests, "the API was never asked"
        assert {s.authorization for s in api.requests if s.path.startswith("/v1/")} == {
            f"Bearer {key}"
        }
        assert all(s.authorization is None for s in api.requests if s.path.startswith("/files/"))
    assert outcome.code == case.code, outcome.stdout[-3000:]
    assert outcome.outputs["status"] == case.status, outcome.stdout[-3000:]


@DEBUG
def test_success_shows_masked_links_and_uses_the_token(
    debug: bool, action: Harness, github: GitHubStandin
) -> None:
    with EchoApi(builds_api(downloadUrl=DOWNLOAD_URL)) as api:
        outcome = action(api.base_url, debug=debug, download="true", summary_download_links="true")
    assert outcome.code == 0, outcome.stdout[-3000:]
    assert outcome.outputs["android-download-url"].startswith(api.origin + "/files/***/")
    assert "***" in outcome.runner.summary_text()
    assert [r.authorization for r in github.requests][:1] in (["token"], ["Bearer"])
    assert (outcome.runner.workspace / "capwrapper-artifacts").is_dir()


@DEBUG
def test_wrong_key_echoed_back_by_a_401(debug: bool, action: Harness) -> None:
    with EchoApi(_echo_error(401)) as api:
        outcome = action(api.base_url, debug=debug, key=WRONG_KEY)
    assert outcome.code == 1
    assert "Invalid or missing API key" in outcome.stdout or "401" in outcome.stdout
    assert outcome.outputs["status"] == "failed"


@DEBUG
def test_wrong_key_against_the_simulator(debug: bool, action: Harness) -> None:
    with Simulator(SimConfig(api_keys=frozenset({KEY}))) as sim:
        outcome = action(sim.base_url, debug=debug, key=WRONG_KEY)
        assert sim.created_count() == 0
    assert outcome.code == 1
    assert "401" in outcome.stdout


@DEBUG
def test_unknown_build_id_against_the_simulator(debug: bool, action: Harness) -> None:
    with Simulator(SimConfig(api_keys=frozenset({KEY}))) as sim:
        outcome = action(sim.base_url, debug=debug, build_id="ios:bld_doesnotexist")
    assert outcome.code == 1
    assert "404" in outcome.stdout


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@DEBUG
def test_network_error(debug: bool, action: Harness) -> None:
    outcome = action(f"http://127.0.0.1:{_closed_port()}/v1", debug=debug)
    assert outcome.code == 1
    assert "could not connect" in outcome.outputs["error"]


class _Raising(BaseAdapter):
    """A transport whose every request fails with the key in the exception's text."""

    def __init__(self, make: Callable[[str], requests.RequestException]) -> None:
        super().__init__()
        self.make = make

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        raise self.make(f"{request.url} with {request.headers.get('Authorization')}")

    def close(self) -> None:
        pass


@DEBUG
@pytest.mark.parametrize(
    "make",
    [
        requests.ReadTimeout,
        requests.ConnectTimeout,
        requests.ConnectionError,
        requests.exceptions.SSLError,
        requests.exceptions.InvalidHeader,
    ],
    ids=lambda cls: cls.__name__,
)
def test_transport_errors_holding_the_key(
    debug: bool, make: Callable[[str], requests.RequestException], action: Harness
) -> None:
    session = requests.Session()
    session.mount("http://", _Raising(make))
    outcome = action("http://127.0.0.1:9/v1", debug=debug, session=session)
    assert outcome.code == 1
    assert outcome.outputs["status"] == "failed"


@DEBUG
@pytest.mark.parametrize("where", ["short", "cut inside the key"])
def test_unexpected_exception(
    debug: bool, where: str, action: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = f"boom {KEY}" if where == "short" else "x" * 488 + KEY

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(text)

    monkeypatch.setattr(pipeline, "create_builds", explode)
    with EchoApi(builds_api()) as api:
        outcome = action(api.base_url, debug=debug)
    assert outcome.code == 1
    assert "Unexpected RuntimeError" in outcome.stdout
    assert outcome.outputs["status"] == "failed"
    if debug:
        assert "::debug::Traceback" in outcome.stdout
        assert "in explode" in outcome.stdout
    if where == "short":
        assert "boom ***" in outcome.stdout


@DEBUG
@pytest.mark.parametrize("key", [KEY, PUNCTUATED_KEY], ids=["plain-key", "punctuated-key"])
def test_an_action_error_holding_the_key_is_scrubbed_everywhere(
    debug: bool, key: str, action: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that forgot to scrub: the key must not survive the summary's Markdown escaping
    (`_` shown as `\\_`) nor the JSON and text outputs."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ActionError(f"Refused `{key}`", hint=f"Try *{key}* again", title=f"Key {key}")

    monkeypatch.setattr(pipeline, "create_builds", refuse)
    with EchoApi(builds_api()) as api:
        outcome = action(api.base_url, debug=debug, key=key)
    assert outcome.code == 1
    assert "Refused `***`" in outcome.outputs["error"]
    assert "***" in outcome.runner.summary_text()


@DEBUG
def test_github_api_echoing_the_token(debug: bool, action: Harness) -> None:
    """The GitHub API (here a stand-in that echoes the token in every answer) is asked for the
    pull request of the commit; its answers must not bring the token into any message."""
    with EchoApi(builds_api()) as api, EchoApi(_echo_error(401)) as github:
        outcome = action(
            api.base_url, debug=debug, github_url=github.origin, deploy="true", deploy_labels="ship"
        )
        assert [s.authorization for s in github.requests][:1] == [f"token {TOKEN}"]
    # The labels could not be read: the gate fails the step rather than decide blind.
    assert outcome.code == 1, outcome.stdout[-3000:]
    assert "Cannot read the pull request labels" in outcome.stdout
    assert "401" in outcome.stdout
