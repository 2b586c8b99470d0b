"""A local stand-in for the part of the GitHub REST API the action reads, on 127.0.0.1.

It answers what PyGithub requests for the commit → pull request → labels lookups:

- ``GET {prefix}/repos/{owner}/{repo}``
- ``GET {prefix}/repos/{owner}/{repo}/commits/{sha}/pulls``
- ``GET {prefix}/repos/{owner}/{repo}/pulls/{number}``
- ``GET {prefix}/repos/{owner}/{repo}/issues/{number}/labels``

and the pull request comments (``tests/standin_comments.py``): ``GET …/issues/{n}/comments``
(oldest first, paginated with a ``Link`` header), ``POST`` there, ``PATCH
…/issues/comments/{id}``, and ``GET …/commits/{sha}`` for a commit's message. A token
registered with ``can_write_pulls=False`` (a read-only or fork token) gets 403 on the writes.

and the commit statuses (``tests/standin_statuses.py``): ``POST …/statuses/{sha}``,
``GET …/statuses/{sha}``, ``GET …/commits/{ref}/statuses`` (newest first, paginated with a
``Link`` header) and ``GET …/commits/{ref}/status``. A token registered with
``can_write_statuses=False`` (no ``statuses: write``) gets 403 on the POST.

``prefix`` is empty (github.com style) or ``/api/v3`` (GitHub Enterprise Server style). Tokens
are checked like GitHub does: an unknown token gets 401 ``Bad credentials``; a token registered
with ``can_read_pulls=False`` gets 403 ``Resource not accessible by integration`` on pull
request endpoints; a repository the stand-in does not hold gets 404. ``fail_status`` makes every
request fail with that status (for 5xx and rate-limit cases), or the next ``fail_times`` ones;
403 and 429 then answer like GitHub's rate limit (``rate_limited``: ``X-RateLimit-Remaining: 0``
and a reset in the year 2100 unless ``fail_headers`` say otherwise). Every request is logged.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.standin_comments import (
    BOT_LOGIN,
    COMMENT_ENDPOINTS,
    COMMENT_ROUTES,
    CommentBook,
    StandinComment,
)
from tests.standin_statuses import STATUS_ENDPOINTS, STATUS_ROUTES, StatusBook

_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("repo", re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)$")),
    ("commit_pulls", re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<sha>[^/]+)/pulls$")),
    ("pull", re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<number>\d+)$")),
    ("labels", re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/labels$")),
)
_PULL_ENDPOINTS = frozenset({"commit_pulls", "pull", "labels"})


@dataclass
class StandinPull:
    """A pull request as the stand-in holds it. ``labels`` may be changed at any time."""

    number: int
    labels: list[str]
    head_sha: str
    merge_commit_sha: str | None = None
    merged: bool = False
    state: str = "open"
    head_repo: str | None = None  # None: the same repository (not a fork)
    title: str = ""  # "" shows as "Pull request <number>"
    body: str | None = None


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # without the prefix and the query
    query: dict[str, list[str]]
    endpoint: str  # one of the route names, or "unknown"
    authorization: str  # the scheme only ("token", "Bearer", "" when none): tokens stay out of logs
    status: int


@dataclass
class _Token:
    can_read_pulls: bool = True
    can_write_pulls: bool = True
    can_write_statuses: bool = True


@dataclass
class GitHubStandin:
    """Start with ``with GitHubStandin() as gh:``; point PyGithub's ``base_url`` at ``gh.url``."""

    repository: str = "octo-org/shop-app"
    prefix: str = ""
    pulls: dict[int, StandinPull] = field(default_factory=dict)
    commit_pulls: dict[str, list[int]] = field(default_factory=dict)
    tokens: dict[str, _Token] = field(default_factory=dict)
    fail_status: int | None = None
    fail_times: int | None = None  # None: every request fails with fail_status
    fail_headers: dict[str, str] = field(default_factory=dict)  # replace the rate limit's
    requests: list[LoggedRequest] = field(default_factory=list)
    comment_book: CommentBook = field(default_factory=CommentBook)
    statuses: StatusBook = field(default_factory=StatusBook)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- set-up ----------------------------------------------------------------------------
    def add_token(
        self, token: str, *, can_read_pulls: bool = True, can_write_pulls: bool = True,
        can_write_statuses: bool = True,
    ) -> None:
        self.tokens[token] = _Token(can_read_pulls, can_write_pulls, can_write_statuses)

    def add_pull(
        self,
        number: int,
        labels: list[str],
        *,
        head_sha: str,
        merge_commit_sha: str | None = None,
        merged: bool = False,
        head_repo: str | None = None,
        commits: tuple[str, ...] = (),
        title: str = "",
        body: str | None = None,
    ) -> StandinPull:
        """Add a pull request; it is listed for ``commits``, its head and its merge commit."""
        pull = StandinPull(
            number, list(labels), head_sha, merge_commit_sha, merged,
            "closed" if merged else "open", head_repo, title, body,
        )
        self.pulls[number] = pull
        for sha in {*commits, head_sha, *([merge_commit_sha] if merge_commit_sha else [])}:
            self.commit_pulls.setdefault(sha, []).append(number)
        return pull

    def set_labels(self, number: int, labels: list[str]) -> None:
        self.pulls[number].labels = list(labels)

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.prefix}"

    def start(self) -> GitHubStandin:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GitHubStandin:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def endpoints(self) -> list[str]:
        """The endpoints requested so far, in order."""
        with self._lock:
            return [r.endpoint for r in self.requests]

    # -- answering -------------------------------------------------------------------------
    def answer(
        self, method: str, target: str, authorization: str, body: bytes = b""
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        path = parts.path
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix):]
        endpoint, match = _route(path)
        match = {**match, **{k: v[-1] for k, v in parse_qs(parts.query).items()}}
        status, body, headers = self._dispatch(method, endpoint, match, authorization, body)
        scheme = authorization.partition(" ")[0]
        with self._lock:
            self.requests.append(
                LoggedRequest(method, path, parse_qs(parts.query), endpoint, scheme, status)
            )
        return status, body, headers

    def _dispatch(
        self, method: str, endpoint: str, match: dict[str, str], authorization: str,
        body: bytes = b"",
    ) -> tuple[int, Any, dict[str, str]]:
        if self.fail_status is not None and self.fail_times != 0:
            with self._lock:
                self.fail_times = None if self.fail_times is None else self.fail_times - 1
            return _failure(self.fail_status, self.fail_headers)
        scheme, _, token = authorization.partition(" ")
        known = self.tokens.get(token.strip()) if scheme.lower() in ("token", "bearer") else None
        if known is None:
            return 401, _message("Bad credentials"), {}
        if endpoint in COMMENT_ENDPOINTS and match.get("repo") == self.repository:
            return self.comment_book.answer(method, endpoint, match, body, self._base(),
                                            has_pull=self.pulls.__contains__,
                                            can_write=known.can_write_pulls)
        if endpoint in STATUS_ENDPOINTS and match.get("repo") == self.repository:
            return self.statuses.answer(method, endpoint, match, body, self._base(),
                                        can_write=known.can_write_statuses)
        if method != "GET" or endpoint == "unknown" or match.get("repo") != self.repository:
            return 404, _message("Not Found"), {}
        if endpoint in _PULL_ENDPOINTS and not known.can_read_pulls:
            return 403, _message("Resource not accessible by integration"), {}
        return self._read(endpoint, match)

    def _read(self, endpoint: str, match: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if endpoint == "repo":
            return 200, self._repo_json(), {}
        if endpoint == "commit_pulls":
            numbers = self.commit_pulls.get(match["sha"], [])
            return 200, [self._pull_json(self.pulls[n], listed=True) for n in numbers], {}
        pull = self.pulls.get(int(match["number"]))
        if pull is None:
            return 404, _message("Not Found"), {}
        if endpoint == "labels":
            return 200, [self._label_json(name) for name in pull.labels], {}
        return 200, self._pull_json(pull), {}

    def _base(self) -> str:
        return self.url + "/repos/" + self.repository

    def _repo_json(self, full_name: str | None = None) -> dict[str, Any]:
        name = full_name or self.repository
        return {
            "id": abs(hash(name)) % 10**8, "name": name.split("/")[1], "full_name": name,
            "fork": name != self.repository, "private": False,
            "url": self.url + "/repos/" + name, "html_url": "https://github.example/" + name,
        }

    def _label_json(self, name: str) -> dict[str, Any]:
        return {
            "id": abs(hash(name)) % 10**8, "name": name, "color": "ededed", "default": False,
            "url": f"{self._base()}/labels/{name}",
        }

    def _pull_json(self, pull: StandinPull, *, listed: bool = False) -> dict[str, Any]:
        """Like GitHub, list items lack ``merged`` (only ``merged_at`` tells)."""
        data: dict[str, Any] = {
            "url": f"{self._base()}/pulls/{pull.number}",
            "id": 1000 + pull.number,
            "number": pull.number,
            "state": pull.state,
            "title": pull.title or f"Pull request {pull.number}",
            "body": pull.body,
            "labels": [self._label_json(name) for name in pull.labels],
            "merged": pull.merged,
            "merged_at": "2024-05-01T12:00:00Z" if pull.merged else None,
            "merge_commit_sha": pull.merge_commit_sha,
            "head": {"sha": pull.head_sha, "ref": f"feature-{pull.number}",
                     "repo": self._repo_json(pull.head_repo)},
            "base": {"sha": "0" * 40, "ref": "main", "repo": self._repo_json()},
            "html_url": f"https://github.example/{self.repository}/pull/{pull.number}",
        }
        if listed:
            del data["merged"]
        return data


    # -- issue comments (tests/standin_comments.py) -----------------------------------------
    @property
    def comments(self) -> dict[int, StandinComment]:
        return self.comment_book.comments

    @property
    def commit_messages(self) -> dict[str, str]:
        return self.comment_book.commit_messages

    def add_comment(
        self, number: int, body: str, *, login: str = BOT_LOGIN, user_type: str = "Bot"
    ) -> StandinComment:
        """A comment as if someone (by default the Actions bot) had written it."""
        return self.comment_book.add(number, body, login=login, user_type=user_type)

    def comments_on(self, number: int) -> list[StandinComment]:
        return self.comment_book.on(number)


def _route(path: str) -> tuple[str, dict[str, str]]:
    for name, pattern in (*_ROUTES, *COMMENT_ROUTES, *STATUS_ROUTES):
        m = pattern.match(path.rstrip("/"))
        if m:
            return name, m.groupdict()
    return "unknown", {}


def _message(text: str) -> dict[str, str]:
    return {"message": text, "documentation_url": "https://docs.github.com/rest"}


def _failure(status: int, headers: Mapping[str, str]) -> tuple[int, Any, dict[str, str]]:
    """A forced failure; 403 and 429 look like GitHub's rate limit answer."""
    if status not in (403, 429):
        return status, _message("Stand-in failure"), {}
    return rate_limited(status, headers)


def rate_limited(
    status: int = 403, headers: Mapping[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    """GitHub's rate limit answer: by default the primary limit, exhausted until the year 2100;
    ``headers`` replace or add some (``{"X-RateLimit-Reset": "…"}``, ``{"Retry-After": "5"}``)."""
    sent = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800", **(headers or {})}
    return status, _message("API rate limit exceeded for installation ID 1."), sent


class _Handler(BaseHTTPRequestHandler):
    standin: GitHubStandin
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        auth = self.headers.get("Authorization", "")
        sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body, headers = self.standin.answer(self.command, self.path, auth, sent)
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is ``standin.requests``."""
