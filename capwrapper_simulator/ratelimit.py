"""A sliding-window request limit per API key, on the simulator's clock."""

from __future__ import annotations

import math
import threading
from collections import deque


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str, limit: int, window: float, now: float) -> int | None:
        """Record a request of ``key`` and return None, or the whole seconds to wait when
        ``limit`` requests were already made in the last ``window`` seconds (not recorded)."""
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, math.ceil(hits[0] + window - now))
            hits.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
