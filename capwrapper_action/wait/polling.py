"""When to check a build's status next.

A strategy maps the build's *age* (seconds since it was created) to the delay before the next
status check. Two kinds exist:

* ``FixedStrategy``: a fixed interval (``poll-interval: 10``).
* ``AdaptiveStrategy`` (``poll-interval: auto``):

  - With no history it keeps the detection lag (time from the build finishing to the action
    knowing) within 10 % of the build's age: checks every 5 s for the first 50 s, then each gap
    is a tenth of the age, and never more than 60 s.
  - With history (how long this app's recent successful builds took, ``createdAt`` to
    ``completedAt``) it expects the build to finish inside the range of those durations. Before
    that window it checks sparsely (gaps halve towards the start: about 6 s, 12 s, 24 s, 48 s,
    then every 60 s) so that an early failure is still seen within a minute; inside the window it
    checks every 5 s (less when the builds are short); past the window it backs off gradually
    towards the no-history rhythm.

Every gap is at most 60 s, whatever the history says. A status check that fails (a 429 with
its Retry-After, a 5xx) is planned by the retry policy instead (``wait.waiting``).
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from capwrapper_action.api.models import Build, BuildStatus
from capwrapper_action.timeutil import format_duration

FIRST_CHECK = 5.0  # seconds after creation: queued builds often start within seconds
MIN_INTERVAL = 5.0  # shortest gap of the no-history rhythm
RELATIVE_LAG = 0.1  # no history: detection lag at most this share of the build's age
MAX_INTERVAL = 60.0  # no gap is ever longer: failures are seen within a minute
DENSE_INTERVAL = 5.0  # gap inside the expected window
DENSE_MIN = 1.0  # shortest gap inside the window (very short builds)
WINDOW_MAX_CHECKS = 40  # a wide history widens the dense gap rather than cost more checks
BACKOFF_SLOPE = 0.5  # past the window the gap grows by half the overrun
HISTORY_MAX = 10  # most recent builds taken into account
HISTORY_MIN_SECONDS = 1.0  # shorter durations are clock noise, not builds
HISTORY_MAX_SECONDS = 6 * 3600.0  # longer ones are stuck builds, not a rhythm
OUTLIER_FACTOR = 2.0  # durations beyond median x/÷ this are left out of the window
FEW_SAMPLES = 3  # with fewer, the window is widened to at least ±PAD of the median
PAD = 0.05
_EPS = 0.25  # a check this close to a planned point counts as that point


class PollStrategy(Protocol):
    """Decides the delay before the next status check of one build."""

    def delay(self, age: float) -> float:
        """Seconds to wait before the next check, given the build's age in seconds."""
        ...

    def describe(self) -> str:
        """The plan in plain words for the log, e.g. ``checking the status every 10s``."""
        ...


@dataclass(frozen=True)
class FixedStrategy:
    interval: float

    def __post_init__(self) -> None:
        if not self.interval > 0 or math.isinf(self.interval):
            raise ValueError(f"poll interval must be a positive number, got {self.interval!r}")

    def delay(self, age: float) -> float:
        return self.interval

    def describe(self) -> str:
        return f"checking the status every {format_duration(self.interval)}"


@dataclass(frozen=True)
class Window:
    """The ages (seconds since creation) at which the build is expected to finish."""

    low: float
    high: float
    samples: int
    interval: float  # gap between checks inside the window


