"""The client over real HTTP against the simulator on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from capwrapper_action.errors import (
    AuthError,
    BadRequestError,
    NotFoundError,
    UnexpectedResponseError,
)
from capwrapper_simulator import Fault, ManualClock, SimConfig, Simulator
from tests.integration.client_rig import Rig, build_body, make_rig

SHAPES = ("data", "array", "builds", "items", "cursor")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(queue_seconds=5, build_seconds=20), clock=ManualClock()) as running:
        yield running


@pytest.fixture
def rig(sim: Simulator) -> Iterator[Rig]:
    made = make_rig(sim)
    yield made
    made.close()


def test_create_get_and_finish(sim: Simulator, rig: Rig) -> None:
    build = rig.client.create_build(build_body("ios", permissions=["camera"]), idempotency_key="k1")
    assert build.status == "queued"
    assert build.platform == "ios"
    assert build.raw["region"] == "eu"  # unknown fields are kept
    sim.advance(30)
    done = rig.client.get_build(build.id)
    assert done.status == "success"
    assert done.download_url
    assert done.duration == pytest.approx(25.0)
    assert rig.client.request_count == 2
    (post, get) = sim.requests()
    assert (post.method, post.status, get.status) == ("POST", 201, 200)


def test_create_answered_200_is_success(sim: Simulator, rig: Rig) -> None:
    sim.config.create_status = 200
    assert rig.client.create_build(build_body(), idempotency_key="k").status == "queued"


def test_deploy(sim: Simulator, rig: Rig) -> None:
    build = rig.client.create_build(build_body(), idempotency_key="k")
    sim.advance(60)
    deploy = rig.client.create_deploy(
        {"buildId": build.id, "track": "internal"}, idempotency_key="d"
    )
    assert deploy.build_id == build.id
    assert deploy.status == "queued"
    (record,) = sim.deploys()
    assert record.fields == {"track": "internal"}


def test_wrong_key_gives_the_server_message_and_the_fix(sim: Simulator) -> None:
    rig = make_rig(sim, key="sk_wrong_key_value")
    with pytest.raises(AuthError) as caught:
        rig.client.get_build("bld_x")
    error = caught.value
    assert str(error).startswith(
        "GET /builds/bld_x answered 401 Unauthorized: Invalid or missing API key. [unauthorized]"
    )
    assert "Settings > API Keys" in error.hint
    assert "sk_wrong_key_value" not in str(error) + repr(error) + rig.out.getvalue()
    assert sim.request_count() == 1


def test_validation_error_names_the_field(rig: Rig) -> None:
    rig.client.create_build(build_body(version="2.0.0"), idempotency_key="a")
    with pytest.raises(BadRequestError, match=r"must be higher than 2\.0\.0") as caught:
        rig.client.create_build(build_body(version="1.0.0"), idempotency_key="b")
    assert caught.value.error_code == "invalid_request"
    assert not caught.value.outcome_unknown
    with pytest.raises(BadRequestError, match="url"):
        rig.client.create_build(build_body(url="http://insecure.example"), idempotency_key="c")


def test_unknown_build_is_not_found_and_not_retried(sim: Simulator, rig: Rig) -> None:
    with pytest.raises(NotFoundError, match="No build with id bld_nope"):
        rig.client.get_build("bld_nope")
    assert sim.request_count() == 1


def test_idempotency_key_is_sent_and_honoured(sim: Simulator, rig: Rig) -> None:
    sim.config.honour_idempotency_key = True
    first = rig.client.create_build(build_body(), idempotency_key="run-7:android:1.0.0")
    again = rig.client.create_build(build_body(), idempotency_key="run-7:android:1.0.0")
    assert first.id == again.id
    assert sim.created_count() == 1


def seed(sim: Simulator, count: int) -> list[str]:
    return [
        sim.seed_build(platform="android", bundle_id="com.example.seed", version=f"1.0.{i}",
                       finished_ago=1000.0 - i).id
        for i in range(count)
    ]


@pytest.mark.parametrize("shape", SHAPES)
def test_list_every_shape_across_pages(sim: Simulator, rig: Rig, shape: str) -> None:
    sim.config.list_shape = shape  # type: ignore[assignment]
    sim.config.max_page_size = 3
    ids = seed(sim, 8)
    found = rig.client.list_builds(limit=3, max_items=100)
    if shape in ("array", "items"):  # no cursor in these shapes: one page only
        assert [b.id for b in found] == ids[::-1][:3]
        return
    assert [b.id for b in found] == ids[::-1]
    assert sim.request_count("list_builds") == 3
    assert all("limit=3" in r.query for r in sim.requests("list_builds"))


def test_list_stops_at_max_items(sim: Simulator, rig: Rig) -> None:
    sim.config.max_page_size = 2
    seed(sim, 9)
    assert len(rig.client.list_builds(limit=2, max_items=5)) == 5
    assert sim.request_count("list_builds") == 3


def test_list_retries_a_failing_page(sim: Simulator, rig: Rig) -> None:
    sim.config.max_page_size = 2
    seed(sim, 4)
    sim.faults.add(Fault(endpoint="list_builds", kind="html_error", status=503, after=1))
    assert len(rig.client.list_builds(limit=2)) == 4
    assert len(rig.clock.sleeps) == 1
    assert [r.status for r in sim.requests("list_builds")] == [200, 503, 200]


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []  # noqa: RUF012 - shared on purpose, reset per test
    location = ""

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers.items()))
        self.send_response(302 if self.location else 200)
        if self.location:
            self.send_header("Location", self.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                     daemon=True).start()
    return server


def test_a_redirect_to_another_host_never_gets_the_key(sim: Simulator) -> None:
    class Target(_Recorder):
        seen: list[dict[str, str]] = []  # noqa: RUF012

    class Redirector(_Recorder):
        seen: list[dict[str, str]] = []  # noqa: RUF012

    target = _serve(Target)
    Redirector.location = f"http://localhost:{target.server_address[1]}/v1/builds/b?sig=s3cr3t"
    redirector = _serve(Redirector)
    try:
        rig = make_rig(sim, base_url=f"http://127.0.0.1:{redirector.server_address[1]}/v1")
        with pytest.raises(UnexpectedResponseError) as caught:
            rig.client.get_build("b")
    finally:
        for server in (target, redirector):
            server.shutdown()
            server.server_close()
    assert Target.seen == []
    assert len(Redirector.seen) == 1
    assert Redirector.seen[0]["Authorization"] == f"Bearer {sim.api_key}"
    message = caught.value.message
    assert f"pointing to http://localhost:{target.server_address[1]}/v1/builds/b." in message
    assert "s3cr3t" not in message
