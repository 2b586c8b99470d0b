"""The label lookup against the GitHub API stand-in through the one retry policy
(``Retrier.call``), in virtual time: a short outage is ridden out with one log line per
retry; a longer one falls back after ``GITHUB_PATIENCE``; a lookup the gate does not need is
tried once."""

from __future__ import annotations

import io
import random
import threading
from pathlib import Path

from capwrapper_action.ghio import ActionIO
from capwrapper_action.github.context import GITHUB_PATIENCE, enrich, make_github
from capwrapper_action.github.event import SOURCE_API
from capwrapper_action.retry import Retrier
from tests.github_standin import GitHubStandin
from tests.integration.test_github_api import (
    HEAD,
    MERGE,
    REPO,
    TOKEN,
    event,
    merged_pr_payload,
)
from tests.integration.test_github_api import github as github  # noqa: PLC0414 - the fixture
from tests.virtual_clock import VirtualClock


def retrier(clock: VirtualClock, out: io.StringIO) -> Retrier:
    return Retrier(clock, threading.Event(), ActionIO(out), rng=random.Random(0))


def no_quick_retries(url: str, token: str):  # type: ignore[no-untyped-def]
    return make_github(url, token, retries=0)


def test_a_short_outage_of_the_github_api_is_ridden_out(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=MERGE, merged=True)
    github.fail_status = 502
    clock, out = VirtualClock(), io.StringIO()
    real_sleep = clock.sleep

    def sleep(seconds: float, cancel: threading.Event) -> bool:
        if clock.now() + seconds >= 10.0:  # the outage ends 10 s in
            github.fail_status = None
        return real_sleep(seconds, cancel)

    clock.sleep = sleep  # type: ignore[method-assign]
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload(["old"]))
    found = enrich(ctx, token=TOKEN, need_labels=True, github_factory=no_quick_retries,
                   retrier=retrier(clock, out))
    assert (found.labels, found.labels_source) == (("release",), SOURCE_API)
    retries = [ln for ln in out.getvalue().splitlines() if ln.startswith("Retrying")]
    assert retries
    assert all("the pull request lookup on the GitHub API" in ln for ln in retries)


def test_a_long_outage_falls_back_after_the_patience(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.fail_status = 503
    clock, out = VirtualClock(), io.StringIO()
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload(["release"]))
    found = enrich(ctx, token=TOKEN, need_labels=True, github_factory=no_quick_retries,
                   retrier=retrier(clock, out))
    assert found.labels_source != SOURCE_API
    assert clock.now() <= GITHUB_PATIENCE + 0.001  # never sleeps past the point of giving up


def test_a_lookup_the_gate_does_not_need_is_tried_once(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.fail_status = 502
    clock, out = VirtualClock(), io.StringIO()
    ctx = event(tmp_path, github.url, "push", {"after": MERGE})
    enrich(ctx, token=TOKEN, need_labels=False, github_factory=no_quick_retries,
           retrier=retrier(clock, out))
    assert len(github.requests) == 1
    assert clock.sleeps == []
    assert REPO in github.requests[0].path


def test_a_rate_limit_that_resets_soon_is_waited_out(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=MERGE, merged=True)
    clock, out = VirtualClock(), io.StringIO()
    reset = int(clock.wall().timestamp()) + 5
    github.fail_status, github.fail_times = 403, 1  # GitHub's answer to an exhausted limit
    github.fail_headers = {"X-RateLimit-Reset": str(reset)}
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload(["old"]))
    found = enrich(ctx, token=TOKEN, need_labels=True, github_factory=no_quick_retries,
                   retrier=retrier(clock, out))
    assert (found.labels, found.labels_source) == (("release",), SOURCE_API)
    (line,) = [ln for ln in out.getvalue().splitlines() if ln.startswith("Retrying")]
    assert "(Retry-After 5s)" in line
    assert "rate limited once" in line
    assert line.endswith("; the GitHub API rate limit of this token is exhausted"), line
    assert 5 <= clock.now() < GITHUB_PATIENCE


def test_a_rate_limit_that_resets_later_fails_at_once_naming_the_reset(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.fail_status = 403  # exhausted until the year 2100
    clock, out = VirtualClock(), io.StringIO()
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload(["release"]))
    found = enrich(ctx, token=TOKEN, need_labels=True, github_factory=no_quick_retries,
                   retrier=retrier(clock, out))
    assert clock.sleeps == []  # no pointless waiting
    assert len(github.requests) == 1
    assert "the GitHub API rate limit of this token is exhausted" in found.labels_error
    assert "pull-requests: read" not in found.labels_error + found.labels_hint
    assert found.labels_hint == "It resets at 2100-01-01 00:00:00 UTC."