@dataclass(frozen=True)
class AdaptiveStrategy:
    window: Window | None = None

    @cached_property
    def _points(self) -> tuple[float, ...]:
        return () if self.window is None else _planned_points(self.window)

    def delay(self, age: float) -> float:
        age = max(0.0, age)
        points = self._points
        if points and age < points[-1] - _EPS:
            check_at = points[bisect.bisect_right(points, age + _EPS)]
        else:
            check_at = age + self._gap_after(age)
        return check_at - age

    def _gap_after(self, age: float) -> float:
        relative = _clamp(RELATIVE_LAG * age, MIN_INTERVAL, MAX_INTERVAL)
        if self.window is None:
            return relative
        dense, high = self.window.interval, self.window.high
        overrun = dense + BACKOFF_SLOPE * max(0.0, age - high)
        return max(dense, min(max(dense, RELATIVE_LAG * age), overrun, MAX_INTERVAL))

    def describe(self) -> str:
        w = self.window
        if w is None:
            return (
                f"checking the status every {format_duration(MIN_INTERVAL)} at first, then "
                "less often as the build runs, at least once a minute (no finished build of "
                "this app to learn from)"
            )
        builds = "build" if w.samples == 1 else "builds"
        low, high = format_duration(w.low), format_duration(w.high)
        took = f"about {low}" if low == high else f"{low} to {high}"
        return (
            f"{w.samples} recent {builds} took {took}, so checking the status every "
            f"{format_duration(w.interval)} in that span, and at least once a minute before "
            "and after it"
        )


def make_strategy(poll_interval: float | None, history: Sequence[float]) -> PollStrategy:
    """A fixed interval when one is given, else the adaptive strategy informed by ``history``
    (durations in seconds, as returned by ``history_durations``)."""
    if poll_interval is not None:
        return FixedStrategy(float(poll_interval))
    return AdaptiveStrategy(expected_window(history))


def expected_window(history: Sequence[float]) -> Window | None:
    """The window of expected durations, or None when ``history`` holds no usable value."""
    values = [v for v in history if _sane(v)]
    if not values:
        return None
    median = statistics.median(values)
    kept = [v for v in values if median / OUTLIER_FACTOR <= v <= median * OUTLIER_FACTOR]
    low, high = min(kept), max(kept)
    if len(kept) < FEW_SAMPLES:
        low, high = min(low, median * (1 - PAD)), max(high, median * (1 + PAD))
    interval = _clamp(RELATIVE_LAG * low, DENSE_MIN, DENSE_INTERVAL)
    interval = min(max(interval, (high - low) / WINDOW_MAX_CHECKS), MAX_INTERVAL)
    return Window(low=low, high=high, samples=len(kept), interval=interval)


def history_durations(
    builds: Iterable[Build], *, bundle_id: str | None, platform: str
) -> list[float]:
    """Durations (createdAt to completedAt, seconds) of the most recent successful builds of
    ``bundle_id`` on ``platform``, newest first, at most ``HISTORY_MAX`` of them. Builds
    without both timestamps and implausible durations are skipped. No bundle id: no history."""
    if not bundle_id:
        return []
    wanted_platform = platform.strip().lower()
    found: list[tuple[float, float]] = []
    for build in builds:
        if build.status != BuildStatus.SUCCESS or build.bundle_id != bundle_id:
            continue
        if (build.platform or "").strip().lower() != wanted_platform:
            continue
        duration = build.duration
        if duration is None or not _sane(duration) or build.completed_at is None:
            continue
        found.append((build.completed_at.timestamp(), duration))
    found.sort(key=lambda item: item[0], reverse=True)
    return [duration for _, duration in found[:HISTORY_MAX]]


def _planned_points(window: Window) -> tuple[float, ...]:
    """Check ages up to the end of the window: every ``interval`` from ``low + interval``
    until past ``high``; before that, gaps of at most 60 s that halve towards the start."""
    step = window.interval
    start = window.low + step
    dense_count = max(0, math.ceil((window.high - start) / step - 1e-9))
    dense = [start + k * step for k in range(dense_count + 1)]
    before: list[float] = []
    point = start
    while True:
        point -= min(MAX_INTERVAL, point / 2)
        if point < FIRST_CHECK:
            break
        before.append(point)
    return tuple(sorted(before) + dense)


def _sane(seconds: float) -> bool:
    return math.isfinite(seconds) and HISTORY_MIN_SECONDS <= seconds <= HISTORY_MAX_SECONDS


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))
