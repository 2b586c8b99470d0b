"""A rate limit is waited out, not counted as a failure: 429s do not use up the seconds
that bound retries of real failures (``budget_seconds``), only their own allowance
(``throttle_seconds``) and the caller's deadline do; the spread after a Retry-After widens
while the limit lasts."""

from __future__ import annotations

import random

import pytest

from capwrapper_action.api.creating import create_or_adopt, deploy_once
from capwrapper_action.errors import RateLimitedError, ServerError
from capwrapper_action.retry import RetryBudget, RetryPolicy, plan_delay, spread_ceiling
from tests.unit.test_client_errors import BUILD, Answer, js, rig

BODY = {"platform": "android", "version": "1.0.0", "bundleId": "com.example.app"}
LIMITED = js(429, {"message": "Rate limit exceeded for this API key."}, **{"Retry-After": "5"})
LIMITED_BARE = js(429, {"message": "Rate limit exceeded."})


def test_429s_spend_time_not_attempts() -> None:
    policy = RetryPolicy(budget_seconds=0.0, throttle_seconds=100.0, retry_after_spread=0.0)
    budget = RetryBudget(policy, started=0.0)
    rng = random.Random(0)
    now = 0.0
    for _ in range(10):
        delay = budget.next_delay(now, 10.0, rng, throttled=True)
        assert delay is not None
        now += delay.seconds
    assert now == 100.0
    assert budget.next_delay(now, 10.0, rng, throttled=True) is None
    assert budget.spent(now) == "11 attempts in 1m 40s, 11 of them rate limited"


def test_failures_between_429s_still_count() -> None:
    budget = RetryBudget(RetryPolicy(budget_seconds=5.0), started=0.0)
    rng = random.Random(0)
    assert budget.next_delay(0.0, 1.0, rng, throttled=True) is not None
    assert budget.next_delay(2.0, None, rng) is not None  # failure 1, within 5 s
    assert budget.progress(2.0) == "attempt 3, failing for 2s of up to 5s"
    assert budget.next_delay(3.0, 1.0, rng, throttled=True) is not None
    assert budget.progress(3.0).startswith("rate limited 2 times in 3s")
    assert budget.next_delay(6.0, None, rng) is None  # failures past their 5 s


def test_no_wait_ends_past_the_deadline() -> None:
    budget = RetryBudget(RetryPolicy(), started=0.0, deadline=20.0)
    rng = random.Random(0)
    assert budget.next_delay(5.0, 10.0, rng, throttled=True) is not None  # ends by 16
    assert budget.next_delay(15.0, 10.0, rng, throttled=True) is None
    assert budget.next_delay(15.0, 10.0, rng) is None


def test_the_spread_after_retry_after_widens_while_the_limit_lasts() -> None:
    policy = RetryPolicy(retry_after_spread=1.0, max_delay=30.0)
    assert [spread_ceiling(n, policy) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert spread_ceiling(10**6, policy) == 30
    assert spread_ceiling(3, RetryPolicy(retry_after_spread=0.0)) == 0
    rng = random.Random(1)
    fifth = [plan_delay(5, 3.0, policy, rng).seconds for _ in range(500)]
    assert min(fifth) >= 3.0
    assert max(fifth) <= 19.0
    assert max(fifth) > 15.0  # spread over 16 s, not bunched in one second


def test_reads_wait_out_a_long_rate_limit() -> None:
    r = rig(*[LIMITED] * 8, LIMITED_BARE, js(200, BUILD), policy=RetryPolicy(budget_seconds=0))
    assert r.client.get_build("bld_1").id == "bld_1"
    assert len(r.adapter.sent) == 10
    assert all(s >= 5.0 for s in r.clock.sleeps[:8])
    retries = [ln for ln in r.out.getvalue().splitlines() if ln.startswith("Retrying")]
    assert "rate limited 8 times in " in retries[7]
    assert "429s are waited out for up to 15m 00s" in retries[7]


def test_reads_give_up_at_the_deadline_and_say_how_hard_they_tried() -> None:
    r = rig(LIMITED, policy=RetryPolicy(retry_after_spread=0.0))
    with pytest.raises(RateLimitedError) as caught:
        r.client.get_build("bld_1", deadline=r.clock.now() + 12.0)
    assert len(r.adapter.sent) == 3  # sent at 0, 5 and 10 s; a wait to 15 s passes the deadline
    assert "(gave up after 3 attempts in " in caught.value.message
    assert "3 of them rate limited" in caught.value.message


def test_throttle_seconds_bound_a_rate_limit_that_never_lifts() -> None:
    r = rig(LIMITED, policy=RetryPolicy(throttle_seconds=60.0))
    with pytest.raises(RateLimitedError):
        r.client.list_builds()
    assert 60.0 - 35.0 <= r.clock.now() <= 60.0  # waits grow with the widening spread


@pytest.mark.parametrize("refusal", [LIMITED, LIMITED_BARE])
def test_a_create_refused_more_often_than_the_attempts_is_made_once(refusal: Answer) -> None:
    r = rig(*[refusal] * 9, js(201, {**BUILD, "id": "bld_new"}),
            policy=RetryPolicy(budget_seconds=0))
    build, adopted = create_or_adopt(r.client, BODY, since=r.clock.wall(), idempotency_key="k",
                                     log=r.client.log)
    assert (build.id, adopted) == ("bld_new", False)
    assert [req.method for req in r.adapter.sent] == ["POST"] * 10
    assert "creating the android build of version 1.0.0" in r.out.getvalue()


def test_lost_creates_still_count_against_the_failure_budget() -> None:
    r = rig(LIMITED, js(500, {}), js(200, []), js(500, {}), js(200, []), js(201, BUILD),
            policy=RetryPolicy(budget_seconds=0))
    with pytest.raises(ServerError, match=r"gave up after 2 attempts .*1 of them rate limited"):
        create_or_adopt(r.client, BODY, since=r.clock.wall(), idempotency_key="k",
                        log=r.client.log)
    assert [req.method for req in r.adapter.sent] == ["POST", "POST", "GET"]


def test_a_deploy_refused_more_often_than_the_attempts_is_made_once() -> None:
    r = rig(*[LIMITED] * 7, js(201, {"id": "dep_1"}), policy=RetryPolicy(budget_seconds=0))
    deploy = deploy_once(r.client, "bld_1", {}, idempotency_key="d")
    assert deploy.id == "dep_1"
    assert len(r.adapter.sent) == 8


def test_creates_and_deploys_wait_no_longer_than_the_callers_deadline() -> None:
    """The step's deadline (``timeout``) bounds the retry waits of creates and deploys too:
    once a Retry-After would end past it, the call fails at once, naming the time asked for."""
    r = rig(*[LIMITED] * 9, js(201, BUILD))
    deadline = r.clock.now() + 8.0
    with pytest.raises(RateLimitedError, match=r"asked to wait 5s \(Retry-After\)"):
        create_or_adopt(r.client, BODY, since=r.clock.wall(), idempotency_key="k",
                        log=r.client.log, deadline=deadline)
    assert r.clock.now() <= deadline
    assert len(r.adapter.sent) == 2  # at 0 s and 5-6 s; a third would come past 8 s
    r = rig(*[LIMITED] * 9, js(201, {"id": "dep_1"}))
    with pytest.raises(RateLimitedError, match=r"asked to wait 5s \(Retry-After\)"):
        deploy_once(r.client, "bld_1", {}, idempotency_key="d", deadline=r.clock.now() + 4.0)
    assert len(r.adapter.sent) == 1
