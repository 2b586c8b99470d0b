"""The one retry policy: what is transient, backoff bounds, jitter, Retry-After parsing, the
budget in seconds, the helper for other calls and the unreachable time."""

from __future__ import annotations

import itertools
import random
import statistics
import threading
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests

from capwrapper_action.errors import (
    AuthError,
    BadRequestError,
    GarbledResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnexpectedResponseError,
)
from capwrapper_action.retry import (
    Retrier,
    RetryBudget,
    RetryPolicy,
    backoff,
    backoff_ceiling,
    is_transient,
    plan_delay,
)
from capwrapper_action.timeutil import parse_retry_after
from tests.virtual_clock import VirtualClock

NO_RETRIES = RetryPolicy(budget_seconds=0.0, throttle_seconds=0.0)
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_ceiling_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    assert [backoff_ceiling(n, policy) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert backoff_ceiling(10_000, policy) == 10.0


def test_backoff_stays_within_zero_and_the_ceiling() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    rng = random.Random(1)
    for retry in range(1, 12):
        ceiling = backoff_ceiling(retry, policy)
        for _ in range(200):
            assert 0.0 <= backoff(retry, policy, rng) <= ceiling


def test_full_jitter_is_spread_over_the_whole_range() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=16.0)
    rng = random.Random(42)
    samples = [backoff(5, policy, rng) for _ in range(4000)]  # ceiling 16
    assert statistics.mean(samples) == pytest.approx(8.0, abs=0.4)
    quarters = [sum(1 for s in samples if q * 4 <= s < (q + 1) * 4) for q in range(4)]
    assert all(900 < count < 1100 for count in quarters), quarters
    assert min(samples) < 0.1
    assert max(samples) > 15.9


def test_seeded_random_gives_the_same_delays() -> None:
    policy = RetryPolicy()
    first = [plan_delay(n, None, policy, random.Random(7)).seconds for n in range(1, 6)]
    again = [plan_delay(n, None, policy, random.Random(7)).seconds for n in range(1, 6)]
    assert first == again


def test_retry_after_is_never_undercut_and_spread_a_little() -> None:
    policy = RetryPolicy(retry_after_spread=1.0)
    rng = random.Random(3)
    delays = [plan_delay(1, 7.0, policy, rng) for _ in range(500)]
    assert all(7.0 <= d.seconds <= 8.0 for d in delays)
    assert len({round(d.seconds, 3) for d in delays}) > 100
    assert "Retry-After 7s" in delays[0].reason


def test_a_long_retry_after_is_honoured_in_full_when_the_budget_allows() -> None:
    policy = RetryPolicy(retry_after_spread=1.0)
    delay = plan_delay(1, 600.0, policy, random.Random(0))
    assert 600.0 <= delay.seconds <= 601.0
    assert "Retry-After 10m 00s" in delay.describe()


def test_a_retry_after_beyond_the_budget_fails_at_once_naming_the_time_asked() -> None:
    budget = RetryBudget(RetryPolicy(throttle_seconds=900.0), started=0.0)
    assert budget.next_delay(0.0, 86400.0, random.Random(0), throttled=True) is None
    assert "asked to wait 24h 00m (Retry-After)" in budget.refusal
    assert "longer than the 15m 00s this step would still wait" in budget.refusal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 12 ", 12.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", None),
        ("1e3", None),
        ("1.2.3", None),
        (".", None),
        ("²", None),  # a digit to str.isdigit, not to float(): Latin-1 headers can carry it
        ("1³", None),
        ("9" * 100, None),
        ("Mon, 32 Foo 2026 99:99:99 GMT", None),
    ],
)
def test_retry_after_seconds_and_garbage(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_retry_after_http_date_is_relative_to_the_wall_clock() -> None:
    header = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert header.endswith("GMT")
    assert parse_retry_after(header, NOW) == 30.0
    # The same date read a little later means a shorter wait.
    assert parse_retry_after(header, NOW + timedelta(seconds=10)) == 20.0


def test_retry_after_http_date_in_the_past_means_now() -> None:
    header = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(header, NOW) == 0.0


def test_retry_after_dates_with_offsets_or_naive_clocks() -> None:
    east = timezone(timedelta(hours=2))
    header = format_datetime((NOW + timedelta(seconds=60)).astimezone(east))
    assert parse_retry_after(header, NOW) == 60.0
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:45 -0000", NOW) == 45.0
    naive_now = NOW.replace(tzinfo=None)
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:45 GMT", naive_now) == 45.0


def test_failures_are_retried_for_the_budget_in_seconds_not_a_count() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, budget_seconds=360.0)
    budget = RetryBudget(policy, started=0.0)
    rng = random.Random(0)
    now, sends = 0.0, [0.0]
    while (delay := budget.next_delay(now, None, rng)) is not None:
        assert delay.seconds <= 30.0  # capped: a recovery is noticed within 30 s
        now += delay.seconds
        sends.append(now)
    assert sends[-1] == pytest.approx(360.0)  # the last wait is cut to end at the budget
    assert max(b - a for a, b in itertools.pairwise(sends)) <= 30.0
    assert any(300.0 <= t <= 330.0 for t in sends)  # a 5-minute outage is ridden out
    assert budget.attempts == len(sends)
    assert budget.spent(now).startswith(f"{len(sends)} attempts in 6m 00s")


