"""``create_or_adopt`` edge cases on canned answers (the fault matrix covers the rest)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from capwrapper_action.api.creating import create_or_adopt, deploy_once
from capwrapper_action.errors import BadRequestError, ServerError
from capwrapper_action.retry import RetryPolicy
from tests.unit.test_client_errors import BUILD, js, rig

BODY = {"platform": "android", "version": "1.0.0", "bundleId": "com.example.app"}


def made(**changes: Any) -> dict[str, Any]:
    return {**BUILD, "id": "bld_made", **changes}


def test_a_match_without_created_at_is_adopted_and_naive_times_work() -> None:
    undated = {k: v for k, v in made().items() if k != "createdAt"}
    r = rig(js(500, {"message": "x"}), js(200, {"data": [undated]}))
    build, adopted = create_or_adopt(r.client, BODY, since=datetime(2026, 1, 1),
                                     idempotency_key="k", log=r.client.log)
    assert (build.id, adopted) == ("bld_made", True)


@pytest.mark.parametrize(
    "other",
    [made(platform="ios"), made(version="1.0.1"), made(bundleId="com.other"),
     made(createdAt="2025-12-31T23:50:00Z")],
)
def test_only_this_runs_build_is_adopted(other: dict[str, Any]) -> None:
    r = rig(js(500, {}), js(200, [other]), js(201, made(id="bld_new")))
    build, adopted = create_or_adopt(r.client, BODY, since=datetime(2026, 1, 1, tzinfo=UTC),
                                     idempotency_key="k", log=r.client.log)
    assert (build.id, adopted) == ("bld_new", False)
    assert [req.method for req in r.adapter.sent] == ["POST", "GET", "POST"]
    assert r.adapter.sent[0].headers["Idempotency-Key"] == "k"
    assert r.adapter.sent[2].headers["Idempotency-Key"] == "k"


def test_a_match_within_the_clock_skew_margin_is_adopted() -> None:
    r = rig(js(500, {}), js(200, [made(createdAt="2025-12-31T23:57:00Z")]))
    _, adopted = create_or_adopt(r.client, BODY, since=datetime(2026, 1, 1, tzinfo=UTC),
                                 idempotency_key="k", log=r.client.log)
    assert adopted


def test_a_plain_400_is_not_followed_by_a_lookup() -> None:
    r = rig(js(400, {"message": "version must be higher than 2.0.0"}))
    with pytest.raises(BadRequestError, match="must be higher"):
        create_or_adopt(r.client, BODY, since=datetime(2026, 1, 1, tzinfo=UTC),
                        idempotency_key="k", log=r.client.log)
    assert len(r.adapter.sent) == 1


def test_time_bounds_the_creates_after_lost_answers() -> None:
    r = rig(*[js(500, {}), js(200, [])] * 50, policy=RetryPolicy(budget_seconds=60))
    with pytest.raises(ServerError, match=r"gave up after \d+ attempts in 1m 00s"):
        create_or_adopt(r.client, BODY, since=datetime(2026, 1, 1, tzinfo=UTC),
                        idempotency_key="k", log=r.client.log)
    methods = [req.method for req in r.adapter.sent]
    assert methods[:4] == ["POST", "GET", "POST", "GET"]  # every lost create is looked for
    assert methods[-1] == "GET"
    assert r.clock.now() == pytest.approx(60.0)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_means_not_carried_out_so_the_create_is_sent_again(status: int) -> None:
    r = rig(js(status, {}), js(status, {}), js(201, made(id="bld_new")))
    build, adopted = create_or_adopt(r.client, BODY, since=datetime(2026, 1, 1, tzinfo=UTC),
                                     idempotency_key="k", log=r.client.log)
    assert (build.id, adopted) == ("bld_new", False)
    assert [req.method for req in r.adapter.sent] == ["POST", "POST", "POST"]  # no lookup


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_on_a_deploy_sends_it_again(status: int) -> None:
    r = rig(js(status, {}), js(201, {"id": "dep_1"}))
    assert deploy_once(r.client, "bld_1", {}, idempotency_key="d").id == "dep_1"
    assert len(r.adapter.sent) == 2


def test_a_500_on_a_deploy_is_reported_as_possibly_made() -> None:
    r = rig(js(500, {}), js(201, {"id": "dep_1"}))
    with pytest.raises(ServerError, match="may or may not have been made"):
        deploy_once(r.client, "bld_1", {}, idempotency_key="d")
    assert len(r.adapter.sent) == 1


def test_deploy_body_is_the_options_with_the_build_id_winning() -> None:
    r = rig(js(201, {"id": "dep_1", "status": "queued"}))
    deploy = deploy_once(r.client, "bld_1", {"buildId": "other", "track": "beta"},
                         idempotency_key="d")
    assert (deploy.id, deploy.build_id, deploy.status) == ("dep_1", "bld_1", "queued")
    assert r.adapter.sent[0].body == b'{"buildId": "bld_1", "track": "beta"}'
