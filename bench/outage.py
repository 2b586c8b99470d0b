"""What the fault benchmark is made of: a virtual clock shared by parallel runs, and an outage
that starts at the first request of one phase and fails every request for a while.

``SharedClock`` moves only when every run is asleep on it, and then straight to the earliest
wake-up: parallel runs and the simulator see the same virtual time, and a 5-minute outage
costs no real time (an HTTP request in flight holds the clock still). ``OutageAdapter`` is the
session's transport: while the outage lasts it answers each request as a broken network or a
proxy would (connection refused, a 502 HTML page, a 503 with JSON, a 504 HTML page, in turn),
without reaching the simulator; otherwise it passes the request on and notes when an answer
came.
"""

from __future__ import annotations

import heapq
import io
import itertools
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError

PHASES = ("list", "create", "status", "deploy", "download")
_ID_PATH = re.compile(r"/v1/builds/[^/?]+")
_KINDS = ("refused", "502 html", "503 json", "504 html")
_HTML = b"<html><head><title>%d</title></head><body><center>nginx</center></body></html>"


class SharedClock:
    """A virtual clock for several threads (implements the action's ``Clock``). Each run
    ``join``s before it starts and ``leave``s when done; time moves when all are asleep."""

    def __init__(self, epoch: float) -> None:
        self.epoch = epoch
        self.t = 0.0
        self._cond = threading.Condition()
        self._active = 0
        self._sleepers: list[tuple[float, int, list[bool]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return datetime.fromtimestamp(self.epoch + self.t, UTC)

    def join(self) -> None:
        with self._cond:
            self._active += 1

    def leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._advance()

    def sleep(self, seconds: float, cancel: threading.Event) -> bool:
        if cancel.is_set():
            return True
        woken = [False]
        with self._cond:
            heapq.heappush(self._sleepers, (self.t + max(0.0, seconds), next(self._seq), woken))
            self._active -= 1
            self._advance()
            while not woken[0]:
                self._cond.wait()
        return cancel.is_set()

    def _advance(self) -> None:
        if self._active > 0 or not self._sleepers:
            return
        self.t = max(self.t, self._sleepers[0][0])
        while self._sleepers and self._sleepers[0][0] <= self.t:
            heapq.heappop(self._sleepers)[2][0] = True
            self._active += 1
        self._cond.notify_all()


class SimTime:
    """The simulator's view of the shared clock: epoch seconds."""

    def __init__(self, clock: SharedClock) -> None:
        self.clock = clock

    def now(self) -> float:
        return self.clock.epoch + self.clock.t


def phase_of(method: str, path: str) -> str:
    if path.startswith("/v1/artifacts/"):
        return "download"
    if path.startswith("/v1/deploys"):
        return "deploy"
    if _ID_PATH.fullmatch(path):
        return "status"
    return "create" if method == "POST" else "list"


@dataclass
class Outage:
    """Every request fails from the first request of ``phase`` for ``seconds``."""

    clock: SharedClock
    phase: str
    seconds: float
    start: float | None = None
    failed: int = 0
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def end(self) -> float | None:
        return None if self.start is None else self.start + self.seconds

    def kind_for(self, method: str, path: str) -> str | None:
        """The failure this request meets, or None when it goes through."""
        now = self.clock.now()
        with self._lock:
            if self.start is None and phase_of(method, path) == self.phase:
                self.start = now
            if self.start is None or not self.start <= now < self.start + self.seconds:
                return None
            self.failed += 1
            return _KINDS[next(self._turn) % len(_KINDS)]


@dataclass
class RunLog:
    """When one run's requests failed and when they got answers (virtual seconds)."""

    failures: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)


class OutageAdapter(HTTPAdapter):
    """Fails requests while ``outage`` lasts; records every failure and answer in ``log``."""

    def __init__(self, outage: Outage, log: RunLog) -> None:
        super().__init__()
        self.outage, self.log = outage, log

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        path = (request.path_url or "").split("?", 1)[0]
        kind = self.outage.kind_for(request.method or "GET", path)
        now = self.outage.clock.now()
        if kind is None:
            response = super().send(request, **kwargs)
            self.log.answers.append(now)
            return response
        self.log.failures.append(now)
        if kind == "refused":
            reason = NewConnectionError(None, "Failed to establish a new connection: "  # type: ignore[arg-type]
                                        "[Errno 111] Connection refused")
            raise requests.ConnectionError(MaxRetryError(None, path, reason), request=request)  # type: ignore[arg-type]
        return _answer(request, kind)


def _answer(request: requests.PreparedRequest, kind: str) -> requests.Response:


    status = int(kind.split(maxsplit=1)[0])
    html = kind.endswith("html")
    body = _HTML % status if html else b'{"error": "unavailable", "message": "Try later."}'
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(
        {"Content-Type": "text/html" if html else "application/json",
         "Content-Length": str(len(body))}
    )
    response.raw = io.BytesIO(body)
    response.url = request.url or ""
    response.request = request
    return response
