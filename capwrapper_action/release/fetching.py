"""Fetch one binary from its signed URL into a file.

The binary streams into a temporary file next to its final name, renamed only once complete
(and as long as announced), so no half file is ever left. Transient failures (connection reset,
5xx, 429, a body cut short) are retried as the one retry policy (``retry``) says. The signed
URL is a credential of its own: logged without its query, and sent without any Authorization
header.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

from capwrapper_action.api.models import Platform
from capwrapper_action.errors import ApiError, CancelledError, DownloadError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.retry import TRANSIENT_STATUSES, Retrier, is_transient
from capwrapper_action.timeutil import Clock, parse_retry_after

CHUNK_SIZE = 256 * 1024
PROGRESS_EVERY = 5.0  # seconds between progress lines of one download
MAX_BYTES = 8 * 1024**3  # refuse anything larger: a binary is tens of MB
DEFAULT_EXTENSIONS = {"android": ".apk", "ios": ".ipa"}
_EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,8}$")
_EXPIRED_STATUS = frozenset({401, 403, 410})
_KIB = 1024
_QUERY_IN_TEXT = re.compile(r"\?[^\s'\")]*")


class _Transient(ApiError):
    """A failure worth another attempt (``retry.is_transient`` says so of it)."""

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status_code=status or 503, retry_after=retry_after)


@dataclass(frozen=True)
class FetchJob:
    """One binary to fetch; the extension is learnt from the answer."""

    platform: Platform
    url: str
    stem: Path  # dest_dir / "<app>-<platform>-<version>", without the extension


def redact_url(url: str) -> str:
    """``url`` without its query, fragment and credentials: what may appear in a log."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "(unreadable URL)"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def extension_for(platform: str, url: str, content_disposition: str | None) -> str:
    """The server's extension (header first, then the URL path), else the platform's."""
    candidates = [_disposition_name(content_disposition), unquote(urlsplit(url).path)]
    for name in candidates:
        ext = os.path.splitext(name.rsplit("/", 1)[-1])[1] if name else ""
        if _EXTENSION.match(ext):
            return ext.lower()
    return DEFAULT_EXTENSIONS.get(platform, ".bin")


def _disposition_name(header: str | None) -> str:
    if not header:
        return ""
    msg = Message()
    msg["content-disposition"] = header
    try:
        return msg.get_filename() or ""
    except (ValueError, LookupError):
        return ""


def _strip_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Used as the request's ``auth``: overrides any session auth and drops the header."""
    request.headers.pop("Authorization", None)
    return request


@dataclass(frozen=True)
class Fetcher:
    session: requests.Session
    clock: Clock
    cancel: threading.Event
    log: ActionIO
    retrier: Retrier
    timeout: tuple[float, float] = (10, 60)
    deadline: float | None = None  # no retry wait ends past it (on ``clock.now()``)

    def fetch(self, job: FetchJob) -> Path:
        shown = redact_url(job.url)
        self.log.info(f"{job.platform}: downloading {shown}")
        budget = self.retrier.budget(self.deadline)
        while True:
            try:
                path = self._attempt(job)
            except _Transient as err:
                self.retrier.failed()
                err.message = _redact_text(err.message, job.url)
                try:
                    self.retrier.wait_to_retry(
                        budget, err, f"the {job.platform} download", f"; it failed: {err.message}"
                    )
                except _Transient:
                    raise DownloadError(
                        f"The {job.platform} binary could not be downloaded from {shown}: "
                        f"{err.message}."
                    ) from None
                continue
            self.retrier.answered()
            self.log.info(f"{job.platform}: saved {path} ({_size(path.stat().st_size)})")
            return path

    def _attempt(self, job: FetchJob) -> Path:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{job.stem.name}.", suffix=".part", dir=job.stem.parent
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                ext = self._stream(job, fh)
            final = job.stem.with_name(job.stem.name + ext)
            os.replace(tmp, final)
            return final
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def _stream(self, job: FetchJob, fh: BinaryIO) -> str:
        try:
            with self.session.get(
                job.url,
                stream=True,
                timeout=self.timeout,
                auth=_strip_auth,
                headers={"Authorization": None, "Accept-Encoding": "identity"},
            ) as resp:
                _check_status(resp, job, self.clock)
                expected = _content_length(resp)
                written = self._copy(resp, fh, job.platform, expected)
                disposition = resp.headers.get("Content-Disposition")
                final_url = resp.url or job.url
        except requests.RequestException as err:
            if is_transient(err):
                raise _Transient(_describe(err)) from None
            message = f"The {job.platform} download failed: {err}"
            raise DownloadError(_redact_text(message, job.url)) from None
        except OSError as err:
            raise DownloadError(f"Could not write the {job.platform} binary: {err}") from None
        if expected is not None and written != expected:
            raise _Transient(f"the body was cut short ({written} of {expected} bytes)")
        return extension_for(job.platform, final_url, disposition)

    def _copy(self, resp: requests.Response, fh: BinaryIO, platform: str, total: int | None) -> int:
        written = 0
        last = self.clock.now()
        for chunk in resp.iter_content(CHUNK_SIZE):
            if self.cancel.is_set():
                raise CancelledError("Cancelled during a download.")
            fh.write(chunk)
            written += len(chunk)
            if written > MAX_BYTES:
                raise DownloadError(f"The {platform} binary is larger than {_size(MAX_BYTES)}.")
            now = self.clock.now()
            if now - last >= PROGRESS_EVERY:
                last = now
                of_total = f" of {_size(total)} ({written * 100 // total}%)" if total else ""
                self.log.info(f"{platform}: {_size(written)}{of_total} downloaded")
        return written


def _check_status(resp: requests.Response, job: FetchJob, clock: Clock) -> None:
    code = resp.status_code
    if resp.ok and code not in TRANSIENT_STATUSES:
        return
    if code in TRANSIENT_STATUSES:
        retry_after = parse_retry_after(resp.headers.get("Retry-After"), clock.wall())
        raise _Transient(f"HTTP {code}", status=code, retry_after=retry_after)
    why = " (the signed link may have expired)" if code in _EXPIRED_STATUS else ""
    detail = _server_message(resp)
    raise DownloadError(
        f"The {job.platform} download at {redact_url(job.url)} was refused: HTTP {code}{why}."
        + (f" The server said: {detail}" if detail else "")
    )


def _server_message(resp: requests.Response) -> str:
    try:
        body = json.loads(next(resp.iter_content(4096), b"") or b"null")
    except (ValueError, requests.RequestException):
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return message[:500] if isinstance(message, str) else ""


def _content_length(resp: requests.Response) -> int | None:
    """The announced size, when the body is sent as is (not re-encoded)."""
    encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
    value = resp.headers.get("Content-Length", "").strip()
    if encoding not in ("", "identity") or not value.isdigit():
        return None
    return int(value)


def _describe(err: requests.RequestException) -> str:
    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        return "the connection broke during the transfer"
    if isinstance(err, requests.Timeout):
        return "the server did not answer in time"
    return f"{type(err).__name__}: {err}"[:300]


def _redact_text(text: str, url: str) -> str:
    """``text`` (an exception's message) without the URL's query string."""
    query = urlsplit(url).query
    if query:
        text = text.replace(query, "…")
    return _QUERY_IN_TEXT.sub("?…", text)


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if count < _KIB:
            return f"{count:.0f} B" if unit == "B" else f"{count:.1f} {unit}"
        count /= _KIB
    return f"{count:.1f} GiB"
