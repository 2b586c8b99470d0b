"""The pieces of pipelines that remember: Link-header pages, the commit record's text, the
version history and its checks, deploy wording, the error output, a success without a link."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import github
import pytest
import requests

from capwrapper_action.api.models import Build, Deploy, Platform
from capwrapper_action.api.pages import Page, next_link, parse_page
from capwrapper_action.errors import ActionError, CancelledError, DownloadError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.github.statuses import (
    MAX_DESCRIPTION,
    WITHOUT_RECORD,
    CommitRecord,
    describe,
    parse,
    state_for,
)
from capwrapper_action.release.adopting import settings_fingerprint
from capwrapper_action.release.building import preflight
from capwrapper_action.release.download import download_artifacts
from capwrapper_action.release.fetching import Fetcher
from capwrapper_action.release.history import read_history
from capwrapper_action.report.deploys import describe_deploy
from capwrapper_action.report.outputs import build_outputs
from capwrapper_action.result import PlatformState, RunResult, RunStatus
from capwrapper_action.retry import Retrier
from tests.virtual_clock import VirtualClock

BASE = "https://api.capwrapper.com/v1"
LOG = ActionIO(io.StringIO())


def build(build_id: str, version: str, platform: str = "android",
          bundle: str = "com.example.shop", status: str = "success") -> Build:
    return Build(build_id, status, platform, version, bundle)


# -- Link headers ------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    f'<{BASE}/builds?limit=100&cursor=abc>; rel="next"',
    f'<{BASE}/builds?cursor=first>; rel="first", <{BASE}/builds?limit=100&cursor=abc>; rel=next',
    '</v1/builds?limit=100&cursor=abc>; rel="prev next"',
])
def test_a_link_header_gives_the_next_page(header: str) -> None:
    assert next_link(header, BASE, LOG) == {"limit": "100", "cursor": "abc"}


def test_a_link_to_another_host_is_not_followed() -> None:
    assert next_link('<https://evil.example/builds?cursor=x>; rel="next"', BASE, LOG) is None


def test_the_link_header_wins_over_a_bare_array() -> None:
    page = parse_page([{"id": "bld_1"}], BASE, LOG, link=f'<{BASE}/builds?cursor=z>; rel="next"')
    assert page.next_params == {"cursor": "z"}


# -- the record on the commit -------------------------------------------------------------------


def test_description_round_trip_and_length() -> None:
    state = PlatformState("ios", build=build("bld_abc123", "1.4.0", "ios"))
    state.deploy = Deploy("dep_xyz", "bld_abc123", "queued")
    text = describe(state, "3f9a1c2e")
    assert text == "1.4.0 · build bld_abc123 · deploy dep_xyz · settings 3f9a1c2e"
    record = parse(text)
    assert record is not None
    assert (record.version, record.build_id, record.deploy_id, record.settings) == (
        "1.4.0", "bld_abc123", "dep_xyz", "3f9a1c2e")
    long = PlatformState("ios", build=build("bld_" + "x" * 60, "1.4.0-" + "rc" * 20, "ios"))
    long.deploy = Deploy("dep_" + "y" * 60, "b", None)
    text = describe(long, "3f9a1c2e")
    assert len(text) <= MAX_DESCRIPTION
    assert "build bld_" in text


def test_a_description_naming_no_build_is_no_record() -> None:
    assert parse("Deployed by another tool") is None


@pytest.mark.parametrize(("status", "state"), [
    ("queued", "pending"), ("building", "pending"), ("success", "success"),
    ("failed", "failure"),
])
def test_the_state_follows_the_build(status: str, state: str) -> None:
    assert state_for(PlatformState("android", build=build("b", "1.0.0", status=status))) == state


def test_the_settings_fingerprint_ignores_the_version_only() -> None:
    body = {"url": "https://a.example", "appName": "A", "version": "1.0.0",
            "permissions": ["gps", "camera"]}
    same = {**body, "version": "9.9.9", "permissions": ["camera", "gps"]}
    assert settings_fingerprint(body) == settings_fingerprint(same)
    assert settings_fingerprint(body) != settings_fingerprint({**body, "appName": "B"})


class FakeCommit:
    """PyGithub's ``Commit`` as the record uses it; each call takes the next of ``failures``
    (an exception, or None for an answer)."""

    def __init__(self, *failures: BaseException | None) -> None:
        self.failures = list(failures)
        self.sent: list[tuple[str, str]] = []
        self.calls = 0

    def _next(self) -> None:
        self.calls += 1
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure

    def get_statuses(self) -> list[Any]:
        self._next()
        return []

    def create_status(self, state: str, *, description: str, context: str, **_: Any) -> None:
        self._next()
        self.sent.append((state, description))


def gh_error(status: int) -> github.GithubException:
    return github.GithubException(status, {"message": f"HTTP {status}"}, {})


def commit_record(commit: FakeCommit) -> tuple[CommitRecord, io.StringIO, VirtualClock]:
    out, clock = io.StringIO(), VirtualClock()
    log = ActionIO(out)
    retrier = Retrier(clock, threading.Event(), log)
    record = CommitRecord(lambda: commit, bundle_id="com.example.shop",  # type: ignore[arg-type, return-value]
                          target_url=None, log=log, commit_sha="a" * 40, retrier=retrier)
    return record, out, clock


def android(deploy: str | None = None) -> PlatformState:
    state = PlatformState("android", build=build("bld_1", "1.0.0"))
    state.deploy = Deploy(deploy, "bld_1", "queued") if deploy else None
    return state


def test_a_transient_write_failure_is_retried_through_the_retry_policy() -> None:
    commit = FakeCommit(gh_error(502), requests.ReadTimeout(), None)
    record, out, clock = commit_record(commit)
    record.write(android(), "3f9a1c2e")
    assert commit.sent == [("success", "1.0.0 · build bld_1 · settings 3f9a1c2e")]
    assert "warning:" not in out.getvalue()
    assert out.getvalue().count("Retrying recording android on the commit") == 2
    assert clock.t > 0  # waited in virtual time


def test_a_failed_read_warns_once_and_does_not_turn_the_record_off() -> None:
    # A 502 on the read past PyGithub's quick GET retries: later writes still go out.
    commit = FakeCommit(gh_error(502))
    record, out, _ = commit_record(commit)
    assert record.read(("android",)) == {}
    record.write(android("dep_1"), "3f9a1c2e")
    assert commit.sent == [("success", "1.0.0 · build bld_1 · deploy dep_1 · settings 3f9a1c2e")]
    assert out.getvalue().count("warning: No record on the commit") == 1
    assert "Later changes are still sent" in out.getvalue()


def test_a_status_write_that_keeps_failing_warns_once_and_later_writes_still_go_out() -> None:
    commit = FakeCommit(*[gh_error(503)] * 500)
    record, out, _ = commit_record(commit)
    record.write(android(), "3f9a1c2e")
    assert commit.sent == []
    assert not record.disabled
    calls = commit.calls
    commit.failures = [gh_error(502)]
    record.write(android("dep_1"), "3f9a1c2e")  # tried once (GitHub is known to fail)
    assert commit.calls == calls + 1
    record.write(android("dep_1"), "3f9a1c2e")
    assert commit.sent == [("success", "1.0.0 · build bld_1 · deploy dep_1 · settings 3f9a1c2e")]
    assert out.getvalue().count("warning: No record on the commit") == 1
    assert "Later changes are still sent" in out.getvalue()


@pytest.mark.parametrize("status", [401, 403, 404])
def test_no_permission_turns_the_record_off_after_one_warning(status: int) -> None:
    commit = FakeCommit(gh_error(status))
    record, out, _ = commit_record(commit)
    record.write(android(), "3f9a1c2e")
    record.write(android("dep_1"), "3f9a1c2e")
    assert (commit.calls, record.disabled) == (1, True)
    assert record.read(("android",)) == {}
    assert out.getvalue().count("warning: No record on the commit") == 1


RESET = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1767229200"}  # 01:00 virtual
SECONDARY = {"x-ratelimit-remaining": "4000", "retry-after": "120"}
PRIMARY_TEXT = "the GitHub API rate limit of this token is exhausted"
SECONDARY_TEXT = "GitHub's secondary rate limit was hit"


@pytest.mark.parametrize(("error", "said"), [
    (github.RateLimitExceededException(403, {"message": "API rate limit exceeded"}, RESET),
     f"{PRIMARY_TEXT}. {WITHOUT_RECORD} It resets at 2026-01-01 01:00:00 UTC."),
    (github.GithubException(403, {"message": "Slow down"}, SECONDARY),
     f"{SECONDARY_TEXT}. {WITHOUT_RECORD} It resets at 2026-01-01 00:02:00 UTC."),
    (github.GithubException(429, {"message": "Too many requests"}, SECONDARY),
     f"{SECONDARY_TEXT}. {WITHOUT_RECORD} It resets at 2026-01-01 00:02:00 UTC."),
    (github.GithubException(429, {"message": "Too many requests"}, {}),
     f"{SECONDARY_TEXT}. {WITHOUT_RECORD} GitHub gave no reset time and asks to wait at least "
     "a minute."),
    (github.GithubException(403, {"message": "API rate limit exceeded"},
                            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "\u00b2"}),
     f"{PRIMARY_TEXT}. {WITHOUT_RECORD} GitHub gave no reset time and asks to wait at least "
     "a minute."),
])
def test_a_rate_limited_read_keeps_the_record_on(error: Exception, said: str) -> None:
    commit = FakeCommit(error)
    record, out, _ = commit_record(commit)
    assert record.read(("android",)) == {}
    record.write(android("dep_1"), "3f9a1c2e")
    assert commit.sent == [("success", "1.0.0 · build bld_1 · deploy dep_1 · settings 3f9a1c2e")]
    assert not record.disabled
    assert f"{said} Later changes are still sent to GitHub." in out.getvalue()
    assert "statuses: write" not in out.getvalue()


def test_a_403_with_requests_left_is_a_missing_permission() -> None:
    refused = github.GithubException(
        403, {"message": "Resource not accessible by integration"},
        {"x-ratelimit-remaining": "4999", "x-ratelimit-reset": "1767229200"},
    )
    record, out, _ = commit_record(FakeCommit(refused))
    record.write(android(), "3f9a1c2e")
    assert record.disabled
    assert "Grant `permissions: statuses: write` to the job" in out.getvalue()


@pytest.mark.parametrize("what", ["read", "write"])
def test_a_cancel_during_a_status_call_is_not_swallowed(what: str) -> None:
    record, out, _ = commit_record(FakeCommit(CancelledError("Cancelled by SIGINT.")))
    calls: dict[str, Callable[[], object]] = {"read": lambda: record.read(("android",)),
             "write": lambda: record.write(android("dep_1"), "3f9a1c2e")}
    with pytest.raises(CancelledError):
        calls[what]()
    assert "warning:" not in out.getvalue()
    assert not record.disabled


# -- the history and the pre-flight ---------------------------------------------------------------


class Pages:
    """A client whose GET /builds pages are given; counts the pages read."""

    def __init__(self, *pages: list[Build]) -> None:
        self.pages = list(pages)
        self.read = 0
        self.log = LOG

    def list_page(self, params: Any, *, deadline: float | None = None) -> Page:
        self.read += 1
        index = int(params.get("cursor", "0"))
        more = index + 1 < len(self.pages)
        return Page(self.pages[index], {"cursor": str(index + 1)} if more else None)


def test_the_history_stops_once_each_platform_has_its_newest() -> None:
    other = [build(f"o{n}", "9.0.0", bundle="com.other") for n in range(3)]
    pages = Pages(other, [build("a1", "1.2.0"), *other], [build("i1", "1.1.0", "ios")],
                  [build("a0", "1.0.0")])
    history = read_history(pages, bundle_id="com.example.shop", platforms=("android", "ios"))
    assert pages.read == 3
    assert {p: b.id for p, b in history.newest.items()} == {"android": "a1", "ios": "i1"}


def test_a_pinned_version_reads_on_until_its_place() -> None:
    pages = Pages([build("a3", "1.3.0")], [build("a2", "1.2.0")], [build("a1", "1.1.0")])
    history = read_history(pages, bundle_id="com.example.shop", platforms=("android",),
                           pinned="1.2.0")
    assert pages.read == 2
    assert history.find("android", "1.2.0") is not None


def test_the_page_cap_leaves_the_history_incomplete() -> None:
    pages = Pages(*[[build(f"o{n}", "1.0.0", bundle="com.other")] for n in range(10)])
    history = read_history(pages, bundle_id="com.example.shop", platforms=("ios",), page_cap=4)
    assert (pages.read, history.complete) == (4, False)


def test_preflight_names_the_platform_holding_the_version() -> None:
    pages = Pages([build("i1", "2.0.0", "ios"), build("a1", "1.9.0")])
    history = read_history(pages, bundle_id="com.example.shop", platforms=("android", "ios"))
    with pytest.raises(ActionError) as caught:
        preflight("2.0.0", history, ["android", "ios"])
    assert "ios already has version 2.0.0 (build i1, success)" in caught.value.message
    assert "Nothing was created" in caught.value.message
    preflight("2.0.1", history, ["android", "ios"])


# -- reports --------------------------------------------------------------------------------------


def test_a_deploy_is_reported_as_the_api_said() -> None:
    queued = Deploy("dep_1", "bld_1", "queued", raw={"id": "dep_1", "store": "Google Play"})
    text = describe_deploy(queued, {"track": "beta", "rolloutPercentage": 10})
    assert text == "dep_1: submitted to the store, queued (store: Google Play, track: beta, " \
        "rollout: 10%)"
    assert "submitted" in describe_deploy(Deploy("dep_2", "b", None), {})


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.CANCELLED])
def test_the_error_output_is_never_empty_when_the_run_did_not_succeed(status: RunStatus) -> None:
    result = RunResult.for_platforms(("android",))
    result.platforms["android"].build = build("bld_1", "1.0.0", status="failed"
                                              if status == RunStatus.FAILED else "building")
    result.status = status
    assert build_outputs(result)["error"] != ""


def test_download_of_a_success_without_a_link_is_an_error_naming_the_build(
    tmp_path: Path,
) -> None:
    states: dict[Platform, PlatformState] = {
        "ios": PlatformState("ios", build=build("bld_nolink", "1.0.0", "ios"))
    }
    clock, cancel = VirtualClock(), threading.Event()
    with requests.Session() as session:
        fetcher = Fetcher(session, clock, cancel, LOG, Retrier(clock, cancel, LOG))
        with pytest.raises(DownloadError) as caught:
            download_artifacts(fetcher, states, dest_dir=tmp_path, app_name="Shop",
                               version="1.0.0")
    assert "bld_nolink" in caught.value.message
    assert "downloadUrl" in caught.value.message
