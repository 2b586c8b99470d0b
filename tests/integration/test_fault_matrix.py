"""Every fault of the simulator on every call that can meet it. Each scenario checks the
outcome AND what exists on the server afterwards: exactly one build per platform, at most one
deploy per build, and no create sent blindly twice.

The client waits in virtual time (its sleeps move the simulator's manual clock), so retries
cost no real time; only the "slow answer" scenarios wait, for less than a second each."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from capwrapper_action.api.creating import create_or_adopt, deploy_once
from capwrapper_action.api.models import Build
from capwrapper_action.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    CancelledError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from capwrapper_action.retry import RetryPolicy
from capwrapper_simulator import Fault, ManualClock, SimConfig, Simulator
from tests.integration.client_rig import Rig, answered, build_body, make_rig, wait_until

SLOW_TIMEOUT = (2.0, 0.4)  # read timeout for the slow-answer scenarios
SLOW = 1.0  # seconds the simulator waits before a slow answer


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimConfig(queue_seconds=5, build_seconds=20)
    with Simulator(config, clock=ManualClock()) as running:
        yield running


@pytest.fixture
def rig(sim: Simulator) -> Iterator[Rig]:
    made = make_rig(sim)
    yield made
    made.close()


def create(rig: Rig, platform: str = "android", version: str = "1.0.0",
           **body: Any) -> tuple[Build, bool]:
    return create_or_adopt(
        rig.client, build_body(platform, version, **body), since=rig.clock.wall(),
        idempotency_key=f"run-1:{platform}:{version}", log=rig.log,
    )


def successful_build(sim: Simulator, rig: Rig, platform: str = "android") -> Build:
    build = rig.client.create_build(build_body(platform), idempotency_key="seed")
    sim.advance(60)
    return build


def deploy(rig: Rig, build: Build) -> Any:
    return deploy_once(rig.client, build.id, {"track": "beta"},
                       idempotency_key=f"run-1:deploy:{build.id}")


def one_build_per_platform(sim: Simulator, *platforms: str) -> None:
    for platform in platforms:
        assert sim.created_count(platform) == 1, f"{platform}: {sim.created_count(platform)}"


# -- POST /builds --------------------------------------------------------------------------
CREATE_FAULTS = [
    # (fault, adopted, creates sent, lookups made); a gateway's 502/503/504 means not carried
    # out, so the create is sent again without a lookup
    pytest.param({"kind": "drop_after_action"}, True, 1, 1, id="create-dropped-after-acting"),
    pytest.param({"kind": "truncate"}, True, 1, 1, id="create-answer-cut-off"),
    pytest.param({"kind": "drop_before_action"}, False, 2, 1, id="create-dropped-before-acting"),
    pytest.param({"kind": "http_error", "status": 500}, False, 2, 1, id="create-500"),
    pytest.param({"kind": "html_error", "status": 502}, False, 2, 0, id="create-502-html"),
    pytest.param({"kind": "http_error", "status": 503}, False, 2, 0, id="create-503"),
    pytest.param({"kind": "html_error", "status": 504}, False, 2, 0, id="create-504-html"),
    pytest.param({"kind": "non_json"}, False, 2, 1, id="create-non-json-200"),
    pytest.param({"kind": "rate_limited", "seconds": 7}, False, 2, 0, id="create-429-seconds"),
    pytest.param({"kind": "rate_limited", "seconds": 5, "retry_after": "http-date"}, False, 2, 0,
                 id="create-429-http-date"),
    pytest.param({"kind": "rate_limited", "retry_after": "none"}, False, 2, 0,
                 id="create-429-no-retry-after"),
]


@pytest.mark.parametrize(("fault", "adopted", "creates", "lookups"), CREATE_FAULTS)
def test_create_under_a_fault_makes_exactly_one_build(
    sim: Simulator, rig: Rig, fault: dict[str, Any], adopted: bool, creates: int, lookups: int
) -> None:
    sim.faults.add(Fault(endpoint="create_build", **fault))
    build, was_adopted = create(rig)
    assert was_adopted is adopted
    one_build_per_platform(sim, "android")
    assert sim.builds()[0].id == build.id
    assert sim.request_count("create_build") == creates
    assert sim.request_count("list_builds") == lookups
    if adopted:
        assert any(ln.startswith(f"Adopted {build.id}") for ln in rig.lines())


def test_create_429_waits_as_long_as_retry_after_says(sim: Simulator, rig: Rig) -> None:
    # HTTP date first: the simulator writes it from the real clock, and the client's virtual
    # wall clock has not moved yet.
    sim.faults.add(Fault(endpoint="create_build", kind="rate_limited", seconds=5,
                         retry_after="http-date"))
    create(rig, "ios")
    assert 3.0 <= rig.clock.sleeps[0] <= 8.0  # whole-second dates, read a moment later
    sim.faults.add(Fault(endpoint="create_build", kind="rate_limited", seconds=7))
    create(rig)
    assert 7.0 <= rig.clock.sleeps[1] <= 8.0
    sim.faults.add(Fault(endpoint="create_build", kind="rate_limited", seconds=600))
    create(rig, "android", "1.0.1")
    assert 600.0 <= rig.clock.sleeps[2] <= 601.0  # honoured in full: it fits the budget
    sim.faults.add(Fault(endpoint="create_build", kind="rate_limited", seconds=86400))
    with pytest.raises(RateLimitedError, match=r"asked to wait 24h 00m \(Retry-After\)"):
        create(rig, "android", "1.0.2")
    assert len(rig.clock.sleeps) == 3  # failed at once: no sleep towards a day


@pytest.mark.parametrize("shape", ["data", "array", "builds", "items", "cursor"])
def test_adopting_works_with_every_list_shape(sim: Simulator, rig: Rig, shape: str) -> None:
    sim.config.list_shape = shape  # type: ignore[assignment]
    sim.seed_build(platform="android", bundle_id="com.example.shop", version="0.9.0")
    sim.faults.add(Fault(endpoint="create_build", kind="drop_after_action"))
    build, adopted = create(rig)
    assert adopted
    assert build.version == "1.0.0"
    assert sim.created_count() == 1


def test_adopting_survives_a_failing_list(sim: Simulator, rig: Rig) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="drop_after_action"))
    sim.faults.add(Fault(endpoint="list_builds", kind="html_error", status=503, times=2))
    _, adopted = create(rig)
    assert adopted
    assert sim.request_count("list_builds") == 3
    one_build_per_platform(sim, "android")


def test_when_the_list_cannot_be_read_the_error_says_to_check(sim: Simulator, rig: Rig) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="drop_after_action"))
    sim.faults.add(Fault(endpoint="list_builds", kind="http_error", status=500, times=None))
    with pytest.raises(NetworkError) as caught:
        create(rig)
    assert "may or may not have worked" in caught.value.message
    assert "dashboard" in caught.value.hint
    assert caught.value.outcome_unknown
    assert sim.request_count("create_build") == 1  # never created again blindly
    assert sim.created_count() == 1


def test_a_build_of_another_platform_or_version_is_not_adopted(sim: Simulator, rig: Rig) -> None:
    rig.client.create_build(build_body("ios"), idempotency_key="x")
    sim.seed_build(platform="android", bundle_id="com.example.shop", version="0.5.0",
                   finished_ago=10)
    sim.faults.add(Fault(endpoint="create_build", kind="http_error", status=503))
    build, adopted = create(rig, "android", "1.0.0")
    assert not adopted
    assert (build.platform, build.version) == ("android", "1.0.0")
    one_build_per_platform(sim, "android", "ios")


def test_an_old_build_of_the_same_version_is_never_adopted(sim: Simulator, rig: Rig) -> None:
    sim.seed_build(platform="android", bundle_id="com.example.shop", version="1.0.0",
                   finished_ago=3600)
    sim.faults.add(Fault(endpoint="create_build", kind="drop_before_action"))
    with pytest.raises(BadRequestError, match="must be higher"):
        create(rig)
    assert sim.created_count() == 0
    assert sim.request_count("list_builds") == 2  # after the lost answer, and after the 400


def test_cancel_during_a_retry_wait_stops_at_once(sim: Simulator, rig: Rig) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="rate_limited", seconds=30))
    rig.clock.on_sleep = lambda _s: rig.cancel.set()
    with pytest.raises(CancelledError, match="creating the android build"):
        create(rig)
    assert sim.request_count() == 1
    assert sim.created_count() == 0


def test_slow_create_beyond_the_read_timeout_makes_one_build(sim: Simulator) -> None:
    rig = make_rig(sim, timeout=SLOW_TIMEOUT)
    sim.faults.add(Fault(endpoint="create_build", kind="slow", seconds=SLOW))
    build, adopted = create(rig)
    wait_until(answered(sim, "create_build", 2))  # the slow request ends on its own
    one_build_per_platform(sim, "android")
    assert sim.builds()[0].id == build.id
    statuses = sorted(r.status or 0 for r in sim.requests("create_build"))
    assert statuses == [201, 400]  # the late first one is refused: version already built
    assert not adopted


def test_a_400_right_after_a_lost_answer_leads_to_adoption(sim: Simulator) -> None:
    """The server finishes the lost create while we wait to try again: the second create is
    refused (version must be higher) and the build the first one made is adopted."""
    rig = make_rig(sim, timeout=SLOW_TIMEOUT)
    sim.faults.add(Fault(endpoint="create_build", kind="slow", seconds=SLOW))
    rig.clock.on_sleep = lambda _s: wait_until(answered(sim, "create_build", 1))
    build, adopted = create(rig)
    assert adopted
    one_build_per_platform(sim, "android")
    assert sim.builds()[0].id == build.id
    assert [r.status for r in sim.requests("create_build")] == [201, 400]
    assert sim.request_count("list_builds") == 2


def test_persistent_server_errors_end_after_bounded_tries(sim: Simulator, rig: Rig) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="http_error", status=500, times=None))
    with pytest.raises(ServerError) as caught:
        create(rig)
    assert "(gave up after " in str(caught.value)
    assert rig.clock.now() <= 360.0 + 0.001  # bounded by the time budget
    creates = sim.request_count("create_build")
    assert creates > 3
    assert sim.request_count("list_builds") == creates  # every lost create was looked for
    assert sim.created_count() == 0


@pytest.mark.parametrize(
    ("changes", "key", "error"),
    [({"version": "1.0"}, None, BadRequestError), ({}, "wrong-key", AuthError)],
    ids=["create-400", "create-401"],
)
def test_client_errors_on_create_fail_at_once(
    sim: Simulator, changes: dict[str, Any], key: str | None, error: type[ApiError]
) -> None:
    rig = make_rig(sim, key=key)
    with pytest.raises(error):
        create_or_adopt(rig.client, {**build_body(), **changes}, since=rig.clock.wall(),
                        idempotency_key="k", log=rig.log)
    assert sim.request_count() == 1
    assert rig.clock.sleeps == []


def test_refused_connection_is_retried_and_makes_nothing(sim: Simulator) -> None:
    port = sim.port
    sim.stop()
    rig = make_rig(sim, base_url=f"http://127.0.0.1:{port}/v1",
                   policy=RetryPolicy(budget_seconds=5))
    with pytest.raises(NetworkError, match="could not connect") as caught:
        create(rig)
    assert not caught.value.outcome_unknown
    assert len(rig.clock.sleeps) >= 2
    assert sum(rig.clock.sleeps) == pytest.approx(5.0)  # bounded by time
    assert sim.created_count() == 0


# -- GET /builds/:id -----------------------------------------------------------------------
GET_FAULTS = [
    pytest.param({"kind": "http_error", "status": 500}, id="get-500"),
    pytest.param({"kind": "html_error", "status": 502}, id="get-502-html"),
    pytest.param({"kind": "http_error", "status": 503}, id="get-503"),
    pytest.param({"kind": "html_error", "status": 504}, id="get-504-html"),
    pytest.param({"kind": "rate_limited", "seconds": 3}, id="get-429-seconds"),
    pytest.param({"kind": "rate_limited", "seconds": 3, "retry_after": "http-date"},
                 id="get-429-http-date"),
    pytest.param({"kind": "rate_limited", "retry_after": "none"}, id="get-429-no-retry-after"),
    pytest.param({"kind": "non_json"}, id="get-non-json-200"),
    pytest.param({"kind": "truncate"}, id="get-answer-cut-off"),
    pytest.param({"kind": "drop_before_action"}, id="get-dropped"),
    pytest.param({"kind": "http_error", "status": 502, "times": 3}, id="get-502-three-times"),
]


@pytest.mark.parametrize("fault", GET_FAULTS)
def test_status_checks_ride_out_a_fault(sim: Simulator, rig: Rig, fault: dict[str, Any]) -> None:
    build = successful_build(sim, rig)
    sim.faults.add(Fault(endpoint="get_build", **fault))
    assert rig.client.get_build(build.id).status == "success"
    failures = fault.get("times", 1)
    assert sim.request_count("get_build") == failures + 1
    assert len(rig.clock.sleeps) == failures
    retries = rig.lines("Retrying GET /builds/")
    assert len(retries) == failures
    one_build_per_platform(sim, "android")


def test_slow_status_check_is_retried(sim: Simulator) -> None:
    rig = make_rig(sim, timeout=SLOW_TIMEOUT)
    build = successful_build(sim, rig)
    sim.faults.add(Fault(endpoint="get_build", kind="slow", seconds=SLOW))
    assert rig.client.get_build(build.id).status == "success"
    assert "read timeout" in rig.lines("Retrying")[0]


def test_status_checks_give_up_after_the_budget(sim: Simulator, rig: Rig) -> None:
    build = successful_build(sim, rig)
    sim.faults.add(Fault(endpoint="get_build", kind="html_error", status=503, times=None))
    with pytest.raises(ServerError, match=r"gave up after \d+ attempts in 6m 00s"):
        rig.client.get_build(build.id)
    assert rig.clock.now() == pytest.approx(360.0)  # a 5-minute outage would be ridden out
    assert max(rig.clock.sleeps) <= 30.0


def test_status_check_of_a_missing_build_is_not_retried(sim: Simulator, rig: Rig) -> None:
    with pytest.raises(NotFoundError):
        rig.client.get_build("bld_missing")
    assert sim.request_count("get_build") == 1


# -- GET /builds -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["non_json", "truncate", "drop_before_action"])
def test_list_rides_out_a_fault(sim: Simulator, rig: Rig, kind: str) -> None:
    successful_build(sim, rig)
    sim.faults.add(Fault(endpoint="list_builds", kind=kind))
    assert len(rig.client.list_builds()) == 1
    assert sim.request_count("list_builds") == 2


# -- POST /deploys -----------------------------------------------------------------------------
DEPLOY_UNKNOWN = [
    # (fault, deploys the server made)
    pytest.param({"kind": "drop_after_action"}, 1, id="deploy-dropped-after-acting"),
    pytest.param({"kind": "truncate"}, 1, id="deploy-answer-cut-off"),
    pytest.param({"kind": "drop_before_action"}, 0, id="deploy-dropped-before-acting"),
    pytest.param({"kind": "http_error", "status": 500}, 0, id="deploy-500"),
    pytest.param({"kind": "non_json"}, 0, id="deploy-non-json-200"),
]


@pytest.mark.parametrize(
    "fault",
    [{"kind": "html_error", "status": 502}, {"kind": "http_error", "status": 503},
     {"kind": "html_error", "status": 504}],
    ids=["deploy-502-html", "deploy-503", "deploy-504-html"],
)
def test_deploy_after_a_gateway_error_is_sent_again(
    sim: Simulator, rig: Rig, fault: dict[str, Any]
) -> None:
    build = successful_build(sim, rig)
    sim.faults.add(Fault(endpoint="create_deploy", times=2, **fault))
    assert deploy(rig, build).build_id == build.id
    assert sim.request_count("create_deploy") == 3
    assert len(sim.deploys()) == 1


@pytest.mark.parametrize(("fault", "made"), DEPLOY_UNKNOWN)
def test_deploy_with_unknown_outcome_is_never_sent_again(
    sim: Simulator, rig: Rig, fault: dict[str, Any], made: int
) -> None:
    build = successful_build(sim, rig)
    sim.faults.add(Fault(endpoint="create_deploy", **fault))
    with pytest.raises(ApiError) as caught:
        deploy(rig, build)
    assert caught.value.message.startswith(f"The deploy of {build.id} may or may not have been")
    assert "dashboard before re-running" in caught.value.hint
    assert sim.request_count("create_deploy") == 1
    assert len(sim.deploys()) == made


def test_slow_deploy_beyond_the_read_timeout_is_not_sent_again(sim: Simulator) -> None:
    rig = make_rig(sim, timeout=SLOW_TIMEOUT)
    build = successful_build(sim, rig)
    sim.faults.add(Fault(endpoint="create_deploy", kind="slow", seconds=SLOW))
    with pytest.raises(NetworkError, match="may or may not"):
        deploy(rig, build)
    wait_until(answered(sim, "create_deploy", 1))
    assert len(sim.deploys()) == 1
    assert sim.request_count("create_deploy") == 1


@pytest.mark.parametrize("retry_after", ["seconds", "http-date", "none"])
def test_deploy_rate_limited_is_retried_once_allowed(
    sim: Simulator, rig: Rig, retry_after: str
) -> None:
    build = successful_build(sim, rig)
    sim.faults.add(Fault(endpoint="create_deploy", kind="rate_limited", seconds=4,
                         retry_after=retry_after, times=2))
    made = deploy(rig, build)
    assert made.build_id == build.id
    assert len(sim.deploys()) == 1
    assert sim.request_count("create_deploy") == 3


def test_deploy_to_a_refused_connection_is_retried_then_fails(sim: Simulator) -> None:
    port = sim.port
    sim.stop()
    rig = make_rig(sim, base_url=f"http://127.0.0.1:{port}/v1",
                   policy=RetryPolicy(budget_seconds=5))
    with pytest.raises(NetworkError, match="could not connect") as caught:
        deploy_once(rig.client, "bld_1", {}, idempotency_key="k")
    assert not caught.value.outcome_unknown
    assert len(rig.clock.sleeps) >= 2
    assert sum(rig.clock.sleeps) == pytest.approx(5.0)
    assert sim.deploys() == []


# -- one key, several parallel runs ----------------------------------------------------------
def test_rate_limit_shared_by_parallel_runs(sim: Simulator) -> None:
    sim.config.rate_limit = (4, 10.0)
    runs = 4
    results: dict[int, Build] = {}
    errors: list[BaseException] = []
    rigs = [make_rig(sim, seed=n) for n in range(runs)]

    def run(n: int) -> None:
        try:
            rig = rigs[n]
            build, _ = create_or_adopt(
                rig.client, build_body(bundleId=f"com.example.app{n}"), since=rig.clock.wall(),
                idempotency_key=f"run-{n}", log=rig.log,
            )
            for _ in range(3):
                build = rig.client.get_build(build.id)
            results[n] = build
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == runs
    assert sim.request_count(status=429) > 0
    assert sim.created_count() == runs
    bundles = sorted(b.record.fields["bundleId"] for b in sim.builds())
    assert bundles == [f"com.example.app{n}" for n in range(runs)]
    assert all(rig.lines("Retrying") for rig in rigs if rig.client.request_count > 4)


# -- the whole sequence, faults everywhere ----------------------------------------------------
def test_both_platforms_end_to_end_under_faults(sim: Simulator, rig: Rig) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="drop_after_action"))
    sim.faults.add(Fault(endpoint="create_build", kind="html_error", status=503, after=1))
    sim.faults.add(Fault(endpoint="get_build", kind="html_error", status=502, times=2))
    sim.faults.add(Fault(endpoint="create_deploy", kind="rate_limited", seconds=2))
    builds = {p: create(rig, p)[0] for p in ("android", "ios")}
    sim.advance(60)
    done = {p: rig.client.get_build(b.id) for p, b in builds.items()}
    assert {b.status for b in done.values()} == {"success"}
    deploys = [deploy(rig, b) for b in done.values()]
    one_build_per_platform(sim, "android", "ios")
    assert sorted(d.build_id for d in sim.deploys()) == sorted(b.id for b in done.values())
    assert len(deploys) == 2
