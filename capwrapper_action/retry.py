"""When to try a request again and how long to wait first.

Exponential backoff with full jitter (a uniformly random wait between 0 and the exponential
ceiling, so parallel jobs sharing one API key spread out instead of retrying in lock step),
``Retry-After`` honoured (never waiting less than the server asked, but never more than a cap,
plus a random spread that widens while the rate limit lasts), and a budget per call.

A rate limit (429) is not a failure: the server is well and says when to come back. So 429s
do not use up the attempts that bound retries of real failures (5xx, lost connections); they
are bounded by time instead (``throttle_seconds``), and by the caller's deadline when it has
one. Only the arithmetic lives here; the client decides what may be retried and sleeps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from capwrapper_action.timeutil import format_duration

_MAX_HEADER = 64  # a Retry-After longer than this is not a value we would honour anyway


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries. ``max_attempts`` counts the first try and every retry after a
    failure (not after a 429); ``budget_seconds`` bounds the time spent retrying failures and
    ``throttle_seconds`` the time spent waiting out rate limits, both from the first try."""

    max_attempts: int = 6
    base_delay: float = 1.0  # ceiling of the first backoff; it doubles per retry
    max_delay: float = 30.0  # ceiling of any backoff, and of the spread after a Retry-After
    max_retry_after: float = 120.0  # longest Retry-After obeyed; longer ones wait this long
    retry_after_spread: float = 1.0  # random extra seconds after a first Retry-After; doubles
    budget_seconds: float = 180.0
    throttle_seconds: float = 900.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.max_retry_after, self.budget_seconds,
               self.throttle_seconds) < 0:
            raise ValueError("delays and budgets must not be negative")
        if self.retry_after_spread < 0:
            raise ValueError("retry_after_spread must not be negative")


NO_RETRIES = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class Delay:
    """One wait before a retry, with the words a log line needs."""

    seconds: float
    reason: str

    def describe(self) -> str:
        return f"{_secs(self.seconds)} ({self.reason})"


def backoff_ceiling(retry_number: int, policy: RetryPolicy) -> float:
    """The exponential ceiling for the ``retry_number``-th retry (1 for the first)."""
    return _doubled(policy.base_delay, retry_number, policy.max_delay)


def backoff(retry_number: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Full jitter: uniform in ``[0, ceiling]``."""
    return rng.uniform(0.0, backoff_ceiling(retry_number, policy))


def plan_delay(
    retry_number: int, retry_after: float | None, policy: RetryPolicy, rng: random.Random
) -> Delay:
    """The wait before the ``retry_number``-th retry. With a ``Retry-After`` (seconds) it is
    at least that long, plus a random spread up to ``retry_after_spread`` doubled per retry
    (at most ``max_delay``), so that many jobs told the same time do not all come back in
    the same second; capped at ``policy.max_retry_after``."""
    if retry_after is None:
        ceiling = backoff_ceiling(retry_number, policy)
        return Delay(backoff(retry_number, policy, rng), f"backoff up to {_secs(ceiling)}")
    if retry_after > policy.max_retry_after:
        return Delay(
            policy.max_retry_after,
            f"the server asked for {_secs(retry_after)} in Retry-After; "
            f"waiting the {_secs(policy.max_retry_after)} cap instead",
        )
    spread = rng.uniform(0.0, spread_ceiling(retry_number, policy))
    seconds = min(retry_after + spread, max(retry_after, policy.max_retry_after))
    return Delay(seconds, f"Retry-After {_secs(retry_after)}")


def spread_ceiling(retry_number: int, policy: RetryPolicy) -> float:
    """The most random extra seconds added to the ``retry_number``-th Retry-After."""
    cap = max(policy.max_delay, policy.retry_after_spread)
    return _doubled(policy.retry_after_spread, retry_number, cap)


def _doubled(first: float, retry_number: int, cap: float) -> float:
    """``first`` doubled for every retry after the first, at most ``cap``."""
    exponent = max(0, retry_number - 1)
    if exponent > 60:  # noqa: PLR2004 - 2**60 s is beyond any cap; avoid float overflow
        return cap
    return min(cap, first * 2.0**exponent)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds (``"7"``, ``"1.5"``) or an
    HTTP date, taken relative to ``now`` (a date in the past means 0). None when absent or
    unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > _MAX_HEADER:
        return None
    seconds = _as_number(text)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" and obsolete forms: HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _as_number(text: str) -> float | None:
    if not all(ch.isdigit() or ch == "." for ch in text) or text.count(".") > 1 or text == ".":
        return None
    return float(text)  # digits and one dot: always a finite number


def _secs(seconds: float) -> str:
    if seconds < 60:  # noqa: PLR2004
        return f"{seconds:.1f} s"
    return format_duration(seconds)


class RetryBudget:
    """What one call has left. ``next_delay`` is None once the attempts or the seconds for
    this kind of trouble run out, or when the wait would end past ``deadline`` (on the same
    clock as ``started``)."""

    def __init__(
        self, policy: RetryPolicy, started: float, deadline: float | None = None
    ) -> None:
        self.policy = policy
        self.started = started
        self.deadline = deadline
        self.attempts = 1  # requests sent, the first included
        self.failures = 0  # failed tries that count against max_attempts
        self.throttled = 0  # 429s met
        self.last_throttled = False

    def next_delay(
        self, now: float, retry_after: float | None, rng: random.Random, *,
        throttled: bool = False,
    ) -> Delay | None:
        self.last_throttled = throttled
        if throttled:
            self.throttled += 1
            delay = plan_delay(self.throttled, retry_after, self.policy, rng)
            limit = self.policy.throttle_seconds
        else:
            self.failures += 1
            if self.failures >= self.policy.max_attempts:
                return None
            delay = plan_delay(self.failures, retry_after, self.policy, rng)
            limit = self.policy.budget_seconds
        if now - self.started + delay.seconds > limit:
            return None
        if self.deadline is not None and now + delay.seconds > self.deadline:
            return None
        self.attempts += 1
        return delay

    def progress(self, now: float) -> str:
        """Where the retries stand, for the log line of the retry just planned."""
        if self.last_throttled:
            times = "once" if self.throttled == 1 else f"{self.throttled} times"
            return (f"rate limited {times} in {_secs(now - self.started)} (429s are waited "
                    f"out for up to {format_duration(self.policy.throttle_seconds)})")
        return f"attempt {self.failures + 1} of {self.policy.max_attempts}"

    def spent(self, now: float) -> str:
        plural = "s" if self.attempts != 1 else ""
        throttled = f", {self.throttled} of them rate limited" if self.throttled else ""
        return f"{self.attempts} attempt{plural} in {_secs(now - self.started)}{throttled}"
