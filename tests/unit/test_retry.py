"""Backoff bounds, jitter, Retry-After parsing and the retry budget."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from capwrapper_action.retry import (
    RetryBudget,
    RetryPolicy,
    backoff,
    backoff_ceiling,
    parse_retry_after,
    plan_delay,
)

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
    policy = RetryPolicy(retry_after_spread=1.0, max_retry_after=120.0)
    rng = random.Random(3)
    delays = [plan_delay(1, 7.0, policy, rng) for _ in range(500)]
    assert all(7.0 <= d.seconds <= 8.0 for d in delays)
    assert len({round(d.seconds, 3) for d in delays}) > 100
    assert "Retry-After 7.0 s" in delays[0].reason


def test_retry_after_beyond_the_cap_waits_the_cap_and_says_so() -> None:
    policy = RetryPolicy(max_retry_after=120.0)
    delay = plan_delay(1, 600.0, policy, random.Random(0))
    assert delay.seconds == 120.0
    assert "10m 00s" in delay.reason
    assert "cap" in delay.describe()


def test_retry_after_just_under_the_cap_never_exceeds_it() -> None:
    policy = RetryPolicy(max_retry_after=10.0, retry_after_spread=5.0)
    rng = random.Random(0)
    assert all(9.5 <= plan_delay(1, 9.5, policy, rng).seconds <= 10.0 for _ in range(100))


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


def test_budget_counts_attempts_including_the_first() -> None:
    policy = RetryPolicy(max_attempts=4, base_delay=0.1, budget_seconds=1000)
    budget = RetryBudget(policy, started=0.0)
    rng = random.Random(0)
    delays = [budget.next_delay(0.0, None, rng) for _ in range(5)]
    assert [d is not None for d in delays] == [True, True, True, False, False]
    assert budget.attempts == 4
    assert budget.spent(2.0) == "4 attempts in 2.0 s"


def test_budget_refuses_a_wait_that_would_overrun_its_seconds() -> None:
    policy = RetryPolicy(max_attempts=10, budget_seconds=60.0)
    budget = RetryBudget(policy, started=100.0)
    rng = random.Random(0)
    assert budget.next_delay(110.0, 30.0, rng) is not None  # 10 + ~30 <= 60
    assert budget.next_delay(150.0, 30.0, rng) is None  # 50 + 30 > 60


def test_one_attempt_policy_never_retries() -> None:
    budget = RetryBudget(RetryPolicy(max_attempts=1), started=0.0)
    assert budget.next_delay(0.0, None, random.Random(0)) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay": -1.0}, {"budget_seconds": -1.0},
     {"retry_after_spread": -0.1}],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
