"""The one retry policy: what is transient, how long to wait before trying again, for how
long, and the log line of each retry. Every wait caused by a transient failure goes through
here: API requests, creates and deploys (``api``), status checks (``wait``), binary downloads
(``release.fetching``) and GitHub API calls (``Retrier.call``).

- **Transient** (``is_transient``): no answer (refused, reset, timeouts), a body that is not
  JSON, 408, 425, 429 or any 5xx, from the Capwrapper API, the download host or GitHub alike.
- **Bounded by time, not by attempts** (``RetryPolicy``): 6 minutes of failures in a row (a
  5-minute outage is ridden out), 15 of rate limits, never past the caller's deadline.
- **Backoff**: exponential from 1 s with full jitter (parallel jobs sharing one key spread
  out), capped at 30 s. **Retry-After** is honoured plus a random spread; when it asks for
  more than is left, the call fails at once: no sleep ends past the point of giving up.
- **Unreachable time**: ``Retrier`` adds up how long requests kept failing, for the report.

GitHub API calls (commit statuses, comments, the label lookup) take ``Retrier.call``; PyGithub
also gets ``quick_get_retry``: two quick, unlogged urllib3 retries of a GET, for blips.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import requests
from urllib3.util.retry import Retry

from capwrapper_action.errors import (
    ActionError,
    ApiError,
    CancelledError,
    GarbledResponseError,
    NetworkError,
    RateLimitedError,
    ServerError,
    UnexpectedResponseError,
)
from capwrapper_action.timeutil import Clock
from capwrapper_action.timeutil import format_duration as _secs  # the one time format

T = TypeVar("T")
TRANSIENT_STATUSES = frozenset({408, 425, 429, *range(500, 600)})
_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,  # refused, reset, DNS, connect timeouts
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # a body cut short
    requests.exceptions.ContentDecodingError,
)


def quick_get_retry(retries: int) -> Retry:
    """urllib3's retry for a library that takes one (PyGithub): ``retries`` quick tries of a
    GET (0.25 s backoff) on the transient statuses other than 429 (a rate limit is waited out
    only by ``Retrier``, which reads ``Retry-After``), and on connection errors."""
    statuses = frozenset(s for s in TRANSIENT_STATUSES if s != 429)  # noqa: PLR2004
    return Retry(
        total=retries, connect=retries, read=min(retries, 1), status=retries,
        backoff_factor=0.25, status_forcelist=statuses, allowed_methods=frozenset({"GET"}),
        raise_on_status=False, respect_retry_after_header=False,
    )


def is_transient(exc: BaseException, *, status_check: bool = False) -> bool:
    """The one rule for what is worth another try, whoever raised it: an ``ApiError``, a
    ``requests`` exception (downloads, PyGithub) or an error carrying an HTTP ``status``
    (PyGithub's ``GithubException``). For a ``status_check`` (a read the waiter repeats
    anyway) an answer of the wrong shape is worth another try too."""
    if isinstance(exc, (NetworkError, GarbledResponseError, RateLimitedError, ServerError)):
        return True
    if status_check and isinstance(exc, UnexpectedResponseError):
        return True
    if isinstance(exc, ApiError):
        return exc.status_code in TRANSIENT_STATUSES
    if isinstance(exc, requests.RequestException):
        return isinstance(exc, _TRANSIENT_EXCEPTIONS)
    status = getattr(exc, "status", None)
    return isinstance(status, int) and status in TRANSIENT_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a call tries: failures in a row for up to ``budget_seconds``, rate limits
    for up to ``throttle_seconds``, both counted from the call's first try."""

    base_delay: float = 1.0  # ceiling of the first backoff; it doubles per retry
    max_delay: float = 30.0  # ceiling of any backoff, and of the spread after a Retry-After
    retry_after_spread: float = 1.0  # random extra seconds after a first Retry-After; doubles
    budget_seconds: float = 360.0
    throttle_seconds: float = 900.0

    def __post_init__(self) -> None:
        if min(self.base_delay, self.max_delay, self.retry_after_spread, self.budget_seconds,
               self.throttle_seconds) < 0:
            raise ValueError("delays, spreads and budgets must not be negative")


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
    that long plus a random spread up to ``retry_after_spread`` doubled per retry (at most
    ``max_delay``), so that many jobs told the same time do not all come back at once."""
    if retry_after is None:
        ceiling = backoff_ceiling(retry_number, policy)
        return Delay(backoff(retry_number, policy, rng), f"backoff up to {_secs(ceiling)}")
    spread = rng.uniform(0.0, spread_ceiling(retry_number, policy))
    return Delay(retry_after + spread, f"Retry-After {_secs(retry_after)}")


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


class RetryBudget:
    """What one call has left. ``next_delay`` is None once the seconds for this kind of
    trouble run out or the wait would end past ``deadline`` (on the clock of ``started``);
    ``refusal`` then says why when the server asked for more than was left."""

    def __init__(self, policy: RetryPolicy, started: float, deadline: float | None = None) -> None:
        self.policy = policy
        self.started = started
        self.deadline = deadline
        self.attempts = 1  # requests sent, the first included
        self.failures = 0  # failed tries other than 429s
        self.throttled = 0  # 429s met
        self.last_throttled = False
        self.refusal = ""

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
            delay = plan_delay(self.failures, retry_after, self.policy, rng)
            limit = self.policy.budget_seconds
        left = self.started + limit - now
        if self.deadline is not None:
            left = min(left, self.deadline - now)
        if limit <= 0 or left <= 0:
            return None
        if retry_after is not None and retry_after > left:
            self.refusal = (f"the server asked to wait {_secs(retry_after)} (Retry-After), "
                            f"longer than the {_secs(left)} this step would still wait")
            return None
        self.attempts += 1
        if delay.seconds > left:  # a backoff never sleeps past the point of giving up
            return Delay(left, delay.reason + ", cut to the time left")
        return delay

    def progress(self, now: float) -> str:
        """Where the retries stand, for the log line of the retry just planned."""
        if self.last_throttled:
            times = "once" if self.throttled == 1 else f"{self.throttled} times"
            return (f"rate limited {times} in {_secs(now - self.started)} (429s are waited "
                    f"out for up to {_secs(self.policy.throttle_seconds)})")
        until = _secs(self.policy.budget_seconds)
        if self.deadline is not None and self.deadline < self.started + self.policy.budget_seconds:
            until = f"{_secs(self.deadline - self.started)}, the time left"
        return f"attempt {self.attempts}, failing for {_secs(now - self.started)} of up to {until}"

    def spent(self, now: float) -> str:
        plural = "s" if self.attempts != 1 else ""
        throttled = f", {self.throttled} of them rate limited" if self.throttled else ""
        return f"{self.attempts} attempt{plural} in {_secs(now - self.started)}{throttled}"


class Log(Protocol):
    def info(self, message: str) -> None: ...


class Retrier:
    """Applies the policy on a clock: plans, logs and sleeps each retry, and keeps the time
    during which requests kept failing. Built once in ``main``; safe to share between
    threads."""

    def __init__(
        self, clock: Clock, cancel: threading.Event, log: Log, *,
        policy: RetryPolicy | None = None, rng: random.Random | None = None,
    ) -> None:
        self.clock, self.cancel, self.log = clock, cancel, log
        self.policy = policy or RetryPolicy()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._down_total = 0.0

    def budget(self, deadline: float | None = None, *, until_deadline: bool = False) -> RetryBudget:
        """A fresh budget for one call, starting now; with ``until_deadline`` only the
        deadline bounds it (waiting for builds: the step's ``timeout`` does)."""
        now, policy = self.clock.now(), self.policy
        if until_deadline and deadline is not None:
            span = max(0.0, deadline - now)
            policy = replace(policy, budget_seconds=max(policy.budget_seconds, span),
                             throttle_seconds=max(policy.throttle_seconds, span))
        return RetryBudget(policy, now, deadline)

    def plan(self, budget: RetryBudget, error: BaseException) -> Delay | None:
        """The wait before the next try after ``error``, or None: give up."""
        retry_after = error.retry_after if isinstance(error, ApiError) else None
        status = error.status_code if isinstance(error, ApiError) else getattr(error, "status", 0)
        throttled = isinstance(error, RateLimitedError) or status == 429  # noqa: PLR2004
        return budget.next_delay(self.clock.now(), retry_after, self.rng, throttled=throttled)

    def wait_to_retry(self, budget: RetryBudget, error: BaseException, what: str, why: str) -> None:
        """Log one line and sleep before trying ``what`` again, or raise ``error`` (its
        message saying how hard the call tried) once ``budget`` has run out; a
        ``CancelledError`` at once when the run is cancelled."""
        delay = self.plan(budget, error)
        if delay is None:
            raise self.given_up(budget, error)
        now = self.clock.now()
        self.log.info(f"Retrying {what} in {delay.describe()}, {budget.progress(now)}{why}")
        if self.clock.sleep(delay.seconds, self.cancel) or self.cancel.is_set():
            cancelled = CancelledError(f"Cancelled while waiting to retry {what}.")
            cancelled.before_send = True  # the next try was not sent
            raise cancelled

    def given_up(self, budget: RetryBudget, error: BaseException) -> BaseException:
        """``error``, its message telling how hard the call tried and why it stopped."""
        if isinstance(error, ActionError):
            notes = [budget.refusal] if budget.refusal else []
            if budget.attempts > 1:
                notes.insert(0, f"gave up after {budget.spent(self.clock.now())}")
            if notes:
                error.message += f" ({'; '.join(notes)})"
        return error

    def call(self, fn: Callable[[], T], what: str, *, deadline: float | None = None) -> T:
        """``fn()``, tried again on transient failures as the policy allows: the Capwrapper
        client's reads and GitHub API calls. Only for calls that are safe to repeat."""
        budget = self.budget(deadline)
        while True:
            try:
                return fn()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                why = f"it failed: {type(exc).__name__}"
                if isinstance(exc, ApiError):  # "GET /x answered 503 …": "it answered 503 …"
                    rest = exc.message.removeprefix(f"{what} ")
                    why = exc.message if rest == exc.message else f"it {rest}"
                self.wait_to_retry(budget, exc, what, f"; {why}")

    # -- how long requests kept failing --------------------------------------------------------
    def failed(self) -> None:
        """A request failed in a transient way: the outage starts now unless it already has."""
        with self._lock:
            if self._down_since is None:
                self._down_since = self.clock.now()

    def answered(self) -> None:
        """A request got an answer that is not a transient failure: any outage has ended."""
        with self._lock:
            if self._down_since is not None:
                self._down_total += self.clock.now() - self._down_since
                self._down_since = None

    def unreachable_seconds(self) -> float:
        """Total time from a first transient failure to the next answer, over the run."""
        with self._lock:
            ongoing = 0.0 if self._down_since is None else self.clock.now() - self._down_since
            return self._down_total + ongoing
