"""Pull request comments for the GitHub API stand-in (``tests/github_standin.py``). They are
issue comments, as on GitHub:

- ``GET /repos/{o}/{r}/issues/{n}``: the issue of a pull request the stand-in holds;
- ``GET /repos/{o}/{r}/issues/{n}/comments``: oldest first, ``per_page`` (default 30, at most
  100) and ``page``, with a ``Link: <…>; rel="next"`` header while more follow;
- ``POST /repos/{o}/{r}/issues/{n}/comments`` with ``{"body": …}``: 201 and the comment;
- ``GET``/``PATCH /repos/{o}/{r}/issues/comments/{id}``.

A token without write access (``can_write=False``) gets 403 ``Resource not accessible by
integration`` on the writes; an empty body 422. And one commit read:

- ``GET /repos/{o}/{r}/commits/{sha}``: the commit's message (``commit_messages``), else 422
  ``No commit found for SHA``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT_LOGIN = "github-actions[bot]"
COMMENT_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("issue", re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)$")),
    ("issue_comments",
     re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/comments$")),
    ("comment", re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)$")),
    ("commit", re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<sha>[0-9a-f]+)$")),
)  # fmt: skip
COMMENT_ENDPOINTS = frozenset(name for name, _ in COMMENT_ROUTES)
_WRITES = frozenset({("issue_comments", "POST"), ("comment", "PATCH")})
Answer = tuple[int, Any, dict[str, str]]


@dataclass
class StandinComment:
    """An issue comment; ``edits`` counts the PATCHes it received, ``bodies`` holds every
    body it had, the first one first."""

    id: int
    number: int
    body: str
    login: str = BOT_LOGIN
    user_type: str = "Bot"
    edits: int = 0
    bodies: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bodies.append(self.body)


@dataclass
class CommentBook:
    """Every comment by id, and the commit messages the stand-in knows."""

    comments: dict[int, StandinComment] = field(default_factory=dict)
    commit_messages: dict[str, str] = field(default_factory=dict)  # sha -> message
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self, number: int, body: str, *, login: str = BOT_LOGIN, user_type: str = "Bot"
    ) -> StandinComment:
        with self._lock:
            comment = StandinComment(len(self.comments) + 1, number, body, login, user_type)
            self.comments[comment.id] = comment
        return comment

    def on(self, number: int) -> list[StandinComment]:
        with self._lock:
            return [c for c in self.comments.values() if c.number == number]

    def answer(
        self, method: str, endpoint: str, match: dict[str, str], body: bytes, base: str, *,
        has_pull: Callable[[int], bool], can_write: bool,
    ) -> Answer:
        if (endpoint, method) not in _WRITES | {(endpoint, "GET")}:
            return _not_found()
        if endpoint == "commit":
            return self._commit(match["sha"], base)
        if (endpoint, method) in _WRITES and not can_write:
            return 403, _message("Resource not accessible by integration"), {}
        if endpoint == "comment":
            return self._one(method, int(match["id"]), body, base)
        number = int(match["number"])
        if not has_pull(number):
            return _not_found()
        if endpoint == "issue":
            return 200, {"url": f"{base}/issues/{number}", "number": number}, {}
        if method == "POST":
            return self._create(number, body, base)
        return self._page(number, match, base)

    def _create(self, number: int, body: bytes, base: str) -> Answer:
        text = _body_text(body)
        if text is None:
            return 422, _message("Validation Failed: body is required"), {}
        return 201, _comment_json(self.add(number, text), base), {}

    def _one(self, method: str, comment_id: int, body: bytes, base: str) -> Answer:
        comment = self.comments.get(comment_id)
        if comment is None:
            return _not_found()
        if method == "PATCH":
            text = _body_text(body)
            if text is None:
                return 422, _message("Validation Failed: body is required"), {}
            with self._lock:
                comment.body, comment.edits = text, comment.edits + 1
                comment.bodies.append(text)
        return 200, _comment_json(comment, base), {}

    def _page(self, number: int, query: dict[str, str], base: str) -> Answer:
        per_page = max(1, min(100, int(query.get("per_page") or 30)))
        page = max(1, int(query.get("page") or 1))
        items = self.on(number)
        chosen = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            url = f"{base}/issues/{number}/comments?per_page={per_page}&page={page + 1}"
            headers["Link"] = f'<{url}>; rel="next"'
        return 200, [_comment_json(c, base) for c in chosen], headers

    def _commit(self, sha: str, base: str) -> Answer:
        message = self.commit_messages.get(sha)
        if message is None:
            return 422, _message(f"No commit found for SHA: {sha}"), {}
        url = f"{base}/commits/{sha}"
        return 200, {"sha": sha, "url": url, "commit": {"message": message, "url": url}}, {}


def _comment_json(comment: StandinComment, base: str) -> dict[str, Any]:
    return {
        "id": comment.id, "body": comment.body,
        "url": f"{base}/issues/comments/{comment.id}",
        "issue_url": f"{base}/issues/{comment.number}",
        "html_url": f"{base}/pull/{comment.number}#issuecomment-{comment.id}",
        "user": {"login": comment.login, "id": 41898282, "type": comment.user_type},
        "created_at": "2024-05-01T12:00:00Z", "updated_at": "2024-05-01T12:00:00Z",
    }  # fmt: skip


def _body_text(body: bytes) -> str | None:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    text = data.get("body") if isinstance(data, dict) else None
    return text if isinstance(text, str) and text else None


def _message(text: str) -> dict[str, str]:
    return {"message": text, "documentation_url": "https://docs.github.com/rest"}


def _not_found() -> Answer:
    return 404, _message("Not Found"), {}
