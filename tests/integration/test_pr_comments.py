"""The pull request comment and the "released in" note against the GitHub API stand-in over
real HTTP on 127.0.0.1 (PyGithub underneath): found by marker, added once, edited after; GitHub's
rate limit is waited out when it resets soon, and is never taken for a refusal."""

from __future__ import annotations

import io
import random
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from capwrapper_action.api.models import Build
from capwrapper_action.config.values import PrComment
from capwrapper_action.ghio import ActionIO
from capwrapper_action.github.context import make_github
from capwrapper_action.github.event import GitHubContext, PullDetails
from capwrapper_action.github.pr_feedback import PullRequestFeedback
from capwrapper_action.report.pr_comment import LIVING, RELEASED, CommentInfo
from capwrapper_action.report.pr_comment import marker as any_marker
from capwrapper_action.result import RunResult, RunStatus
from capwrapper_action.retry import Retrier
from tests.github_standin import GitHubStandin
from tests.virtual_clock import VirtualClock

TOKEN = "ghs_standin_token_0123456789"
READ_ONLY = "ghs_read_only_token"
REPO = "octo-org/shop-app"
HEAD = "1" * 40
MERGE = "2" * 40
BUNDLE = "com.example.shop"


@pytest.fixture
def github() -> Iterator[GitHubStandin]:
    with GitHubStandin(repository=REPO) as standin:
        standin.add_token(TOKEN)
        standin.add_token(READ_ONLY, can_write_pulls=False)
        standin.add_pull(12, [], head_sha=HEAD, merge_commit_sha=MERGE)
        yield standin


def context(github: GitHubStandin, event: str = "pull_request", **changes: object) -> GitHubContext:
    ctx = GitHubContext(
        event_name=event, repository=REPO, server_url="https://github.com", api_url=github.url,
        commit_sha=HEAD, pull_request=12, labels=(), labels_source="", from_fork=False,
        warnings=(), run_id="77", pull=PullDetails("Add login", "", merged=False),
    )  # fmt: skip
    return replace(ctx, **changes)  # type: ignore[arg-type]


def marker(kind: str, bundle: str) -> str:
    return any_marker(kind, bundle, ("android",))  # the platforms of result() below


def feedback(
    github: GitHubStandin, ctx: GitHubContext, *, mode: str = "auto", token: str = TOKEN,
    bundle: str = BUNDLE,
) -> tuple[PullRequestFeedback, ActionIO]:
    log = ActionIO(io.StringIO())
    made = PullRequestFeedback(
        mode=PrComment(mode), info=CommentInfo(bundle_id=bundle, app_name="Shop"), token=token,
        ctx=ctx, io=log, connect=make_github,
    )  # fmt: skip
    return made, log


def result(status: str = "building", overall: RunStatus = RunStatus.FAILED) -> RunResult:
    res = RunResult.for_platforms(("android",))
    res.platforms["android"].build = Build(
        "bld_1", status, platform="android", version="1.0.1", bundle_id=BUNDLE
    )
    res.status, res.version, res.commit_sha = overall, "1.0.1", HEAD
    return res


def run_once(github: GitHubStandin, ctx: GitHubContext, **kwargs: str) -> RunResult:
    """One run: the "building" write, then the final one."""
    made, _ = feedback(github, ctx, **kwargs)
    res = result()
    made.builds_created(res, ctx)
    res = result("success", RunStatus.SUCCESS)
    made.finish(res)
    return res


def writes(github: GitHubStandin) -> list[str]:
    return [f"{r.method} {r.endpoint}" for r in github.requests if r.method != "GET"]


def test_first_run_adds_then_edits_and_second_run_edits_the_same_comment(
    github: GitHubStandin,
) -> None:
    made, _ = feedback(github, context(github))
    made.builds_created(result(), context(github))
    (comment,) = github.comments_on(12)
    assert comment.body.startswith(marker(LIVING, BUNDLE))
    assert "building" in comment.body
    made.finish(result("success", RunStatus.SUCCESS))
    assert "builds succeeded" in comment.body
    assert writes(github) == ["POST issue_comments", "PATCH comment"]
    assert [r.endpoint for r in github.requests].count("issue_comments") == 2  # list + create

    github.requests.clear()
    run_once(github, context(github))  # the second run
    assert github.comments_on(12) == [comment]
    assert writes(github) == ["PATCH comment", "PATCH comment"]
    assert comment.edits == 3


