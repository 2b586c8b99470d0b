"""What the pull request hears when GitHub fails: only the last write of a comment counts,
transient failures are tried again (``Retrier``, virtual time), and the final write of a
cancelled run is bounded. GitHub is a fake here (PyGithub's objects, scripted failures)."""

from __future__ import annotations

import io
import threading
import time
from typing import TYPE_CHECKING, cast

import github
import pytest
import requests

from capwrapper_action.api.models import Build
from capwrapper_action.config.values import PrComment
from capwrapper_action.ghio import ActionIO
from capwrapper_action.github.event import GitHubContext, PullDetails
from capwrapper_action.github.pr_feedback import PullRequestFeedback
from capwrapper_action.report.pr_comment import CommentInfo
from capwrapper_action.result import RunResult, RunStatus
from capwrapper_action.retry import Retrier
from tests.virtual_clock import VirtualClock

if TYPE_CHECKING:
    from github import Github

CTX = GitHubContext(
    event_name="pull_request", repository="o/r", server_url="https://github.com",
    api_url="https://api.github.com", commit_sha="4" * 40, pull_request=12, labels=(),
    labels_source="", from_fork=False, warnings=(), run_id="9", pull=PullDetails("t", "b"),
)  # fmt: skip


class Comment:
    def __init__(self, body: str) -> None:
        self.body, self.user = body, None

    def edit(self, body: str) -> None:
        self.body = body


class Issue:
    """``failing_posts``: how many POSTs fail with a 502; ``lost``: the comment is made all
    the same (the answer was lost on the way); ``hang``: every POST blocks until set."""

    def __init__(self, failing_posts: int = 0, *, lost: bool = False) -> None:
        self.comments: list[Comment] = []
        self.posts = 0
        self.failing_posts, self.lost = failing_posts, lost
        self.hang: threading.Event | None = None

    def get_comments(self) -> list[Comment]:
        return list(self.comments)

    def create_comment(self, body: str) -> Comment:
        self.posts += 1
        if self.hang is not None:
            self.hang.wait(10)
        if self.posts <= self.failing_posts:
            if self.lost:
                self.comments.append(Comment(body))
            raise github.GithubException(502, {"message": "Bad gateway"}, None)
        self.comments.append(Comment(body))
        return self.comments[-1]


class Repo:
    def __init__(self, issue: Issue) -> None:
        self.issue = issue

    def get_issue(self, number: int) -> Issue:
        return self.issue


class FakeGithub:
    def __init__(self, issue: Issue) -> None:
        self.repo = Repo(issue)

    def get_repo(self, name: str) -> Repo:
        return self.repo


def feedback(
    issue: Issue, mode: str = "always", *, retrier: Retrier | None = None
) -> tuple[PullRequestFeedback, ActionIO]:
    log = ActionIO(io.StringIO())
    made = PullRequestFeedback(
        PrComment(mode), CommentInfo(bundle_id="com.example.shop"), "tok", CTX, log,
        lambda url, token: cast("Github", FakeGithub(issue)), retrier=retrier,
    )  # fmt: skip
    return made, log


def result(status: str, overall: RunStatus) -> RunResult:
    res = RunResult.for_platforms(("android",))
    res.platforms["android"].build = Build(
        id="bld_1", status=status, platform="android", version="1.0.0"
    )
    res.status = overall
    return res


def text(log: ActionIO) -> str:
    return str(log.stream.getvalue())  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["always", "auto"])
def test_a_failed_building_write_is_forgotten_once_the_final_write_succeeds(mode: str) -> None:
    issue = Issue(failing_posts=1)
    made, log = feedback(issue, mode)  # no retrier: one try per write
    made.builds_created(result("queued", RunStatus.SUCCESS), CTX)
    assert made.failures  # the "building" write failed ...
    res = result("success", RunStatus.SUCCESS)
    assert made.finish(res)
    assert len(issue.comments) == 1  # ... and the final write made the comment
    assert "builds succeeded" in issue.comments[0].body
    assert res.status == RunStatus.SUCCESS
    assert res.error is None
    assert res.notes == []
    assert made.failures == {}
    assert log.annotations == []  # no stale warning either


