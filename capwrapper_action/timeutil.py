"""Clocks and timestamps. Waiting code takes a ``Clock`` so tests run in virtual time."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

_MAX_HEADER = 64  # a Retry-After longer than this is not a value we would honour anyway
_SECONDS = re.compile(r"[0-9]+\.?[0-9]*|\.[0-9]+")  # Retry-After: delay-seconds, maybe a fraction
_ISO = re.compile(  # the timestamp forms taken (fullmatch)
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:[Zz]|[+-]\d{2}:?\d{2})?",
    re.ASCII,  # ASCII digits only, as RFC 3339 writes them
)


class Clock(Protocol):
    """Monotonic seconds and an interruptible sleep."""

    def now(self) -> float: ...

    def sleep(self, seconds: float, cancel: threading.Event) -> bool:
        """Sleep up to ``seconds``; return True when ``cancel`` was set (stop waiting)."""
        ...

    def wall(self) -> datetime: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, cancel: threading.Event) -> bool:
        return cancel.wait(max(0.0, seconds))

    def wall(self) -> datetime:
        return datetime.now(UTC)


def parse_timestamp(value: object) -> datetime | None:
    """ISO 8601 with or without fractional seconds, ``Z`` or an offset (none: UTC); None when
    absent or unreadable (a hostile or odd server must not crash the action)."""
    if not isinstance(value, str) or not _ISO.fullmatch(value.strip()):
        return None
    try:  # the pattern says which forms are taken; fromisoformat reads them
        parsed = datetime.fromisoformat(value.strip().upper())
    except ValueError:  # a day, an hour or an offset out of range
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_duration(seconds: float | None) -> str:
    """The one time format of the log and the summary: ``2.5`` -> ``2.5s``, ``4`` -> ``4s``,
    ``75`` -> ``1m 15s``, ``5400`` -> ``1h 30m``; ``None`` -> ``—``. Tenths only under 10 s,
    where they matter (a backoff, a short build)."""
    if seconds is None or seconds < 0:
        return "—"
    if seconds < 9.95 and abs(seconds - round(seconds)) >= 0.05:  # noqa: PLR2004
        return f"{seconds:.1f}s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds (``"7"``, ``"1.5"``) or an
    HTTP date, taken relative to ``now`` (a date in the past means 0). None when absent or
    unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > _MAX_HEADER:
        return None
    if _SECONDS.fullmatch(text):
        return float(text)  # ASCII digits and at most one dot: always a finite number
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" and obsolete forms: HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
