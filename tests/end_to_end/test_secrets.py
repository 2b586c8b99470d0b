"""Secrets on every path (issue 6), as GitHub runs the action: `entrypoint.py` in the mirrored
image, in its own process, with the runner's files. Each run, with step debug off and on, must
mask the API key and the GitHub token on its first lines and then show no piece of either in
stdout, stderr or any file the runner reads (tests/leaks.py), and exit 1 where it fails.

Paths that only retry slowly in real time (429 until the budget is spent, a closed port) and the
unexpected exception (which needs a patched phase) run in process instead, on a virtual clock:
tests/integration/test_secrets_paths.py."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from capwrapper_simulator import Fault, SimConfig, Simulator
from tests.echo_api import Answer, EchoApi, Responder, Seen, builds_api, json_answer
from tests.end_to_end.docker_mirror import ActionImage
from tests.github_standin import GitHubStandin
from tests.leaks import assert_no_leaks
from tests.runner_files import RunnerEnv

KEY = "cwk_live_Q7vX2mZ9pL4sR8tNw3Yb"
WRONG_KEY = "wrk_test_H5cJ8nB2vK6xD1zF"
TOKEN = "ghs_T0k3nJ5hW8dK2fM6gP9qR"
ECHO = "The request carried Bearer {key}; key {key} is refused."
DEBUG = pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])


@pytest.fixture
def github() -> Iterator[GitHubStandin]:
    with GitHubStandin() as standin:
        standin.add_token(TOKEN)
        yield standin


@pytest.fixture
def runner(runner_env: RunnerEnv, github: GitHubStandin) -> RunnerEnv:
    """The runner's environment, its GitHub API the stand-in that knows TOKEN."""
    runner_env.env["GITHUB_API_URL"] = github.url
    return runner_env


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(api_keys=frozenset({KEY}), queue_seconds=0, build_seconds=0)) as s:
        yield s


def inputs(api_url: str, key: str = KEY, **extra: str) -> dict[str, str]:
    given = {
        "api-key": key,
        "api-url": api_url,
        "app-url": "https://shop.example.com",
        "app-name": "Example Shop",
        "bundle-id": "com.example.shop",
        "version": "1.4.0",
        "poll-interval": "1",
        "github-token": TOKEN,
    }
    given.update({k.replace("_", "-"): v for k, v in extra.items()})
    return given


@dataclass
class Ran:
    code: int
    log: str  # stdout after the mask lines, then stderr
    runner: RunnerEnv

    @property
    def outputs(self) -> dict[str, str]:
        return self.runner.outputs()


def check(stdout: str, stderr: str, code: int, runner: RunnerEnv, key: str, debug: bool) -> Ran:
    rest = assert_no_leaks(stdout, stderr, runner, [key, TOKEN], debug=debug)
    return Ran(code, rest + "\n" + stderr, runner)


def run_action(image: ActionImage, runner: RunnerEnv, given: dict[str, str], *, debug: bool) -> Ran:
    runner.env["RUNNER_DEBUG"] = "1" if debug else "0"
    proc = image.run(runner.with_inputs(given), runner.workspace, timeout=30)
    return check(proc.stdout, proc.stderr, proc.returncode, runner, given["api-key"], debug)


def with_deploys(builds: Responder, deploy: Answer) -> Responder:
    """``builds`` for the build routes, ``deploy`` for POST /deploys."""

    def answer(seen: Seen) -> Answer:
        return deploy if seen.path == "/v1/deploys" else builds(seen)

    return answer


# --- the simulator's own answers --------------------------------------------------------------


