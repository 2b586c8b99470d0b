"""HTTP answers and failures turned into values or ``ApiError``s — the one place that knows
what a status code means. Messages name the request (method and path, never the query string
or the key), keep the server's own ``message`` and ``error`` code, and stay short: an HTML page
from a proxy becomes a note, never the page."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from capwrapper_action.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    GarbledResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnexpectedResponseError,
)
from capwrapper_action.timeutil import format_duration, parse_retry_after

# A gateway answered in the application's place: the request never reached it, so a create
# or deploy that got one was not carried out and may be sent again.
NOT_CARRIED_OUT = frozenset({502, 503, 504})

MAX_MESSAGE = 300  # longest server message kept in an error
_SNIPPET = 80  # longest piece of a non-JSON body quoted
_HTML = re.compile(rb"^\s*(<!doctype|<html|<head|<body|<\?xml|<center|<h1)", re.IGNORECASE)
_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")]*")
_HINTS = {
    403: "The API key is not allowed to do this: check its permissions in the Capwrapper "
    "dashboard (Settings > API Keys).",
    405: "Check that 'api-url' points at the Capwrapper API (…/v1), not at a website.",
}
_ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthError,
    404: NotFoundError,
    429: RateLimitedError,
}


def one_line(text: str, limit: int = MAX_MESSAGE, secret: str = "") -> str:
    """``text`` on one line, without the secret, at most ``limit`` characters."""
    if secret:
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def describe_body(body: bytes, secret: str = "") -> tuple[str | None, str]:
    """``(error code, words)`` for an error body: the server's message from JSON, or a note."""
    if not body.strip():
        return None, "(empty body)"
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        if _HTML.match(body[:200]):
            return None, "(HTML body from a proxy)"
        # Scrub before cutting: a cut inside the key would leave a piece no scrub can find.
        head = body[: _SNIPPET + 4 * len(secret)].decode("utf-8", "replace")
        snippet = one_line(head, _SNIPPET, secret)
        return None, f"(non-JSON body: {snippet!r})"
    if not isinstance(data, Mapping):
        return None, "(JSON body without a message)"
    code, message = _code_and_message(data)
    return (
        one_line(code, 64, secret) if code else None,
        one_line(message, MAX_MESSAGE, secret) if message else "(JSON body without a message)",
    )


