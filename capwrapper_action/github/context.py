"""The GitHub context of the run as the GitHub API has it now (``event.read_event`` reads the
triggering event): the pull request and its labels, the commit's message.

``enrich`` asks the GitHub REST API (PyGithub, imported only then) for the live labels: a re-run
replays the old payload, and labels change after the event. For a commit without a pull request
in the payload it finds the pull request that produced it. When the API cannot be asked and the
labels are needed, it sets ``labels_error`` saying why (the gate then fails the step rather than
decide on labels it could not read); the token never appears in a message. Transient failures
are retried by the one retry policy (``retry.Retrier.call``), not by urllib3.

GitHub answers an exhausted rate limit with 403 or 429 (``rate_limit``), never to be read as a
missing permission: ``call_github`` raises it as a ``RateLimitedError`` carrying the wait, so
the retry policy waits it out when it ends within the caller's patience and gives up at once
when it does not. The label lookup, the commit record and the comments all call through it.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import requests

from capwrapper_action.errors import CancelledError, RateLimitedError
from capwrapper_action.github.event import (
    SOURCE_API,
    GitHubContext,
    PullDetails,
    label_names,
    pull_details,
)
from capwrapper_action.retry import Retrier, quick_get_retry
from capwrapper_action.timeutil import parse_retry_after

if TYPE_CHECKING:
    from github import Github
    from github.PullRequest import PullRequest
    from github.Repository import Repository

MAX_PULLS_SCANNED = 30
# Without the labels the gate fails the step, so a lookup for them rides out transient
# failures for this long; a lookup only for the pull request number is tried once.
GITHUB_PATIENCE = 30.0

T = TypeVar("T")
GithubFactory = Callable[[str, str], "Github"]
"""``(api_url, token) -> Github``; ``make_github`` is the default."""
Found = tuple[int | None, tuple[str, ...], PullDetails | None]  # number, labels, details


def make_github(api_url: str, token: str, *, retries: int = 2) -> Github:
    """A PyGithub client for ``api_url`` with a 10 s timeout and no throttling. Its GETs are
    retried ``retries`` times within a second by urllib3, on the statuses ``retry`` deems
    transient (``retry.quick_get_retry``); longer outages are left to ``Retrier.call``
    around the calls that matter (the label lookup)."""
    import github  # PyGithub: lazy, ~200 ms, after the first request

    retry = quick_get_retry(retries)
    return github.Github(
        base_url=api_url, auth=github.Auth.Token(token), timeout=10, retry=retry,
        lazy=True, seconds_between_requests=None, seconds_between_writes=None,
        user_agent="capwrapper-action",
    )


def enrich(
    ctx: GitHubContext,
    *,
    token: str,
    need_labels: bool,
    github_factory: GithubFactory | None = None,
    retrier: Retrier | None = None,
) -> GitHubContext:
    """``ctx`` with the pull request and its labels as the API has them now. Asks the API
    when ``need_labels`` (for the label gate), or, without it, only to find the pull request
    of a commit whose event names none; on a failure the payload's labels stay."""
    if ctx.pull_request is None and ctx.commit_sha is None:
        return ctx
    if ctx.pull_request is not None and not need_labels:
        return ctx
    if not token.strip():
        return _fallback(ctx, "`github-token` is empty", need_labels, _PERMISSION_HINT)
    if not ctx.repository:
        return _fallback(ctx, "GITHUB_REPOSITORY is not set", need_labels)
    lookup = functools.partial(_lookup, ctx, github_factory or make_github, token)
    try:
        if retrier is not None and need_labels:
            deadline = retrier.clock.now() + GITHUB_PATIENCE
            what = "the pull request lookup on the GitHub API"
            number, labels, details = call_github(retrier, lookup, what, deadline=deadline)
        else:
            number, labels, details = lookup()
    except CancelledError:
        raise
    except Exception as exc:  # labels must never end the run: say why instead
        why, hint, _ = explain(exc, ctx.api_url, _STATUS_REASONS, doing="asking the GitHub API")
        return _fallback(ctx, _scrub(why, token), need_labels, hint)
    return replace(
        ctx, pull_request=number, labels=labels, labels_source=SOURCE_API, pull=details
    )


def _lookup(ctx: GitHubContext, factory: GithubFactory, token: str) -> Found:
    """The pull request (the commit's when the event names none), its labels and details."""
    repo = factory(ctx.api_url, token).get_repo(ctx.repository)
    if ctx.pull_request is None:
        return _pull_of_commit(repo, ctx.commit_sha or "")
    merged = ctx.pull.merged if ctx.pull else False  # the event decides the release path
    return _found(repo.get_pull(ctx.pull_request), ctx.pull_request, merged=merged)


def with_commit_message(
    ctx: GitHubContext, *, token: str, github_factory: GithubFactory | None = None
) -> tuple[GitHubContext, str]:
    """``ctx`` with the message of its commit from the API (a ``pull_request`` event carries
    none), and why it could not be read ("" when it was, or was known already)."""
    if ctx.commit_message is not None or not ctx.commit_sha:
        return ctx, ""
    if not token.strip() or not ctx.repository:
        return ctx, "`github-token` is empty" if ctx.repository else "GITHUB_REPOSITORY is not set"
    try:
        repo = (github_factory or make_github)(ctx.api_url, token).get_repo(ctx.repository)
        message = repo.get_commit(ctx.commit_sha).commit.message
    except Exception as exc:  # a placeholder must never end the run: say why instead
        why = explain(exc, ctx.api_url, _STATUS_REASONS, doing="asking the GitHub API")[0]
        return ctx, _scrub(why, token)
    text = message[:65536] if isinstance(message, str) else None
    return replace(ctx, commit_message=text), ""


