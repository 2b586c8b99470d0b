"""A clock for tests and benchmarks: it only moves when slept on, so waiting logic runs in
no real time. Implements ``capwrapper_action.timeutil.Clock``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class VirtualClock:
    """A clock that only moves when slept on: waiting logic runs in no real time."""

    def __init__(self, start: float = 0.0, wall_start: datetime | None = None) -> None:
        self.t = start
        self._wall0 = wall_start or datetime(2026, 1, 1, tzinfo=UTC)
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float, cancel: threading.Event) -> bool:
        if cancel.is_set():
            return True
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        self.t += seconds
        return cancel.is_set()

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def wall(self) -> datetime:
        return self._wall0 + timedelta(seconds=self.t)