def test_a_transient_failure_is_tried_again() -> None:
    issue = Issue(failing_posts=2)
    clock = VirtualClock()
    made, _ = feedback(issue, retrier=Retrier(clock, threading.Event(), ActionIO()))
    res = result("success", RunStatus.SUCCESS)
    assert made.finish(res)
    assert res.status == RunStatus.SUCCESS
    assert issue.posts == 3
    assert len(issue.comments) == 1
    assert len(clock.sleeps) == 2  # in virtual time, within the comment's patience
    assert sum(clock.sleeps) < 20


def test_a_post_whose_answer_was_lost_is_found_again_not_repeated() -> None:
    issue = Issue(failing_posts=1, lost=True)
    made, _ = feedback(issue, retrier=Retrier(VirtualClock(), threading.Event(), ActionIO()))
    res = result("success", RunStatus.SUCCESS)
    assert made.finish(res)
    assert issue.posts == 1  # the retry listed the comments and found the one made
    assert len(issue.comments) == 1
    assert res.status == RunStatus.SUCCESS


def test_retries_stop_at_the_comments_patience_and_always_fails_the_step() -> None:
    issue = Issue(failing_posts=1000)
    clock = VirtualClock()
    made, log = feedback(issue, retrier=Retrier(clock, threading.Event(), ActionIO()))
    res = result("success", RunStatus.SUCCESS)
    made.finish(res)
    assert clock.now() <= 20.0
    assert res.status == RunStatus.FAILED
    assert res.error is not None
    assert "HTTP 502: Bad gateway" in res.error.message
    assert log.outputs["status"] == "failed"  # written again after the report
    assert "HTTP 502" in log.outputs["error"]
    assert [a[0] for a in log.annotations] == ["error"]


def test_a_cancelled_runs_final_write_is_bounded() -> None:
    issue = Issue()
    issue.hang = threading.Event()
    cancel = threading.Event()
    cancel.set()
    made, log = feedback(issue, retrier=Retrier(VirtualClock(), cancel, ActionIO()))
    made.cancel_patience = 0.2
    res = result("building", RunStatus.CANCELLED)
    started = time.monotonic()
    try:
        made.finish(res, cancelled=True)
    finally:
        issue.hang.set()
    assert time.monotonic() - started < 2.0
    assert "Left the pull request comment unwritten: the run was cancelled" in text(log)
    assert res.status == RunStatus.CANCELLED  # a cancelled run stays cancelled
    assert any("cancelled" in note for note in res.notes)


def test_a_cancelled_run_does_not_retry() -> None:
    issue = Issue(failing_posts=1)
    cancel = threading.Event()
    cancel.set()
    clock = VirtualClock()
    made, _ = feedback(issue, "auto", retrier=Retrier(clock, cancel, ActionIO()))
    res = result("building", RunStatus.CANCELLED)
    made.finish(res, cancelled=True)
    assert issue.posts == 1
    assert clock.sleeps == []
    assert any("cancelled before the write could be retried" in n for n in res.notes)


class FailingIssue(Issue):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def create_comment(self, body: str) -> Comment:
        raise self.error


@pytest.mark.parametrize(("error", "reason"), [
    (github.GithubException(403, {"message": "Resource not accessible by integration"}, None),
     "the token may not write comments on this pull request "
     "(403: Resource not accessible by integration). Give the job `permissions: pull-requests"),
    (github.GithubException(401, {"message": "Bad  credentials\nfor tok"}, None),
     "the GitHub API rejected the token (401: Bad credentials for ***). Check `github-token`."),
    (github.GithubException(500, {"message": "  "}, None), "the GitHub API answered HTTP 500."),
    (github.GithubException(502, "not JSON", None), "the GitHub API answered HTTP 502."),
    (github.RateLimitExceededException(403, {"message": "API rate limit exceeded"}, None),
     "the GitHub API rate limit of this token is exhausted."),
    (requests.ConnectionError("refused"),
     "the GitHub API at https://api.github.com could not be reached (ConnectionError)."),
    (ValueError("odd"), "unexpected ValueError while writing the comment."),
])
def test_each_way_a_write_fails_is_said_in_words(error: Exception, reason: str) -> None:
    made, _ = feedback(FailingIssue(error), "auto")
    res = result("success", RunStatus.SUCCESS)
    made.finish(res)
    assert res.status == RunStatus.SUCCESS
    (note,) = res.notes
    assert note.startswith(f"Could not write the comment on pull request #12: {reason}")
