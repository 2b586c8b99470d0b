"""One comment per marker on a pull request: added the first time, edited afterwards.

Comments on a pull request are issue comments: ``GET/POST /repos/{repo}/issues/{n}/comments``
and ``PATCH /repos/{repo}/issues/comments/{id}`` (PyGithub, through the client ``main`` built).
A comment is ours when its body begins with the marker; when several do (someone copied it),
one written by a bot account is preferred, then the oldest. A comment found or made once is
remembered, so the second write of a run is a single PATCH (none when nothing changed).

A write is tried again on transient failures (a 5xx, a timeout, GitHub's rate limit) through the
one retry policy (``context.call_github``), within the caller's deadline; a rate limit that ends
later fails at once, is no refusal, and names when it resets. Trying again is safe: a PATCH sets the
same body, and a POST is only sent after the comments were listed again, so a comment that the
failed POST made after all is found by its marker and edited instead of added twice.

Every failure becomes a ``CommentError`` that says why in words, keeps GitHub's message and
never holds the token.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from capwrapper_action.errors import CancelledError
from capwrapper_action.github.context import call_github, explain

if TYPE_CHECKING:
    from github import Github
    from github.IssueComment import IssueComment

    from capwrapper_action.retry import Retrier

MAX_SCANNED = 500  # comments read to find ours (a pull request rarely has more)
MAX_BODY = 65536  # GitHub's limit for a comment body
PERMISSION_HINT = (
    "Give the job `permissions: pull-requests: write` (with `contents: read`), or set "
    "`pr-comment: never`."
)
Written = Literal["created", "edited", "unchanged"]


class CommentError(Exception):
    """Writing a comment failed. ``forbidden``: the token may not write (trying again later
    in the same run is pointless)."""

    def __init__(self, reason: str, *, hint: str = "", forbidden: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint
        self.forbidden = forbidden


class CommentSync:
    """The marked comments of ``repository``'s pull requests, through ``github``."""

    def __init__(self, github: Github, repository: str, *, token: str, api_url: str) -> None:
        self._github = github
        self._repository = repository
        self._token = token
        self._api_url = api_url
        self._known: dict[tuple[int, str], IssueComment] = {}

    def write(
        self, number: int, marker: str, body: str, *,
        retrier: Retrier | None = None, deadline: float | None = None,
    ) -> Written:
        """Make the comment of ``marker`` on pull request ``number`` read ``body``; with a
        ``retrier``, transient failures are tried again until ``deadline`` (its clock)."""
        body = body if len(body) <= MAX_BODY else body[: MAX_BODY - 1] + "…"
        once = functools.partial(self._write_once, number, marker, body)
        try:
            if retrier is None:
                return once()
            what = f"the comment on pull request #{number}"
            return call_github(retrier, once, what, deadline=deadline)
        except CancelledError:  # a signal while waiting to try again
            raise CommentError("the run was cancelled before the write could be retried") from None
        except Exception as exc:  # every way of failing becomes one readable reason
            raise _explain(exc, self._api_url, self._token) from None

    def _write_once(self, number: int, marker: str, body: str) -> Written:
        issue = self._github.get_repo(self._repository).get_issue(number)
        comment = self._known.get((number, marker))
        if comment is None:  # listed again on every try: a lost POST's comment is found
            comment = _find(issue.get_comments(), marker)
        written: Written
        if comment is None:
            comment, written = issue.create_comment(body), "created"
        elif comment.body == body:
            written = "unchanged"
        else:
            comment.edit(body)
            written = "edited"
        self._known[(number, marker)] = comment
        return written


def _find(comments: Iterable[IssueComment], marker: str) -> IssueComment | None:
    scanned = itertools.islice(comments, MAX_SCANNED)
    mine = [c for c in scanned if (c.body or "").startswith(marker)]
    by_bot = [c for c in mine if getattr(c.user, "type", "") == "Bot"]
    return next(iter(by_bot or mine), None)


def _explain(exc: BaseException, api_url: str, token: str) -> CommentError:
    said = _message(getattr(exc, "data", None), token)
    why, hint, refused = explain(exc, api_url, _REFUSALS, doing="writing the comment", said=said)
    return CommentError(why, hint=hint, forbidden=refused)


_REFUSALS: dict[int, tuple[str, str]] = {
    401: ("the GitHub API rejected the token", "Check `github-token`."),
    403: ("the token may not write comments on this pull request", PERMISSION_HINT),
    404: ("the token cannot see this pull request", PERMISSION_HINT),
}


def _message(data: object, token: str) -> str:
    """``: <GitHub's message>`` (capped, one line, token scrubbed), or empty."""
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str) or not message.strip():
        return ""
    text = " ".join(message.split())[:200]
    return ": " + (text.replace(token, "***") if token.strip() else text)