def test_two_bundle_ids_keep_two_comments(github: GitHubStandin) -> None:
    for _ in range(2):
        for bundle in ("com.example.shop", "com.example.admin"):
            run_once(github, context(github), bundle=bundle)
    bodies = sorted(c.body.split("\n", 1)[0] for c in github.comments_on(12))
    assert bodies == [marker(LIVING, "com.example.admin"), marker(LIVING, "com.example.shop")]


def test_found_past_the_first_page(github: GitHubStandin) -> None:
    for n in range(45):
        github.add_comment(12, f"review comment {n}", login="reviewer", user_type="User")
    ours = github.add_comment(12, marker(LIVING, BUNDLE) + "\nold")
    run_once(github, context(github))
    assert len(github.comments_on(12)) == 46
    assert "builds succeeded" in ours.body


def test_a_copied_marker_loses_to_the_bots_comment(github: GitHubStandin) -> None:
    copy = github.add_comment(12, marker(LIVING, BUNDLE) + "\nfake", login="someone",
                              user_type="User")  # fmt: skip
    ours = github.add_comment(12, marker(LIVING, BUNDLE) + "\nold")
    run_once(github, context(github))
    assert copy.body.endswith("fake")
    assert copy.edits == 0
    assert "builds succeeded" in ours.body


def test_unchanged_body_is_not_written_again(github: GitHubStandin) -> None:
    made, _ = feedback(github, context(github))
    made.finish(result("success", RunStatus.SUCCESS))
    made.finish(result("success", RunStatus.SUCCESS))
    assert writes(github) == ["POST issue_comments"]


def test_release_note_on_the_merged_pull_request_is_edited_on_rerun(
    github: GitHubStandin,
) -> None:
    ctx = context(github, "push", commit_sha=MERGE,
                  pull=PullDetails("Add login", "", merged=True))  # fmt: skip
    for _ in range(2):
        made, _ = feedback(github, ctx)
        made.builds_created(result(), ctx)  # no living comment on a push
        made.finish(result("success", RunStatus.SUCCESS))
    (note,) = github.comments_on(12)
    assert note.body.startswith(marker(RELEASED, BUNDLE))
    assert note.edits == 0  # the re-run rendered the same note: nothing to change
    assert writes(github) == ["POST issue_comments"]


def test_push_without_a_merged_pull_request_writes_nothing(github: GitHubStandin) -> None:
    run_once(github, context(github, "push", pull_request=None, pull=None))
    run_once(github, context(github, "workflow_dispatch"))
    assert github.requests == []


def test_never_asks_nothing(github: GitHubStandin) -> None:
    run_once(github, context(github), mode="never")
    run_once(github, context(github, "push", pull=PullDetails(merged=True)), mode="never")
    assert github.requests == []


def test_forbidden_in_auto_warns_once_and_does_not_fail(github: GitHubStandin) -> None:
    made, log = feedback(github, context(github), token=READ_ONLY)
    made.builds_created(result(), context(github))
    res = result("success", RunStatus.SUCCESS)
    made.finish(res)
    assert res.status == RunStatus.SUCCESS
    assert res.error is None
    warnings = [a for a in log.annotations if a[0] == "warning"]
    assert len(warnings) == 1
    assert "403" in warnings[0][2]
    assert "pull-requests: write" in warnings[0][2]
    assert writes(github) == ["POST issue_comments"]  # given up after the refusal
    assert res.notes
    assert "403" in res.notes[0]
    assert READ_ONLY not in str(log.stream.getvalue())  # type: ignore[union-attr]


def test_fork_in_auto_warns_without_asking(github: GitHubStandin) -> None:
    made, log = feedback(github, context(github, from_fork=True))
    made.builds_created(result(), context(github, from_fork=True))
    made.finish(result("success", RunStatus.SUCCESS))
    assert github.requests == []
    (warning,) = [a for a in log.annotations if a[0] == "warning"]
    assert "fork" in warning[2]