def _code_and_message(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    error = data.get("error")
    if isinstance(error, Mapping):  # {"error": {"code": …, "message": …}}
        return _str(error.get("code")), _str(error.get("message"))
    code = _str(error) or _str(data.get("code"))
    message = _str(data.get("message")) or _str(data.get("detail"))
    if message is None and code is not None and " " in code:  # {"error": "Some words."}
        return None, code
    return code, message


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def error_for_status(
    response: requests.Response, body: bytes, *, method: str, path: str, now: datetime,
    secret: str = "",
) -> ApiError:
    """The error for a non-2xx answer. ``outcome_unknown`` is set for a 5xx other than
    502/503/504 (the server may have acted before failing); a gateway's 502/503/504 and every
    3xx/4xx say it surely did not."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    if 300 <= status < 400:  # noqa: PLR2004
        where = _where(response.headers.get("Location"))
        return UnexpectedResponseError(
            f"{method} {path} answered {status_text(status)}, pointing to {where}. Redirects "
            "are not followed, so the API key is never sent to another address.",
            status_code=status, method=method, path=path,
            hint="Set 'api-url' to the Capwrapper API address itself (…/v1).",
        )
    code, words = describe_body(body, secret)
    tail = f" [{code}]" if code else ""
    joint = " " if words.startswith("(") else ": "  # "502 Bad Gateway (HTML body …)"
    message = f"{method} {path} answered {status_text(status)}{joint}{words}{tail}"
    server_error = status >= 500  # noqa: PLR2004
    cls: type[ApiError] = ServerError if server_error else _ERRORS_BY_STATUS.get(
        status, UnexpectedResponseError
    )
    return cls(
        message, status_code=status, error_code=code, method=method, path=path,
        retry_after=retry_after, outcome_unknown=server_error and status not in NOT_CARRIED_OUT,
        hint=_HINTS.get(status),
    )


def _where(location: str | None) -> str:
    if not location:
        return "no address (no Location header)"
    parts = urlsplit(location.strip())
    host = parts.hostname or ""
    try:
        port = "" if parts.port is None else f":{parts.port}"
    except ValueError:  # a port that is not a number, or out of range
        port = ""
    base = f"{parts.scheme}://{host}{port}" if parts.scheme and host else ""
    return one_line(base + parts.path, 200) or "an empty address"


def decode_json(body: bytes, *, method: str, path: str, status: int, secret: str = "") -> Any:
    """The JSON of a 2xx answer, every string in it without ``secret``; a
    ``GarbledResponseError`` (outcome unknown) otherwise."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        _, words = describe_body(body, secret)
        raise GarbledResponseError(
            f"{method} {path} answered {status_text(status)} but the body is not JSON {words}.",
            status_code=status, method=method, path=path, outcome_unknown=True,
        ) from None
    return scrub_json(data, secret) if secret else data


def scrub_json(data: Any, secret: str) -> Any:
    """``data`` (fresh from ``json.loads``, changed in place) with ``secret`` replaced in every
    string, keys included. Done as the answer comes in, before any field is cut to a length
    limit (a cut key is past scrubbing). No recursion: any depth ``json`` accepts will do."""
    if not isinstance(data, (list, dict)):
        return _scrubbed(data, secret)
    pending: list[Any] = [data]  # only lists and dicts
    while pending:
        node = pending.pop()
        entries = list(enumerate(node) if isinstance(node, list) else node.items())
        if isinstance(node, dict):
            node.clear()
        for name, value in entries:
            if isinstance(value, (list, dict)):
                pending.append(value)
            node[_scrubbed(name, secret)] = _scrubbed(value, secret)
    return data


def _scrubbed(value: Any, secret: str) -> Any:
    return value.replace(secret, "***") if isinstance(value, str) else value


def error_for_exception(
    exc: requests.RequestException, *, method: str, path: str, timeout: tuple[float, float]
) -> NetworkError:
    """A ``NetworkError`` naming the cause in words. ``outcome_unknown`` is False only when
    no connection was made (refused, DNS, connect timeout): then nothing was sent."""
    cause, not_sent = _cause(exc, timeout)
    return NetworkError(
        f"{method} {path} failed: {cause}.", method=method, path=path,
        outcome_unknown=not not_sent,
    )


def _cause(exc: requests.RequestException, timeout: tuple[float, float]) -> tuple[str, bool]:
    if isinstance(exc, requests.ConnectTimeout):
        return f"could not connect within {format_duration(timeout[0])} (connect timeout)", True
    if isinstance(exc, requests.ReadTimeout):
        return f"no answer within {format_duration(timeout[1])} (read timeout)", False
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error: {_detail(exc) or 'handshake failed'}", False
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut off (the connection closed in the middle of the body)", False
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the answer's body could not be decoded", False
    if isinstance(exc, requests.ConnectionError):
        return _connection_cause(exc, timeout)
    return f"the request could not be sent ({type(exc).__name__})", False


def _connection_cause(
    exc: requests.ConnectionError, timeout: tuple[float, float]
) -> tuple[str, bool]:
    inner = exc.args[0] if exc.args else None
    reason = inner.reason if isinstance(inner, MaxRetryError) else inner
    detail = _detail(exc)
    if isinstance(reason, NewConnectionError):
        if "resolve" in str(reason).lower():
            return f"the API host name could not be resolved ({detail or 'DNS failure'})", True
        return f"could not connect ({detail or 'connection refused'})", True
    if isinstance(reason, ConnectTimeoutError):
        return f"could not connect within {format_duration(timeout[0])} (connect timeout)", True
    text = str(exc).lower()
    if "read timed out" in text:
        return f"no answer within {format_duration(timeout[1])} (read timeout)", False
    if "reset" in text:
        return "the connection was reset before an answer arrived", False
    return "the connection closed before an answer arrived", False


def _detail(exc: BaseException) -> str:
    match = _ERRNO.search(str(exc))
    return one_line(match.group(0).strip(" ,"), 120) if match else ""
