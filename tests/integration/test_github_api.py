"""enrich against the GitHub REST stand-in over real HTTP on 127.0.0.1 (PyGithub underneath)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from capwrapper_action.api.models import Build, Platform
from capwrapper_action.github.context import enrich, make_github
from capwrapper_action.github.event import SOURCE_API, SOURCE_PAYLOAD, GitHubContext, read_event
from capwrapper_action.github.gate import decide_deploy
from capwrapper_action.result import PlatformState
from tests.github_standin import GitHubStandin

TOKEN = "ghs_standin_token_0123456789"
WEAK = "ghs_token_without_pull_request_access"
REPO = "octo-org/shop-app"
HEAD = "1" * 40
MERGE = "2" * 40
OTHER = "3" * 40


@pytest.fixture
def github() -> Iterator[GitHubStandin]:
    with GitHubStandin(repository=REPO, prefix="/api/v3") as standin:
        standin.add_token(TOKEN)
        standin.add_token(WEAK, can_read_pulls=False)
        yield standin


@dataclass(frozen=True)
class GateConfig:
    deploy: bool = True
    deploy_labels: tuple[str, ...] = ("release",)
    platforms: tuple[Platform, ...] = ("android", "ios")


def succeeded() -> dict[Platform, PlatformState]:
    return {
        "android": PlatformState("android", build=Build("bld_a", "success")),
        "ios": PlatformState("ios", build=Build("bld_i", "success")),
    }


def event(tmp_path: Path, api_url: str, name: str, payload: dict[str, Any]) -> GitHubContext:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return read_event({
        "GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path), "GITHUB_SHA": OTHER,
        "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": api_url,
        "GITHUB_SERVER_URL": "https://ghe.example.com",
    })


def merged_pr_payload(labels: list[str]) -> dict[str, Any]:
    return {
        "action": "closed", "number": 12,
        "pull_request": {
            "number": 12, "merged": True, "merge_commit_sha": MERGE,
            "labels": [{"name": n} for n in labels],
            "head": {"sha": HEAD, "repo": {"full_name": REPO}},
            "base": {"repo": {"full_name": REPO}},
        },
    }


def test_push_finds_the_merged_pull_request_and_reads_its_labels_live(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.add_pull(9, ["docs"], head_sha=MERGE)  # an open PR whose head is the same commit
    github.add_pull(12, ["release", "docs"], head_sha=HEAD, merge_commit_sha=MERGE, merged=True)
    ctx = event(tmp_path, github.url, "push", {"after": MERGE})
    assert ctx.pull_request is None
    out = enrich(ctx, token=TOKEN, need_labels=True)
    assert (out.pull_request, out.labels) == (12, ("release", "docs"))
    assert out.labels_source == SOURCE_API
    assert out.warnings == ()
    assert github.endpoints() == ["commit_pulls"]
    request = github.requests[0]
    assert request.path == f"/repos/{REPO}/commits/{MERGE}/pulls"
    assert request.authorization == "token"
    assert decide_deploy(GateConfig(), succeeded(), out).allowed


def test_push_without_a_merged_match_takes_the_first_pull_request(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.add_pull(7, ["ship"], head_sha=MERGE)
    out = enrich(event(tmp_path, github.url, "push", {"after": MERGE}), token=TOKEN,
                 need_labels=True)
    assert (out.pull_request, out.labels) == (7, ("ship",))


def test_push_of_a_commit_no_pull_request_produced(
    github: GitHubStandin, tmp_path: Path
) -> None:
    out = enrich(event(tmp_path, github.url, "push", {"after": MERGE}), token=TOKEN,
                 need_labels=True)
    assert (out.pull_request, out.labels, out.labels_source, out.warnings) == (
        None, (), SOURCE_API, ()
    )
    decision = decide_deploy(GateConfig(), succeeded(), out)
    assert not decision.allowed
    assert "no pull request produced commit 222222222222" in decision.reason


def test_push_finds_the_pull_request_number_even_without_a_label_gate(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=MERGE, merged=True)
    out = enrich(event(tmp_path, github.url, "push", {"after": MERGE}), token=TOKEN,
                 need_labels=False)
    assert out.pull_request == 12


def test_merged_pull_request_label_removed_after_the_event_blocks_the_deploy(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=MERGE, merged=True)
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload(["release"]))
    github.set_labels(12, ["docs"])  # someone took the label off after the merge
    assert decide_deploy(GateConfig(), succeeded(), ctx).allowed  # the payload alone would deploy
    out = enrich(ctx, token=TOKEN, need_labels=True)
    assert (out.commit_sha, out.labels, out.labels_source) == (MERGE, ("docs",), SOURCE_API)
    assert github.endpoints() == ["pull"]
    decision = decide_deploy(GateConfig(), succeeded(), out)
    assert not decision.allowed
    assert decision.reason == (
        "deploy skipped: pull request #12 has none of the labels release (it has: docs)"
    )


def test_label_added_after_the_event_allows_the_deploy(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.add_pull(12, ["docs", "Release"], head_sha=HEAD, merge_commit_sha=MERGE, merged=True)
    ctx = event(tmp_path, github.url, "pull_request_target", merged_pr_payload(["docs"]))
    out = enrich(ctx, token=TOKEN, need_labels=True)
    decision = decide_deploy(GateConfig(), succeeded(), out)
    assert decision.allowed
    assert decision.reason.endswith("pull request #12 carries the label Release")


def test_token_without_permission_is_a_labels_error_not_a_fallback(
    github: GitHubStandin, tmp_path: Path
) -> None:
    """The payload's labels may be stale (a re-run replays the event): the gate must not
    decide on them, so the run learns why the labels could not be read, and fails."""
    github.add_pull(12, ["docs"], head_sha=HEAD, merge_commit_sha=MERGE, merged=True)
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload(["release"]))
    out = enrich(ctx, token=WEAK, need_labels=True)
    assert [r.status for r in github.requests] == [403]
    assert (out.labels, out.labels_source) == (("release",), SOURCE_PAYLOAD)
    assert out.warnings == ()
    assert "labels of pull request #12 could not be read" in out.labels_error
    assert "lacks permission to read pull requests (403)" in out.labels_error
    assert "pull-requests: read" in out.labels_hint
    assert WEAK not in out.labels_error + out.labels_hint


def test_push_with_a_token_without_permission_warns_and_cannot_pass_the_gate(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=MERGE, merged=True)
    out = enrich(event(tmp_path, github.url, "push", {"after": MERGE}), token=WEAK,
                 need_labels=True)
    assert out.pull_request is None
    assert "pull request of commit 222222222222 could not be looked up" in out.labels_error
    assert not decide_deploy(GateConfig(), succeeded(), out).allowed


def test_push_with_a_token_without_permission_is_quiet_when_labels_are_not_needed(
    github: GitHubStandin, tmp_path: Path
) -> None:
    ctx = event(tmp_path, github.url, "push", {"after": MERGE})
    assert enrich(ctx, token=WEAK, need_labels=False) == ctx


@pytest.mark.parametrize(("token", "repo", "expected"), [
    ("ghs_unknown_token", REPO, "rejected the token (401)"),
    (TOKEN, "octo-org/private-app", "not visible to this token (404)"),
])
def test_rejected_or_invisible_fall_back_with_the_reason(
    github: GitHubStandin, tmp_path: Path, token: str, repo: str, expected: str
) -> None:
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload(["release"]))
    out = enrich(GitHubContext(**{**ctx.__dict__, "repository": repo}), token=token,
                 need_labels=True)
    assert out.labels_source == SOURCE_PAYLOAD
    assert expected in out.labels_error
    assert token not in out.labels_error


def test_rate_limit_is_named(github: GitHubStandin, tmp_path: Path) -> None:
    github.fail_status = 403
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload(["release"]))
    out = enrich(ctx, token=TOKEN, need_labels=True)
    assert "rate limit" in out.labels_error


def test_server_errors_are_retried_a_little_then_fall_back(
    github: GitHubStandin, tmp_path: Path
) -> None:
    github.fail_status = 502
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload(["release"]))
    out = enrich(ctx, token=TOKEN, need_labels=True,
                 github_factory=lambda url, token: make_github(url, token, retries=1))
    assert len(github.requests) == 2
    assert "answered HTTP 502" in out.labels_error
    assert out.labels == ("release",)


def test_unreachable_api_falls_back_with_a_warning(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctx = event(tmp_path, f"http://127.0.0.1:{port}", "pull_request",
                merged_pr_payload(["release"]))
    out = enrich(ctx, token=TOKEN, need_labels=True,
                 github_factory=lambda url, token: make_github(url, token, retries=0))
    assert out.labels_source == SOURCE_PAYLOAD
    assert f"http://127.0.0.1:{port} could not be reached (ConnectionError)" in out.labels_error
    assert TOKEN not in repr(out)


def test_commit_message_read_for_a_pull_request_event(
    github: GitHubStandin, tmp_path: Path
) -> None:
    from capwrapper_action.github.context import with_commit_message

    github.commit_messages[HEAD] = "Fix the login form"
    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload([]) | {"action": "opened"})
    assert ctx.commit_sha == HEAD
    assert ctx.commit_message is None  # the event carries none
    out, why = with_commit_message(ctx, token=TOKEN)
    assert (out.commit_message, why) == ("Fix the login form", "")
    assert github.endpoints() == ["commit"]


def test_commit_message_that_cannot_be_read_says_why(
    github: GitHubStandin, tmp_path: Path
) -> None:
    from capwrapper_action.github.context import with_commit_message

    ctx = event(tmp_path, github.url, "pull_request", merged_pr_payload([]) | {"action": "opened"})
    out, why = with_commit_message(ctx, token=TOKEN)  # the stand-in knows no such commit
    assert out.commit_message is None
    assert "422" in why
    out, why = with_commit_message(ctx, token=" ")
    assert "`github-token` is empty" in why
    push = event(tmp_path, github.url, "push", {"after": MERGE, "head_commit": {"message": "m"}})
    assert with_commit_message(push, token=TOKEN) == (push, "")  # known already: not asked
    assert github.endpoints() == ["commit"]
