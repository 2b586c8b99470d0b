"""The API itself, free of HTTP plumbing: routing, auth, rate limits and the endpoints."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from capwrapper_simulator.clock import SimClock
from capwrapper_simulator.config import SimConfig
from capwrapper_simulator.ratelimit import RateLimiter
from capwrapper_simulator.replies import Reply, error_reply
from capwrapper_simulator.state import SimState, key_fingerprint
from capwrapper_simulator.throttle import too_many_requests
from capwrapper_simulator.validation import InvalidRequest

UNKNOWN = "unknown"
_ROUTES: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (
    (re.compile(r"^/v1/builds$"), {"POST": "create_build", "GET": "list_builds"}),
    (re.compile(r"^/v1/builds/(?P<param>[^/]+)$"), {"GET": "get_build"}),
    (re.compile(r"^/v1/deploys$"), {"POST": "create_deploy"}),
    (re.compile(r"^/v1/artifacts/(?P<param>[^/]+)$"), {"GET": "download"}),
)


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    endpoint: str = UNKNOWN
    param: str = ""
    allowed: tuple[str, ...] = field(default=())

    @property
    def api_key(self) -> str | None:
        scheme, _, key = self.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        return key.strip()

    @property
    def fingerprint(self) -> str | None:
        key = self.api_key
        return key_fingerprint(key) if key else None

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json_object(self, require_type: bool) -> dict[str, Any]:
        """The body as a JSON object, or ``InvalidRequest``."""
        content_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if require_type and content_type != "application/json":
            raise InvalidRequest("Content-Type must be application/json")
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidRequest(f"the request body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidRequest("the request body must be a JSON object")
        return data


def route(method: str, path: str) -> tuple[str, str, tuple[str, ...]]:
    """``(endpoint, path parameter, methods the path allows)``; endpoint ``unknown`` if none."""
    clean = path.rstrip("/") or "/"
    for pattern, methods in _ROUTES:
        match = pattern.match(clean)
        if match:
            endpoint = methods.get(method, UNKNOWN)
            return endpoint, match.groupdict().get("param") or "", tuple(methods)
    return UNKNOWN, "", ()


Handler = Callable[[Request], Reply]


class Gate:
    """What every request passes before its endpoint: auth, rate limit, idempotency."""

    def __init__(
        self, config: SimConfig, state: SimState, clock: SimClock, handlers: dict[str, Handler]
    ) -> None:
        self.config = config
        self.state = state
        self.clock = clock
        self.handlers = handlers
        self.limiter = RateLimiter()

    def handle(self, request: Request) -> Reply:
        if request.endpoint == "download":  # signed URLs carry no API key
            return self._call(request)
        key = request.api_key
        if key is None or key not in self.config.api_keys:
            return error_reply(401, "unauthorized", "Invalid or missing API key.")
        limited = self._rate_limit(key)
        if limited is not None:
            return limited
        if request.endpoint == UNKNOWN:
            return _not_routed(request)
        idem = request.headers.get("idempotency-key", "").strip()
        if not (idem and request.method == "POST" and self.config.honour_idempotency_key):
            return self._call(request)
        slot = (key_fingerprint(key), request.endpoint, idem)
        with self.state.lock:
            earlier = self.state.idempotent.get(slot)
            if earlier is not None:
                return Reply(
                    earlier.status,
                    earlier.body,
                    earlier.content_type,
                    {**earlier.headers, "Idempotent-Replayed": "true"},
                )
            reply = self._call(request)
            if reply.status < 500:  # noqa: PLR2004 - server errors may be retried afresh
                self.state.idempotent[slot] = reply
            return reply

    def _call(self, request: Request) -> Reply:
        try:
            return self.handlers[request.endpoint](request)
        except InvalidRequest as exc:
            return error_reply(400, "invalid_request", str(exc))

    def _rate_limit(self, key: str) -> Reply | None:
        limit = self.config.rate_limit
        if limit is None:
            return None
        wait = self.limiter.check(key_fingerprint(key), limit[0], limit[1], self.clock.now())
        if wait is None:
            return None
        message = (
            f"Rate limit of {limit[0]} requests per {limit[1]:g} seconds exceeded for this API key."
        )
        return too_many_requests(message, wait, self.config.retry_after)


def _not_routed(request: Request) -> Reply:
    if request.allowed:
        return error_reply(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.path}.",
            {"Allow": ", ".join(request.allowed)},
        )
    return error_reply(404, "not_found", f"No such endpoint: {request.method} {request.path}.")
