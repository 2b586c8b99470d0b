"""Commit statuses for the GitHub API stand-in (``tests/github_standin.py``), as GitHub has them:

- ``POST /repos/{o}/{r}/statuses/{sha}``: ``state`` one of ``error``, ``failure``, ``pending``,
  ``success``; ``description`` at most 140 characters; ``context`` defaults to ``default``;
  422 ``Validation Failed`` otherwise; 403 without ``statuses: write``.
- ``GET /repos/{o}/{r}/statuses/{sha}`` and ``GET /repos/{o}/{r}/commits/{ref}/statuses``:
  every status, newest first, ``per_page`` (default 30, at most 100) and ``page``, with a
  ``Link: <…>; rel="next"`` header while more follow.
- ``GET /repos/{o}/{r}/commits/{ref}/status``: the combined status, the newest per context.

``failures[method]`` (``GET``: the reads, ``POST``: the writes) lists HTTP statuses, or whole
answers (``github_standin.rate_limited``), that answer the next status requests of that method
instead (a GitHub blip, outage or rate limit), one each.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

STATES = ("error", "failure", "pending", "success")
MAX_DESCRIPTION = 140
STATUS_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("post_status", re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/statuses/(?P<sha>[^/]+)$")),
    ("commit_statuses",
     re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<sha>[^/]+)/statuses$")),
    ("combined_status",
     re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<sha>[^/]+)/status$")),
)
STATUS_ENDPOINTS = frozenset(name for name, _ in STATUS_ROUTES)
Answer = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class CommitStatus:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None


@dataclass
class StatusBook:
    """Every status set, oldest first. Tests read ``on(sha)`` or ``current(sha)``."""

    statuses: list[CommitStatus] = field(default_factory=list)
    failures: dict[str, list[Any]] = field(default_factory=dict)  # int | Answer
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self, sha: str, state: str, context: str, description: str | None = None,
        target_url: str | None = None,
    ) -> CommitStatus:
        with self._lock:
            status = CommitStatus(len(self.statuses) + 1, sha, state, context, description,
                                  target_url)
            self.statuses.append(status)
        return status

    def on(self, sha: str) -> list[CommitStatus]:
        """Every status of ``sha``, newest first (GitHub's order)."""
        with self._lock:
            return [s for s in reversed(self.statuses) if s.sha == sha]

    def current(self, sha: str) -> dict[str, CommitStatus]:
        """The newest status of each context of ``sha``."""
        found: dict[str, CommitStatus] = {}
        for status in self.on(sha):
            found.setdefault(status.context, status)
        return found

    def answer(
        self, method: str, endpoint: str, match: dict[str, str], body: bytes, base: str, *,
        can_write: bool,
    ) -> Answer:
        sha = match["sha"]
        with self._lock:
            queued = self.failures.get(method)
            failure = queued.pop(0) if queued else None
        if isinstance(failure, tuple):
            return failure
        if failure is not None:
            return failure, _message("Stand-in failure"), {}
        if endpoint == "post_status" and method == "POST":
            if not can_write:
                return 403, _message("Resource not accessible by integration"), {}
            return self._create(sha, body, base)
        if method != "GET":
            return 404, _message("Not Found"), {}
        if endpoint == "combined_status":
            current = list(self.current(sha).values())
            return 200, self._combined(sha, current, base), {}
        return self._page(sha, match, base, endpoint)

    def _create(self, sha: str, body: bytes, base: str) -> Answer:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return 400, _message("Problems parsing JSON"), {}
        if not isinstance(data, dict) or data.get("state") not in STATES:
            return 422, _message("Validation Failed: state is not included in the list"), {}
        description = data.get("description")
        if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
            return 422, _message("Validation Failed: description is too long (maximum is 140 "
                                 "characters)"), {}
        status = self.add(sha, data["state"], str(data.get("context") or "default"),
                          description, data.get("target_url"))
        return 201, _json(status, base), {}

    def _page(self, sha: str, query: dict[str, str], base: str, endpoint: str) -> Answer:
        per_page = max(1, min(100, int(query.get("per_page") or 30)))
        page = max(1, int(query.get("page") or 1))
        items = self.on(sha)
        chosen = items[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(items):
            path = f"statuses/{sha}" if endpoint == "post_status" else f"commits/{sha}/statuses"
            headers["Link"] = f'<{base}/{path}?per_page={per_page}&page={page + 1}>; rel="next"'
        return 200, [_json(s, base) for s in chosen], headers

    @staticmethod
    def _combined(sha: str, current: list[CommitStatus], base: str) -> dict[str, Any]:
        states = {s.state for s in current}
        state = next((s for s in ("error", "failure", "pending") if s in states), "success")
        return {
            "state": state if current else "pending", "sha": sha,
            "total_count": len(current), "statuses": [_json(s, base) for s in current],
            "url": f"{base}/commits/{sha}/status",
        }


def _json(status: CommitStatus, base: str) -> dict[str, Any]:
    return {
        "id": status.id, "node_id": f"SC_{status.id}", "state": status.state,
        "context": status.context, "description": status.description,
        "target_url": status.target_url, "url": f"{base}/statuses/{status.sha}",
        "created_at": "2024-05-01T12:00:00Z", "updated_at": "2024-05-01T12:00:00Z",
        "creator": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
    }


def _message(text: str) -> dict[str, str]:
    return {"message": text, "documentation_url": "https://docs.github.com/rest"}
