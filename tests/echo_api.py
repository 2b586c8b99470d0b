"""A loopback stand-in for the Capwrapper API that echoes the caller's key back, for leak tests.

A careless or hostile server may put whatever it was sent into its answers: the API key in an
error message, an HTML error page, a build's ``error`` field or a download URL. ``EchoApi``
answers every request through a ``responder`` and then replaces ``{key}`` in the body and the
headers with the credential the request carried (what follows ``Bearer `` or ``token ``), so a
test can check that nothing the server echoes ends up in the action's log, outputs or summary.

    with EchoApi(success_with_echo) as api:
        ...  # api.base_url is http://127.0.0.1:<port>/v1; api.requests lists what came in
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

KEY_SLOT = "{key}"
ORIGIN_SLOT = "{origin}"


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path: str  # without the query
    query: str
    authorization: str | None
    body: bytes


@dataclass(frozen=True)
class Answer:
    """What to send back; ``{key}`` and ``{origin}`` are filled in everywhere."""

    status: int
    body: str = ""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[Seen], Answer]


def json_answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(payload), "application/json", dict(headers or {}))


_BUILD_PATH = re.compile(r"^/v1/builds/(?P<id>[^/]+)$")


def build_json(build_id: str, platform: str, **fields: Any) -> dict[str, Any]:
    """A finished build as the API shows it (fields may override or add)."""
    base: dict[str, Any] = {
        "id": build_id,
        "status": "success",
        "platform": platform,
        "bundleId": "com.example.shop",
        "version": "1.4.0",
        "appName": "Example Shop",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "completedAt": "2026-01-01T00:01:00.000Z",
    }
    base.update(fields)
    return base


def builds_api(**fields: Any) -> Responder:
    """An API whose builds are finished as soon as they are created, with ``fields`` (which
    may hold ``{key}``) in every build; ``GET {origin}/files/…`` answers a small binary."""

    def answer(seen: Seen) -> Answer:
        if seen.path.startswith("/files/"):
            return Answer(200, "binary", "application/octet-stream")
        if seen.method == "GET" and seen.path == "/v1/builds":
            return json_answer(200, {"data": []})
        if seen.method == "POST" and seen.path == "/v1/builds":
            platform = json.loads(seen.body or b"{}").get("platform", "android")
            return json_answer(201, build_json(f"bld_{platform}", platform, **fields))
        match = _BUILD_PATH.match(seen.path)
        if seen.method == "GET" and match:
            platform = match["id"].removeprefix("bld_")
            return json_answer(200, build_json(match["id"], platform, **fields))
        return json_answer(404, {"error": "not_found", "message": "No such route."})

    return answer


def always(answer: Answer) -> Responder:
    """Every request gets ``answer``."""
    return lambda _seen: answer


class EchoApi:
    """A threaded HTTP server on 127.0.0.1 (or ``host``) answering through ``responder``."""

    def __init__(self, responder: Responder, *, host: str = "127.0.0.1") -> None:
        self.responder = responder
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.host = host

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def __enter__(self) -> EchoApi:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def _fill(text: str, key: str, origin: str, *, in_json: bool = False) -> str:
    if in_json:  # inside a JSON string: `"` and `\` in the key must not break the document
        key = json.dumps(key)[1:-1]
    return text.replace(KEY_SLOT, key).replace(ORIGIN_SLOT, origin)


def _handler_for(api: EchoApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()  # headers and body go out in two writes: do not wait between them
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            seen = Seen(
                self.command,
                parts.path,
                parts.query,
                self.headers.get("Authorization"),
                self.rfile.read(length),
            )
            api.record(seen)
            key = (seen.authorization or "").partition(" ")[2]  # after `Bearer ` or `token `
            answer = api.responder(seen)
            in_json = "json" in answer.content_type
            body = _fill(answer.body, key, api.origin, in_json=in_json).encode("utf-8")
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in answer.headers.items():
                self.send_header(name, _fill(value, key, api.origin))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: ``api.requests`` is the log."""

    return Handler