@DEBUG
def test_success(
    debug: bool, action_image: ActionImage, runner: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    ran = run_action(action_image, runner, inputs(sim.base_url), debug=debug)
    assert ran.code == 0, ran.log
    assert ran.outputs["status"] == "success"
    assert github.requests, "the token was never used"
    if debug:
        assert "::debug::" in ran.log


@DEBUG
def test_400(debug: bool, action_image: ActionImage, runner: RunnerEnv, sim: Simulator) -> None:
    for platform in ("android", "ios"):
        sim.seed_build(platform=platform, bundle_id="com.example.shop", version="2.0.0")
    # A list the pre-flight cannot read: the create goes out, and the API's 400 comes back.
    sim.faults.add(Fault(endpoint="list_builds", kind="http_error", status=404, times=None))
    ran = run_action(action_image, runner, inputs(sim.base_url), debug=debug)
    assert ran.code == 1
    assert "must be higher" in ran.outputs["error"]


@DEBUG
def test_401_wrong_key(
    debug: bool, action_image: ActionImage, runner: RunnerEnv, sim: Simulator
) -> None:
    ran = run_action(action_image, runner, inputs(sim.base_url, WRONG_KEY), debug=debug)
    assert ran.code == 1
    assert "401" in ran.outputs["error"]
    assert sim.created_count() == 0


@DEBUG
def test_404_resume_unknown_build(
    debug: bool, action_image: ActionImage, runner: RunnerEnv, sim: Simulator
) -> None:
    given = inputs(sim.base_url, build_id="android:bld_doesnotexist")
    ran = run_action(action_image, runner, given, debug=debug)
    assert ran.code == 1
    assert "404" in ran.outputs["error"]


# --- a server that echoes the key -------------------------------------------------------------


@DEBUG
def test_key_echoed_in_download_urls_and_messages(
    debug: bool, action_image: ActionImage, runner: RunnerEnv
) -> None:
    url = "{origin}/files/{key}/shop.apk?token={key}"
    with EchoApi(builds_api(downloadUrl=url, message=ECHO)) as api:
        given = inputs(api.base_url, download="true", summary_download_links="true")
        ran = run_action(action_image, runner, given, debug=debug)
    assert ran.code == 0, ran.log
    assert ran.outputs["android-download-url"].startswith(f"{api.origin}/files/***/")


@DEBUG
def test_key_echoed_in_a_build_error(
    debug: bool, action_image: ActionImage, runner: RunnerEnv
) -> None:
    with EchoApi(builds_api(status="failed", error=ECHO)) as api:
        ran = run_action(action_image, runner, inputs(api.base_url), debug=debug)
    assert ran.code == 1
    assert ran.outputs["status"] == "failed"
    assert "key *** is refused" in ran.log
    assert "key \\*\\*\\* is refused" in runner.summary_text()


@DEBUG
@pytest.mark.parametrize(
    "answer",
    [
        # 500s: a 502/503/504 means "not carried out" and is sent again (the retries are
        # covered in tests/integration/test_fault_matrix.py), a 500 "may have been made"
        Answer(
            500, f"<html><body><h1>500 Internal Error</h1><p>{ECHO}</p></body></html>",
            "text/html",
        ),
        Answer(500, ECHO, "text/plain"),
        json_answer(500, {"error": "internal", "message": ECHO}),
    ],
    ids=["html", "text", "json"],
)
def test_5xx_echoing_the_key(
    debug: bool, answer: Answer, action_image: ActionImage, runner: RunnerEnv
) -> None:
    """A deploy whose answer is a 5xx fails at once (it may have been made), so the echo
    reaches the error, the log and the summary."""
    with EchoApi(with_deploys(builds_api(), answer)) as api:
        ran = run_action(action_image, runner, inputs(api.base_url, deploy="true"), debug=debug)
    assert ran.code == 1
    assert "may or may not have been made" in ran.outputs["error"]
    assert str(answer.status) in ran.outputs["error"]


@DEBUG
def test_timeout(debug: bool, action_image: ActionImage, runner: RunnerEnv) -> None:
    with EchoApi(builds_api(status="building", completedAt=None, message=ECHO)) as api:
        ran = run_action(action_image, runner, inputs(api.base_url, timeout="0.5"), debug=debug)
    assert ran.code == 1
    assert ran.outputs["status"] == "timed_out"


@DEBUG
def test_sigterm(debug: bool, action_image: ActionImage, runner: RunnerEnv) -> None:
    """SIGTERM once the action waits on its builds (its first status check came in): the run
    stops with every secret still masked. How fast it stops is test_action.py's to check;
    here the process gets the test's time, so a busy machine cannot fail it."""
    runner.env["RUNNER_DEBUG"] = "1" if debug else "0"
    deadline = time.monotonic() + 50  # within the suite's 60 s per test
    with EchoApi(builds_api(status="building", completedAt=None, message=ECHO)) as api:
        proc = action_image.popen(runner.with_inputs(inputs(api.base_url)), runner.workspace)
        try:
            while not _polled(api) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert _polled(api), "no status check came in before the action ended or 50 s"
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    ran = check(stdout, stderr, proc.returncode, runner, KEY, debug)
    assert ran.code != 0
    assert ran.outputs["status"] == "cancelled"


def _polled(api: EchoApi) -> bool:
    return any(s.method == "GET" and s.path.startswith("/v1/builds/") for s in api.requests)


# --- forks, URLs and redirects ----------------------------------------------------------------


@DEBUG
def test_empty_key_on_a_fork_pull_request(
    debug: bool, action_image: ActionImage, runner: RunnerEnv
) -> None:
    head = {
        "sha": runner.sha,
        "ref": "patch-1",
        "repo": {"full_name": "stranger/shop-app", "fork": True},
    }
    base = {"sha": "0" * 40, "ref": "main", "repo": {"full_name": runner.repository}}
    runner.set_event(
        "pull_request",
        {
            "action": "opened",
            "number": 7,
            "pull_request": {"number": 7, "head": head, "base": base, "labels": []},
            "repository": {"full_name": runner.repository},
        },
    )
    with EchoApi(builds_api()) as api:
        ran = run_action(action_image, runner, inputs(api.base_url, ""), debug=debug)
        assert api.requests == []
    assert ran.code == 1
    error = ran.outputs["error"]
    assert "api-key" in error
    assert "secrets to workflows triggered from forks" in error
    assert "pull_request_target" in error or "on push" in error


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://api.capwrapper.com/v1", "http://"),
        ("http://192.168.1.20:8080/v1", "http://"),
        (f"https://ci:{KEY}@api.capwrapper.com/v1", "credentials"),
        ("http://user:pa55word@127.0.0.1:9/v1", "credentials"),
    ],
    ids=["public host", "private host", "key as password", "credentials to loopback"],
)
def test_api_url_refused(
    url: str, words: str, action_image: ActionImage, runner: RunnerEnv
) -> None:
    ran = run_action(action_image, runner, inputs(url), debug=False)
    assert ran.code == 1
    assert "api-url" in ran.outputs["error"]
    assert words in ran.outputs["error"]
    assert "pa55word" not in ran.log + ran.runner.summary_text()


