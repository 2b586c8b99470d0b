"""The Capwrapper API client: one session, timeouts on every call, errors mapped in one place
(``http``), reads retried on transient failures (as ``retry`` decides), creates sent exactly
once.

Creates are never repeated here: ``creating`` decides what to do after a create whose outcome
is unknown (``ApiError.outcome_unknown``), because only it can look for what was made.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import requests

from capwrapper_action import __version__
from capwrapper_action.api.http import (
    decode_json,
    error_for_exception,
    error_for_status,
    one_line,
)
from capwrapper_action.api.models import Build, Deploy
from capwrapper_action.api.pages import Page, next_page_params, parse_page
from capwrapper_action.errors import ApiError, CancelledError, GarbledResponseError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.retry import Retrier, RetryPolicy, is_transient
from capwrapper_action.timeutil import Clock

T = TypeVar("T")
MAX_BODY = 8 * 1024 * 1024  # longest answer read; the API's answers are a few kB
QUICK_TIMEOUT = (2.0, 3.0)  # connect, read: a lookup within the runner's grace after a cancel
USER_AGENT = f"capwrapper-action/{__version__}"


class CapwrapperClient:
    """Talks to ``base_url`` (e.g. ``https://api.capwrapper.com/v1``) with ``api_key``.
    Safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        session: requests.Session,
        clock: Clock,
        log: ActionIO,
        cancel: threading.Event,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (10.0, 30.0),
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.session = session
        self.clock = clock
        self.log = log
        self.cancel = cancel
        self.retrier = Retrier(clock, cancel, log, policy=retry, rng=rng)
        self.timeout = timeout
        self.request_count = 0
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CapwrapperClient({self.base_url!r})"

    # -- the API -------------------------------------------------------------------------------
    def create_build(self, body: Mapping[str, Any], *, idempotency_key: str) -> Build:
        """POST /builds, once. Errors carry ``outcome_unknown``."""
        data = self._send("POST", "/builds", body=body, idempotency_key=idempotency_key)
        return _shaped(lambda: Build.from_api(_unwrap(data)), "POST", "/builds")

    def create_deploy(self, body: Mapping[str, Any], *, idempotency_key: str) -> Deploy:
        """POST /deploys, once. Errors carry ``outcome_unknown``."""
        data = self._send("POST", "/deploys", body=body, idempotency_key=idempotency_key)
        build_id = str(body.get("buildId", ""))
        return _shaped(lambda: Deploy.from_api(_unwrap(data), build_id), "POST", "/deploys")

    def get_build(
        self, build_id: str, *, deadline: float | None = None, retry: bool = True
    ) -> Build:
        """GET /builds/<id>, retried on transient failures unless ``retry`` is False (the
        waiter plans its own); no retry wait ends past ``deadline`` (on ``clock.now()``)."""
        path = "/builds/" + quote(build_id, safe="")
        data = self._read(path, deadline=deadline) if retry else self._send("GET", path)
        return _shaped(lambda: Build.from_api(_unwrap(data)), "GET", path)

    def list_builds(
        self, *, limit: int = 100, max_items: int = 300, deadline: float | None = None
    ) -> list[Build]:
        """GET /builds (newest first), following cursors and ``Link`` headers up to
        ``max_items`` builds. Entries that are not build objects are skipped. No retry wait
        ends past ``deadline``."""
        builds: list[Build] = []
        params: dict[str, str] | None = {"limit": str(max(1, min(limit, max_items)))}
        seen: set[tuple[tuple[str, str], ...]] = set()
        while params is not None and len(builds) < max_items:
            page = self.list_page(params, deadline=deadline)
            builds.extend(page.builds)
            params = next_page_params(params, page, seen, self.log)
        return builds[:max_items]

    def list_page(self, params: Mapping[str, str], *, deadline: float | None = None) -> Page:
        """One page of GET /builds: its builds and how to ask for the next (from the body's
        cursor or the ``Link`` header's ``rel="next"``)."""
        headers: dict[str, str] = {}
        data = self._read("/builds", params, deadline=deadline, headers_out=headers)
        return parse_page(data, self.base_url, self.log, link=headers.get("link"))

    def newest_builds_now(self, limit: int = 100) -> list[Build]:
        """One page of GET /builds, sent even after a cancel, with short timeouts and no
        retry: to find a build whose create a signal interrupted."""
        params = {"limit": str(limit)}
        data = self._exchange("GET", "/builds", params, None, None, None, quick=True)
        return parse_page(data, self.base_url, self.log).builds

    # -- plumbing --------------------------------------------------------------------------------
    def _read(
        self, path: str, params: Mapping[str, str] | None = None, *,
        deadline: float | None = None, headers_out: dict[str, str] | None = None,
    ) -> Any:
        return self.retrier.call(
            lambda: self._send("GET", path, params=params, headers_out=headers_out),
            f"GET {path}", deadline=deadline,
        )

    def _send(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None, idempotency_key: str | None = None,
        headers_out: dict[str, str] | None = None,
    ) -> Any:
        """One request; the decoded JSON of a 2xx answer, or an ``ApiError``. The answer's
        ``Link`` header goes into ``headers_out`` (key ``link``) when one is given. Every
        transient failure and every answer is told to the ``Retrier`` (unreachable time)."""
        try:
            data = self._exchange(method, path, params, body, idempotency_key, headers_out)
        except ApiError as exc:
            if is_transient(exc):
                self.retrier.failed()
            else:
                self.retrier.answered()
            raise
        self.retrier.answered()
        return data

    def _exchange(
        self, method: str, path: str, params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None, idempotency_key: str | None,
        headers_out: dict[str, str] | None, *, quick: bool = False,
    ) -> Any:
        """One exchange; ``quick`` ones are sent even after a cancel, with short timeouts
        (the lookup of a build whose create a signal interrupted)."""
        if self.cancel.is_set() and not quick:
            cancelled = CancelledError(f"Cancelled before {method} {path} was sent.")
            cancelled.before_send = True
            raise cancelled
        headers = self._headers(body is not None, idempotency_key)
        timeout = QUICK_TIMEOUT if quick else self.timeout
        with self._count_lock:
            self.request_count += 1
        started = time.monotonic()
        try:
            with self.session.request(
                method, self.base_url + path, params=params, json=body, headers=headers,
                timeout=timeout, allow_redirects=False, stream=True,
            ) as response:
                raw = _read_body(response, method, path)
                if headers_out is not None and response.headers.get("Link"):
                    headers_out["link"] = response.headers["Link"]
        except requests.RequestException as exc:
            error = error_for_exception(exc, method=method, path=path, timeout=timeout)
            self.log.debug(f"{method} {path} -> {type(exc).__name__} after {_ms(started)} ms")
            raise error from None
        self.log.debug(f"{method} {path} -> {response.status_code} in {_ms(started)} ms")
        if not 200 <= response.status_code < 300:  # noqa: PLR2004
            raise error_for_status(
                response, raw, method=method, path=path, now=self.clock.wall(), secret=self._key
            )
        return decode_json(
            raw, method=method, path=path, status=response.status_code, secret=self._key
        )

    def _headers(self, has_body: bool, idempotency_key: str | None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers


def _read_body(response: requests.Response, method: str, path: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise GarbledResponseError(
                f"{method} {path}: the answer is larger than {MAX_BODY // (1024 * 1024)} MiB.",
                status_code=response.status_code, method=method, path=path,
                outcome_unknown=True,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _unwrap(data: Any) -> Any:
    """A single object, also when wrapped as ``{"data": {...}}``."""
    if isinstance(data, dict) and "id" not in data and isinstance(data.get("data"), dict):
        return data["data"]
    return data


def _shaped(parse: Callable[[], T], method: str, path: str) -> T:
    """Run ``parse``; a wrong JSON shape names the request (a create may have been made)."""
    try:
        return parse()
    except ApiError as exc:
        raise type(exc)(
            f"{method} {path}: {one_line(exc.message)}", method=method, path=path,
            outcome_unknown=method == "POST",
        ) from None


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
