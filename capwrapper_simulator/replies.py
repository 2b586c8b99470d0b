"""What the simulator answers: status, headers and body, before it goes on the wire."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json"
HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
NON_JSON_PAGE = (
    "<!DOCTYPE html><html><head><title>Maintenance</title></head>"
    "<body><p>We'll be back shortly.</p></body></html>"
)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Reply(status, body, JSON_TYPE, dict(headers or {}))


def error_reply(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    """The documented error shape: ``{"error": <code>, "message": <human text>}``."""
    return json_reply(status, {"error": code, "message": message}, headers)


def html_reply(status: int, reason: str) -> Reply:
    page = HTML_PAGE.format(status=status, reason=reason)
    return Reply(status, page.encode(), "text/html", {})


def non_json_reply(body: str | None) -> Reply:
    return Reply(200, (body if body is not None else NON_JSON_PAGE).encode(), "text/html", {})