def test_budget_refuses_a_wait_that_would_overrun_its_seconds() -> None:
    policy = RetryPolicy(budget_seconds=60.0)
    budget = RetryBudget(policy, started=100.0)
    rng = random.Random(0)
    assert budget.next_delay(110.0, 30.0, rng) is not None  # 10 + ~30 <= 60
    assert budget.next_delay(150.0, 30.0, rng) is None  # 50 + 30 > 60
    assert "asked to wait 30s" in budget.refusal


def test_no_retries_policy_never_retries() -> None:
    budget = RetryBudget(NO_RETRIES, started=0.0)
    assert budget.next_delay(0.0, None, random.Random(0)) is None
    assert budget.next_delay(0.0, None, random.Random(0), throttled=True) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"base_delay": -1.0}, {"budget_seconds": -1.0}, {"retry_after_spread": -0.1}],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**kwargs)


class _Status(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (NetworkError("refused"), True),
        (GarbledResponseError("<html>", status_code=200), True),
        (RateLimitedError("429", status_code=429), True),
        (ServerError("500", status_code=500), True),
        (ServerError("503", status_code=503), True),
        (UnexpectedResponseError("408", status_code=408), True),
        (UnexpectedResponseError("no id"), False),
        (AuthError("401", status_code=401), False),
        (NotFoundError("404", status_code=404), False),
        (BadRequestError("400", status_code=400), False),
        (requests.ConnectionError("reset"), True),
        (requests.ReadTimeout("slow"), True),
        (requests.exceptions.ChunkedEncodingError("cut"), True),
        (requests.exceptions.InvalidURL("bad"), False),
        (_Status(502), True),  # PyGithub's GithubException carries `status`
        (_Status(429), True),
        (_Status(404), False),
        (ValueError("bug"), False),
    ],
)
def test_one_rule_for_what_is_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def _retrier(clock: VirtualClock, **policy: float) -> tuple[Retrier, list[str]]:
    lines: list[str] = []

    class Log:
        def info(self, message: str) -> None:
            lines.append(message)

    return Retrier(clock, threading.Event(), Log(), policy=RetryPolicy(**policy),
                   rng=random.Random(0)), lines


def test_the_helper_retries_transient_failures_with_one_line_each() -> None:
    clock = VirtualClock()
    retrier, lines = _retrier(clock)
    answers: list[Exception | str] = [_Status(502), requests.ConnectionError("x"), "labels"]

    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retrier.call(call, "the GitHub lookup") == "labels"
    assert len(lines) == 2
    assert all(line.startswith("Retrying the GitHub lookup in ") for line in lines)
    assert len(clock.sleeps) == 2


def test_the_helper_raises_what_is_not_transient_at_once() -> None:
    clock = VirtualClock()
    retrier, lines = _retrier(clock)

    def call() -> str:
        raise _Status(403)

    with pytest.raises(_Status):
        retrier.call(call, "the GitHub lookup")
    assert lines == []
    assert clock.sleeps == []


def test_the_helper_gives_up_at_the_budget() -> None:
    clock = VirtualClock()
    retrier, _ = _retrier(clock, budget_seconds=60.0)

    def call() -> str:
        raise ServerError("GET /x answered 503", status_code=503)

    with pytest.raises(ServerError, match=r"gave up after \d+ attempts in 1m 00s"):
        retrier.call(call, "GET /x")
    assert clock.now() == pytest.approx(60.0)


def test_unreachable_time_adds_up_the_outages() -> None:
    clock = VirtualClock()
    retrier, _ = _retrier(clock)
    retrier.failed()
    clock.advance(40)
    retrier.failed()  # the same outage
    clock.advance(5)
    retrier.answered()
    clock.advance(100)
    retrier.answered()
    retrier.failed()
    clock.advance(15)
    assert retrier.unreachable_seconds() == pytest.approx(60.0)  # 45 s, and 15 s still going
    retrier.answered()
    clock.advance(10)
    assert retrier.unreachable_seconds() == pytest.approx(60.0)