def _found(pull: PullRequest, number: int, *, merged: bool) -> Found:
    labels = label_names([label.name for label in pull.labels])
    return number, labels, pull_details(pull.title, pull.body, merged=merged)


def _pull_of_commit(repo: Repository, sha: str) -> Found:
    """The merged pull request whose merge commit is ``sha``, else the first one listed."""
    pulls = list(itertools.islice(repo.get_commit(sha).get_pulls(), MAX_PULLS_SCANNED))
    if not pulls:
        return None, (), None
    merged = next(
        (p for p in pulls if p.merged_at is not None and (p.merge_commit_sha or "") == sha),
        None,
    )
    chosen = merged or pulls[0]
    return _found(chosen, chosen.number, merged=merged is not None)


_PERMISSION_HINT = (
    " Add `pull-requests: read` to the job's `permissions:` (the default `github-token` then "
    "can read the labels), or pass a token that can read pull requests as `github-token`."
)


def _fallback(ctx: GitHubContext, why: str, need_labels: bool, hint: str = "") -> GitHubContext:
    """``ctx`` with ``labels_error`` saying ``why`` when the labels were needed."""
    if not need_labels:
        return ctx
    what = (
        f"the labels of pull request #{ctx.pull_request} could not be read from"
        if ctx.pull_request is not None
        else f"the pull request of commit {(ctx.commit_sha or '')[:12]} could not be looked up in"
    )
    message = f"`deploy-labels` is set, but {what} the GitHub API: {why}."
    hint = hint.strip() or "Re-run the job once the GitHub API answers again."
    return replace(ctx, labels_error=message, labels_hint=hint)


def explain(
    exc: BaseException, api_url: str, refusals: Mapping[int, tuple[str, str]], *,
    doing: str, said: str = "",
) -> tuple[str, str, bool]:
    """What went wrong with a GitHub API call, what to do about it (may be empty), and whether
    the token was refused (a status of ``refusals``). ``said``: GitHub's message, if shown."""
    import github

    if (limited := rate_limit(exc)) is not None:
        return limited.message, limited.hint, False
    if isinstance(exc, github.GithubException):
        if exc.status in refusals:
            what, hint = refusals[exc.status]
            return f"{what} ({exc.status}{said})", hint, True
        return f"the GitHub API answered HTTP {exc.status}{said}", "", False
    if isinstance(exc, requests.RequestException):
        return f"the GitHub API at {api_url} could not be reached ({type(exc).__name__})", "", False
    return f"unexpected {type(exc).__name__} while {doing}", "", False


class GitHubRateLimited(RateLimitedError):
    """GitHub's rate limit: ``retry_after`` is the wait until it resets, ``hint`` says when."""

    title = "GitHub API rate limit"


def rate_limit(exc: BaseException, now: datetime | None = None) -> GitHubRateLimited | None:
    """``exc`` as a ``GitHubRateLimited`` when it is GitHub's rate limit answer, else None. The
    primary limit: 403 or 429 with ``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset``
    (epoch seconds); a secondary limit: 403 or 429, often with ``Retry-After``; without either
    header GitHub asks to wait at least a minute. PyGithub knows some by their message."""
    import github

    if isinstance(exc, GitHubRateLimited):
        return exc
    if not isinstance(exc, github.GithubException):
        return None
    headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
    after, left = headers.get("retry-after"), headers.get("x-ratelimit-remaining")
    said = isinstance(exc, github.RateLimitExceededException) or after is not None or left == "0"
    if not (exc.status == 429 or (exc.status == 403 and said)):  # noqa: PLR2004
        return None
    now = now or datetime.now(UTC)
    reset, at = headers.get("x-ratelimit-reset", ""), None
    if (wait := parse_retry_after(after, now)) is not None:
        at = now + timedelta(seconds=min(wait, 3e9))  # an absurd header must not overflow
    elif left == "0" and re.fullmatch(r"[0-9]{1,10}", reset):  # ASCII epoch seconds, to 2286
        at = datetime.fromtimestamp(int(reset), UTC)
        wait = max(0.0, (at - now).total_seconds())
    when = "GitHub gave no reset time and asks to wait at least a minute."
    if at is not None:
        when = f"It resets at {at:%Y-%m-%d %H:%M:%S} UTC."
    text = str(exc.data.get("message") or "") if isinstance(exc.data, dict) else ""
    primary = left == "0" or (left is None and after is None
                              and text.lower().startswith("api rate limit exceeded"))
    what = ("the GitHub API rate limit of this token is exhausted" if primary
            else "GitHub's secondary rate limit was hit")
    return GitHubRateLimited(what, status_code=exc.status, hint=when,
                             retry_after=60.0 if wait is None else wait)


def call_github(
    retrier: Retrier, fn: Callable[[], T], what: str, *, deadline: float | None
) -> T:
    """``retrier.call(fn)`` with GitHub's rate limit raised as ``GitHubRateLimited``: waited
    out (the throttled path) when it resets before ``deadline``, else given up at once."""

    def once() -> T:
        try:
            return fn()
        except Exception as exc:
            if (limited := rate_limit(exc, retrier.clock.wall())) is None:
                raise
            raise limited from exc

    return retrier.call(once, what, deadline=deadline)


_STATUS_REASONS: dict[int, tuple[str, str]] = {
    401: ("the GitHub API rejected the token", " Check `github-token`."),
    403: ("the token lacks permission to read pull requests", _PERMISSION_HINT),
    404: ("the repository or pull request is not visible to this token", _PERMISSION_HINT),
}


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "***") if token.strip() else text