def test_a_redirect_never_takes_the_key_to_another_host(
    action_image: ActionImage, runner: RunnerEnv
) -> None:
    """The API answers 302 to a second server, named `localhost`: another host."""
    with EchoApi(builds_api()) as target:
        location = f"http://localhost:{target.port}/v1/builds"
        moved = Answer(302, "", headers={"Location": location})
        with EchoApi(lambda _seen: moved) as api:
            ran = run_action(action_image, runner, inputs(api.base_url), debug=True)
            assert {s.authorization for s in api.requests} == {f"Bearer {KEY}"}
    assert ran.code == 1
    assert target.requests == []
    assert "Redirects are not followed" in ran.outputs["error"]


def test_a_redirected_download_carries_no_authorization(
    action_image: ActionImage, runner: RunnerEnv
) -> None:
    """The download URL answers 302 to another host; neither request carries credentials."""
    with EchoApi(builds_api(), host="localhost") as store:

        def answer(seen: Seen) -> Answer:
            if seen.path.startswith("/files/"):
                return Answer(302, "", headers={"Location": f"{store.origin}{seen.path}"})
            return builds(seen)

        builds = builds_api(downloadUrl="{origin}/files/shop.apk?sig=s1")
        with EchoApi(answer) as api:
            given = inputs(api.base_url, download="true")
            ran = run_action(action_image, runner, given, debug=True)
            downloads = [s for s in api.requests if s.path.startswith("/files/")]
    assert ran.code == 0, ran.log
    assert downloads
    assert store.requests
    assert all(s.authorization is None for s in downloads + store.requests)
    assert (runner.workspace / "capwrapper-artifacts").is_dir()
