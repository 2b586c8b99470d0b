"""The simulator's clock: wall-clock seconds since the epoch, real or moved by hand."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class SimClock(Protocol):
    """Anything that tells the current time as epoch seconds."""

    def now(self) -> float: ...


class RealClock:
    """The system wall clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to: build progress and rate-limit windows follow it.
    It starts at ``start`` (epoch seconds), by default the current whole second, so timestamps
    stay comparable with the client's wall clock."""

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._now = float(start) if start is not None else float(int(time.time()))

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (not backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("a manual clock only moves forward")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> None:
        """Jump to an absolute epoch time (forward only)."""
        with self._lock:
            if when < self._now:
                raise ValueError("a manual clock only moves forward")
            self._now = float(when)