def test_forbidden_with_always_fails_the_step(github: GitHubStandin) -> None:
    made, log = feedback(github, context(github), mode="always", token=READ_ONLY)
    res = result("success", RunStatus.SUCCESS)
    made.finish(res)
    assert res.status == RunStatus.FAILED
    assert res.error is not None
    assert res.error.title == "Pull request comment"
    assert "403" in res.error.message
    assert "pull-requests: write" in res.error.hint
    assert not [a for a in log.annotations if a[0] == "warning"]


def test_unreachable_api_in_auto_is_a_warning(github: GitHubStandin) -> None:
    github.fail_status = 502
    made, log = feedback(github, context(github))
    res = result("success", RunStatus.SUCCESS)
    made.finish(res)
    assert res.status == RunStatus.SUCCESS
    assert [a[0] for a in log.annotations] == ["warning"]


def test_merged_closed_event_gets_the_note_not_the_living_comment(
    github: GitHubStandin,
) -> None:
    ctx = context(github, commit_sha=MERGE, pull=PullDetails("Add login", "", merged=True))
    assert ctx.release_path
    run_once(github, ctx)
    (note,) = github.comments_on(12)
    assert note.body.startswith(marker(RELEASED, BUNDLE))
    assert writes(github) == ["POST issue_comments"]  # nothing while the builds ran


def test_resumed_builds_are_keyed_by_their_own_bundle_id(github: GitHubStandin) -> None:
    run_once(github, context(github), bundle="")  # build-id given: no bundle-id input
    (comment,) = github.comments_on(12)
    assert comment.body.startswith(any_marker(LIVING, "com.example.shop", ("android",)))


def test_always_keeps_a_failed_runs_own_error(github: GitHubStandin) -> None:
    made, _ = feedback(github, context(github), mode="always", token=READ_ONLY)
    res = result("failed", RunStatus.FAILED)  # a build failed: no error object, status failed
    made.finish(res)
    assert res.status == RunStatus.FAILED
    assert res.error is None  # the failed build stays the reason shown first
    assert any("403" in note for note in res.notes)


def with_retrier(made: PullRequestFeedback) -> VirtualClock:
    clock = VirtualClock()
    made.retrier = Retrier(clock, threading.Event(), made.io, rng=random.Random(0))
    return clock


def test_a_rate_limit_that_resets_soon_is_waited_out(github: GitHubStandin) -> None:
    github.fail_status, github.fail_times = 403, 1  # a secondary limit: wait 3 s
    github.fail_headers = {"X-RateLimit-Remaining": "4000", "Retry-After": "3"}
    made, log = feedback(github, context(github), mode="always")
    clock = with_retrier(made)
    res = result("success", RunStatus.SUCCESS)
    made.finish(res)
    assert res.status == RunStatus.SUCCESS
    assert len(github.comments_on(12)) == 1
    text = log.stream.getvalue()  # type: ignore[union-attr]
    assert text.count("Retrying the comment on pull request #12 in 3") == 1, text
    assert 3 <= clock.now() < 5
    assert log.annotations == []


def test_a_rate_limit_past_the_patience_is_no_refusal(github: GitHubStandin) -> None:
    github.fail_status, github.fail_times = 403, 1  # exhausted until the year 2100
    made, log = feedback(github, context(github))
    clock = with_retrier(made)
    made.builds_created(result(), context(github))
    assert clock.sleeps == []  # given up at once: the limit outlasts the patience
    (failure,) = made.failures.values()
    assert "rate limit of this token is exhausted" in failure[0]
    assert failure[1] == "It resets at 2100-01-01 00:00:00 UTC."
    assert "pull-requests: write" not in " ".join(failure)
    res = result("success", RunStatus.SUCCESS)
    made.finish(res)  # later writes are still tried
    (comment,) = github.comments_on(12)
    assert "builds succeeded" in comment.body
    assert (res.notes, log.annotations) == ([], [])
