"""The Capwrapper API simulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import email.utils
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from capwrapper_simulator import (
    Fault,
    ManualClock,
    PlatformConfig,
    SimConfig,
    Simulator,
    key_fingerprint,
    main,
    semver_key,
)

KEY = "sim-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
START = 1_735_689_600.0  # 2025-01-01T00:00:00Z
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "url": "https://shop.example.com",
        "appName": "Shop",
        "bundleId": "com.example.shop",
        "version": "1.0.0",
        "platform": "android",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


class Api:
    """A tiny client over a running simulator."""

    def __init__(self, sim: Simulator, key: str = KEY) -> None:
        self.sim = sim
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {key}"

    def create(self, **changes: Any) -> requests.Response:
        return self.http.post(f"{self.sim.base_url}/builds", json=body(**changes), timeout=5)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(f"{self.sim.base_url}{path}", timeout=5, **kwargs)

    def deploy(self, payload: dict[str, Any]) -> requests.Response:
        return self.http.post(f"{self.sim.base_url}/deploys", json=payload, timeout=5)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=START)


@pytest.fixture
def config() -> SimConfig:
    return SimConfig(queue_seconds=5, build_seconds=20)


@pytest.fixture
def sim(config: SimConfig, clock: ManualClock) -> Iterator[Simulator]:
    with Simulator(config, clock=clock) as running:
        yield running


@pytest.fixture
def api(sim: Simulator) -> Api:
    return Api(sim)


def finished_build(api: Api, clock: ManualClock, **changes: Any) -> dict[str, Any]:
    build_id = api.create(**changes).json()["id"]
    clock.advance(1000)
    return dict(api.get(f"/builds/{build_id}").json())


# -- auth ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {KEY}"}]
)
def test_rejects_missing_or_wrong_keys(sim: Simulator, headers: dict[str, str]) -> None:
    answer = requests.get(f"{sim.base_url}/builds", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"error": "unauthorized", "message": "Invalid or missing API key."}


def test_accepts_any_configured_key(clock: ManualClock) -> None:
    with Simulator(SimConfig(api_keys=frozenset({"a", "b"})), clock=clock) as sim:
        assert Api(sim, "b").get("/builds").status_code == 200
        assert Api(sim, KEY).get("/builds").status_code == 401


def test_request_log_keeps_a_fingerprint_not_the_key(sim: Simulator, api: Api) -> None:
    api.get("/builds")
    requests.get(f"{sim.base_url}/builds", timeout=5)
    logged, anonymous = sim.requests()
    assert logged.key_fingerprint == key_fingerprint(KEY) != KEY
    assert (logged.endpoint, logged.status, anonymous.status) == ("list_builds", 200, 401)
    assert anonymous.key_fingerprint is None
    assert KEY not in repr(sim.requests())


def test_unknown_paths_and_methods(api: Api) -> None:
    assert api.get("/nothing").json()["error"] == "not_found"
    answer = api.http.delete(f"{api.sim.base_url}/builds", timeout=5)
    assert answer.status_code == 405
    assert "GET" in answer.headers["Allow"]


# -- create validation -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": None}, "url"),
        ({"url": "http://shop.example.com"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": 42}, "url"),
        ({"appName": ""}, "appName"),
        ({"appName": None}, "appName"),
        ({"appName": ["Shop"]}, "appName"),
        ({"bundleId": "shop"}, "bundleId"),
        ({"bundleId": "com..shop"}, "bundleId"),
        ({"bundleId": "1com.shop"}, "bundleId"),
        ({"version": "1.2"}, "version"),
        ({"version": "v1.2.0"}, "version"),
        ({"version": "01.2.0"}, "version"),
        ({"version": None}, "version"),
        ({"platform": "windows"}, "platform"),
        ({"platform": None}, "platform"),
        ({"permissions": "camera"}, "permissions"),
        ({"permissions": ["camera", 3]}, "permissions"),
    ],
)
def test_create_validation_names_the_field(
    sim: Simulator, api: Api, changes: dict[str, Any], field: str
) -> None:
    answer = api.create(**changes)
    assert answer.status_code == 400
    error = answer.json()
    assert error["error"] == "invalid_request"
    assert error["message"].startswith(field)
    assert sim.created_count() == 0


@pytest.mark.parametrize(
    ("data", "content_type", "words"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "JSON object"),
        (b'{"url": "https://a.example.com"}', "text/plain", "Content-Type"),
    ],
)
def test_create_rejects_bad_bodies(api: Api, data: bytes, content_type: str, words: str) -> None:
    headers = {"Content-Type": content_type}
    answer = api.http.post(f"{api.sim.base_url}/builds", data=data, headers=headers, timeout=5)
    assert answer.status_code == 400
    assert words in answer.json()["message"]


def test_create_echoes_fields_and_adds_extras(api: Api) -> None:
    answer = api.create(version="2.0.0-rc.1+build.7", permissions=["camera"], orientation="any")
    assert answer.status_code == 201
    build = answer.json()
    assert re.fullmatch(r"bld_[a-z0-9]{12}", build["id"])
    assert build["status"] == "queued"
    assert (build["version"], build["permissions"], build["orientation"]) == (
        "2.0.0-rc.1+build.7",
        ["camera"],
        "any",
    )
    assert build["region"] == "eu"
    assert ISO_MS_Z.match(build["createdAt"])
    assert "completedAt" not in build
    assert "downloadUrl" not in build


def test_create_status_can_be_200(clock: ManualClock) -> None:
    with Simulator(SimConfig(create_status=200), clock=clock) as sim:
        assert Api(sim).create().status_code == 200


# -- version must be higher ------------------------------------------------------------------
def test_version_must_be_higher_per_bundle_and_platform(api: Api) -> None:
    assert api.create(version="1.2.0").status_code == 201
    same = api.create(version="1.2.0")
    assert same.status_code == 400
    assert same.json()["message"] == (
        "version 1.2.0 must be higher than 1.2.0, the latest version of com.example.shop on android"
    )
    assert api.create(version="1.1.9").status_code == 400
    assert api.create(version="1.2.0-rc.1").status_code == 400
    assert api.create(version="1.2.0+other").status_code == 400
    assert api.create(version="1.2.0", platform="ios").status_code == 201
    assert api.create(version="1.2.0", bundleId="com.example.other").status_code == 201
    assert api.create(version="1.10.0").status_code == 201


def test_prerelease_then_release_is_higher(api: Api) -> None:
    assert api.create(version="1.0.0-rc.1").status_code == 201
    assert api.create(version="1.0.0-rc.2").status_code == 201
    assert api.create(version="1.0.0").status_code == 201


def test_seeded_history_counts_for_the_version_rule(sim: Simulator, api: Api) -> None:
    sim.seed_build(platform="android", bundle_id="com.example.shop", version="3.1.4")
    assert "3.1.4" in api.create(version="3.1.0").json()["message"]
    assert api.create(version="3.1.5").status_code == 201


def test_semver_precedence_follows_the_spec() -> None:
    chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "2.0.0",
    ]
    keys = [semver_key(v) for v in chain]
    assert all(k is not None for k in keys)
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert len(set(keys)) == len(keys)
    assert semver_key("1.0.0+a") == semver_key("1.0.0+b")


# -- status progression ----------------------------------------------------------------------
def test_status_follows_the_clock(sim: Simulator, api: Api, clock: ManualClock) -> None:
    build_id = api.create().json()["id"]

    def read() -> dict[str, Any]:
        return dict(api.get(f"/builds/{build_id}").json())

    assert read()["status"] == "queued"
    clock.advance(4.9)
    assert read()["status"] == "queued"
    clock.advance(0.2)
    assert read()["status"] == "building"
    clock.advance(19.7)
    assert "completedAt" not in read()
    clock.advance(0.2)
    done = read()
    assert done["status"] == "success"
    assert ISO_MS_Z.match(done["completedAt"])
    assert done["completedAt"] == "2025-01-01T00:00:25.000Z"
    assert done["downloadUrl"].startswith(f"{sim.base_url}/artifacts/{build_id}.apk?")
    assert "error" not in done


def test_create_always_answers_queued(clock: ManualClock) -> None:
    with Simulator(SimConfig(queue_seconds=0, build_seconds=0), clock=clock) as sim:
        api = Api(sim)
        created = api.create().json()
        assert created["status"] == "queued"
        assert api.get(f"/builds/{created['id']}").json()["status"] == "success"


def test_per_platform_outcomes_and_timings(clock: ManualClock) -> None:
    ios = PlatformConfig(outcome="failed", failure_message="Signing failed", build_seconds=100)
    config = SimConfig(queue_seconds=1, build_seconds=10, platforms={"ios": ios})
    with Simulator(config, clock=clock) as sim:
        api = Api(sim)
        android = api.create(platform="android").json()["id"]
        apple = api.create(platform="ios").json()["id"]
        clock.advance(50)
        assert api.get(f"/builds/{android}").json()["status"] == "success"
        assert api.get(f"/builds/{apple}").json()["status"] == "building"
        clock.advance(60)
        failed = api.get(f"/builds/{apple}").json()
        assert (failed["status"], failed["error"]) == ("failed", "Signing failed")
        assert "downloadUrl" not in failed
        assert "completedAt" in failed
        assert sim.created_count("ios") == sim.created_count("android") == 1


def test_unknown_final_status_and_timestamp_styles(clock: ManualClock) -> None:
    config = SimConfig(outcome="cancelled", timestamp_style="micros-offset")
    with Simulator(config, clock=clock) as sim:
        build = finished_build(Api(sim), clock)
        assert build["status"] == "cancelled"
        assert build["createdAt"].endswith(".000000+00:00")
        assert "downloadUrl" not in build
        assert "error" not in build


def test_seeded_builds(sim: Simulator, api: Api, clock: ManualClock) -> None:
    seeded = sim.seed_build(
        platform="ios",
        bundle_id="com.example.shop",
        version="0.9.0",
        duration=90,
        finished_ago=60,
        status="failed",
        error="No icon",
    )
    build = api.get(f"/builds/{seeded.id}").json()
    assert (build["status"], build["error"], build["version"]) == ("failed", "No icon", "0.9.0")
    assert build["createdAt"] == "2024-12-31T23:57:30.000Z"
    assert build["completedAt"] == "2024-12-31T23:59:00.000Z"
    assert sim.builds()[0].seeded
    assert sim.created_count() == 0


# -- list ------------------------------------------------------------------------------------
def _make_builds(api: Api, clock: ManualClock, count: int) -> list[str]:
    ids = []
    for minor in range(count):
        ids.append(api.create(version=f"1.{minor}.0").json()["id"])
        clock.advance(1)
    return ids


def test_list_is_newest_first_with_cursor_pages(api: Api, clock: ManualClock) -> None:
    ids = _make_builds(api, clock, 5)
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/builds", params=params).json()
        seen += [b["id"] for b in page["data"]]
        cursor = page["nextCursor"]
    assert seen == ids[::-1]
    assert cursor is None


@pytest.mark.parametrize(
    ("shape", "items_of"),
    [
        ("data", lambda page: page["data"]),
        ("array", lambda page: page),
        ("builds", lambda page: page["builds"]),
        ("items", lambda page: page["items"]),
        ("cursor", lambda page: page["data"]),
    ],
)
def test_list_shapes(clock: ManualClock, shape: Any, items_of: Any) -> None:
    with Simulator(SimConfig(list_shape=shape), clock=clock) as sim:
        api = Api(sim)
        ids = _make_builds(api, clock, 3)
        page = api.get("/builds", params={"limit": 2}).json()
        assert [b["id"] for b in items_of(page)] == ids[:0:-1]
        if shape == "builds":
            assert page["hasMore"] is True
            rest = api.get("/builds", params={"limit": 2, "cursor": page["next"]}).json()
            assert [b["id"] for b in rest["builds"]] == ids[:1]
            assert (rest["hasMore"], rest["next"]) == (False, None)
        if shape == "cursor":
            assert page["cursor"]
            assert page["hasMore"] is True


def test_list_limits(api: Api, clock: ManualClock) -> None:
    _make_builds(api, clock, 3)
    assert len(api.get("/builds", params={"limit": 1000}).json()["data"]) == 3
    for bad in ("0", "-1", "ten"):
        answer = api.get("/builds", params={"limit": bad})
        assert answer.status_code == 400
        assert answer.json()["message"].startswith("limit")
    assert api.get("/builds", params={"cursor": "bogus"}).status_code == 400


def test_list_default_page_size(api: Api, sim: Simulator) -> None:
    for minor in range(25):
        sim.seed_build(platform="android", bundle_id="com.example.a", version=f"1.{minor}.0")
    page = api.get("/builds").json()
    assert len(page["data"]) == 20
    assert page["nextCursor"]


# -- rate limit ------------------------------------------------------------------------------
def test_rate_limit_per_key_with_retry_after_seconds(clock: ManualClock) -> None:
    config = SimConfig(rate_limit=(2, 10.0), api_keys=frozenset({KEY, "other"}))
    with Simulator(config, clock=clock) as sim:
        api = Api(sim)
        assert [api.get("/builds").status_code for _ in range(2)] == [200, 200]
        clock.advance(3)
        limited = api.get("/builds")
        assert limited.status_code == 429
        assert limited.json()["error"] == "rate_limited"
        assert limited.headers["Retry-After"] == "7"
        assert Api(sim, "other").get("/builds").status_code == 200
        clock.advance(7)
        assert api.get("/builds").status_code == 200


@pytest.mark.parametrize("style", ["http-date", "none"])
def test_rate_limit_retry_after_styles(clock: ManualClock, style: Any) -> None:
    with Simulator(SimConfig(rate_limit=(1, 60.0), retry_after=style), clock=clock) as sim:
        api = Api(sim)
        api.get("/builds")
        limited = api.get("/builds")
        assert limited.status_code == 429
        if style == "none":
            assert "Retry-After" not in limited.headers
        else:
            assert email.utils.parsedate_to_datetime(limited.headers["Retry-After"])


# -- faults ----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_error_fault_answers_json_without_acting(
    sim: Simulator, api: Api, status: int
) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="http_error", status=status))
    answer = api.create()
    assert answer.status_code == status
    assert set(answer.json()) == {"error", "message"}
    assert sim.created_count() == 0
    assert api.create().status_code == 201


def test_html_error_fault(sim: Simulator, api: Api) -> None:
    sim.faults.add(Fault(endpoint="get_build", kind="html_error", status=504, times=2))
    for _ in range(2):
        answer = api.get("/builds/bld_whatever")
        assert answer.status_code == 504
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "<html>" in answer.text
    assert api.get("/builds/bld_whatever").status_code == 404


def test_fault_after_and_any_endpoint(sim: Simulator, api: Api) -> None:
    rule = sim.faults.add(Fault(endpoint="*", kind="http_error", status=503, after=2, times=None))
    assert [api.get("/builds").status_code for _ in range(4)] == [200, 200, 503, 503]
    assert api.create().status_code == 503
    assert (rule.seen, rule.fired) == (5, 3)
    assert sim.requests()[-1].fault == "http_error"


def test_slow_fault_delays_the_answer(sim: Simulator, api: Api) -> None:
    sim.faults.add(Fault(endpoint="list_builds", kind="slow", seconds=2.0))
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.http.get(f"{sim.base_url}/builds", timeout=0.2)
    assert api.get("/builds").status_code == 200


def test_drop_before_action_creates_nothing(sim: Simulator, api: Api) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="drop_before_action"))
    with pytest.raises(requests.exceptions.ConnectionError):
        api.create()
    assert sim.created_count() == 0
    assert sim.requests()[-1].status is None


def test_drop_after_action_creates_the_build(sim: Simulator, api: Api) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="drop_after_action"))
    with pytest.raises(requests.exceptions.ConnectionError):
        api.create()
    assert sim.created_count() == 1
    # A blind retry now hits the version rule: the first try did create the build.
    assert api.create().status_code == 400
    listed = api.get("/builds").json()["data"]
    assert [b["id"] for b in listed] == [sim.builds()[0].id]


def test_non_json_fault(sim: Simulator, api: Api) -> None:
    sim.faults.add(Fault(endpoint="get_build", kind="non_json"))
    answer = api.get("/builds/bld_x")
    assert answer.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        answer.json()


@pytest.mark.parametrize("style", ["seconds", "http-date", "none"])
def test_rate_limited_fault(sim: Simulator, api: Api, style: str) -> None:
    sim.faults.add(
        Fault(endpoint="create_deploy", kind="rate_limited", seconds=3, retry_after=style)
    )
    answer = api.deploy({"buildId": "bld_x"})
    assert answer.status_code == 429
    assert answer.json()["error"] == "rate_limited"
    expected = {"seconds": "3", "none": None}.get(style, answer.headers.get("Retry-After"))
    assert answer.headers.get("Retry-After") == expected
    if style == "http-date":
        assert email.utils.parsedate_to_datetime(answer.headers["Retry-After"])


def test_truncated_download(sim: Simulator, api: Api, clock: ManualClock) -> None:
    url = finished_build(api, clock)["downloadUrl"]
    sim.faults.add(Fault(endpoint="download", kind="truncate"))
    with requests.get(url, stream=True, timeout=5) as answer:
        assert answer.headers["Content-Length"] == str(64 * 1024)
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            b"".join(answer.iter_content(4096))
    build_id = url.split("/")[-1].split(".")[0]
    assert requests.get(url, timeout=5).content == sim.artifact_bytes(build_id)


def test_fault_rules_validate() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        Fault(endpoint="nope", kind="slow")
    with pytest.raises(ValueError, match="kind"):
        Fault(endpoint="download", kind="explode")


# -- idempotency -----------------------------------------------------------------------------
def test_idempotency_key_ignored_by_default(sim: Simulator, api: Api) -> None:
    headers = {"Idempotency-Key": "k1"}
    url = f"{sim.base_url}/builds"
    first = api.http.post(url, json=body(), headers=headers, timeout=5)
    second = api.http.post(url, json=body(), headers=headers, timeout=5)
    assert (first.status_code, second.status_code) == (201, 400)


def test_idempotency_key_honoured(clock: ManualClock) -> None:
    with Simulator(SimConfig(honour_idempotency_key=True), clock=clock) as sim:
        api = Api(sim)
        url = f"{sim.base_url}/builds"
        sim.faults.add(Fault(endpoint="create_build", kind="drop_after_action"))
        with pytest.raises(requests.exceptions.ConnectionError):
            api.http.post(url, json=body(), headers={"Idempotency-Key": "k1"}, timeout=5)
        again = api.http.post(url, json=body(), headers={"Idempotency-Key": "k1"}, timeout=5)
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == sim.builds()[0].id
        other = api.http.post(
            url, json=body(version="1.0.1"), headers={"Idempotency-Key": "k2"}, timeout=5
        )
        assert other.json()["id"] != again.json()["id"]
        assert sim.created_count() == 2


# -- deploys ---------------------------------------------------------------------------------
def test_deploy_rules(sim: Simulator, api: Api, clock: ManualClock) -> None:
    assert api.deploy({}).json()["message"].startswith("buildId")
    assert api.deploy({"buildId": "bld_missing"}).status_code == 404
    pending = api.create().json()["id"]
    early = api.deploy({"buildId": pending})
    assert early.status_code == 400
    assert "queued" in early.json()["message"]
    clock.advance(100)
    answer = api.deploy({"buildId": pending, "track": "beta", "rollout": 0.1})
    assert answer.status_code == 201
    deploy = answer.json()
    assert re.fullmatch(r"dep_[a-z0-9]{12}", deploy["id"])
    assert (deploy["buildId"], deploy["status"], deploy["track"]) == (pending, "queued", "beta")
    assert ISO_MS_Z.match(deploy["createdAt"])
    assert [d.id for d in sim.deploys()] == [deploy["id"]]
    assert sim.deploys()[0].fields == {"track": "beta", "rollout": 0.1}


def test_deploy_of_failed_build_refused(clock: ManualClock) -> None:
    with Simulator(SimConfig(outcome="failed", deploy_status="pending"), clock=clock) as sim:
        api = Api(sim)
        build = finished_build(api, clock)
        assert api.deploy({"buildId": build["id"]}).status_code == 400


# -- downloads -------------------------------------------------------------------------------
def test_download_streams_the_binary(sim: Simulator, api: Api, clock: ManualClock) -> None:
    build = finished_build(api, clock, platform="ios")
    assert "/artifacts/" in build["downloadUrl"]
    assert build["downloadUrl"].split("?")[0].endswith(".ipa")
    with requests.get(build["downloadUrl"], stream=True, timeout=5) as answer:
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "application/octet-stream"
        data = b"".join(answer.iter_content(1000))
    assert data == sim.artifact_bytes(build["id"])
    assert len(data) == 64 * 1024


def test_download_signature_checks(sim: Simulator, api: Api, clock: ManualClock) -> None:
    url = finished_build(api, clock)["downloadUrl"]
    base, query = url.split("?")
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert requests.get(tampered, timeout=5).status_code == 403
    assert requests.get(base, timeout=5).status_code == 403
    assert requests.get(base.replace(".apk", ".ipa") + "?" + query, timeout=5).status_code == 403
    clock.advance(3601)
    expired = requests.get(url, timeout=5)
    assert expired.status_code == 403
    assert expired.json()["error"] == "forbidden"


def test_download_url_follows_the_host_the_client_used(api: Api, clock: ManualClock) -> None:
    build_id = api.create().json()["id"]
    clock.advance(100)
    host = f"localhost:{api.sim.port}"
    build = api.get(f"/builds/{build_id}", headers={"Host": host}).json()
    assert build["downloadUrl"].startswith(f"http://{host}/v1/artifacts/")
    assert requests.get(build["downloadUrl"], timeout=5).status_code == 200


def test_artifact_size_is_configurable(clock: ManualClock) -> None:
    with Simulator(SimConfig(artifact_size=10), clock=clock) as sim:
        build = finished_build(Api(sim), clock)
        content = requests.get(build["downloadUrl"], timeout=5).content
        assert content == sim.artifact_bytes(build["id"])
        assert len(content) == 10


# -- lifecycle, concurrency, command line ----------------------------------------------------
def test_concurrent_creates_of_one_version_make_one_build(sim: Simulator) -> None:
    codes: list[int] = []

    def create() -> None:
        codes.append(Api(sim).create().status_code)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201] + [400] * 7
    assert sim.created_count("android") == 1
    assert sim.request_count("create_build", status=400) == 7


def test_stop_closes_kept_alive_connections(clock: ManualClock) -> None:
    sim = Simulator(SimConfig(), clock=clock).start()
    api = Api(sim)
    assert api.get("/builds").status_code == 200
    sim.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("/builds")
    sim.stop()  # stopping twice is harmless


def test_command_line_serves_until_sigterm() -> None:
    command = [
        sys.executable,
        "-m",
        "capwrapper_simulator",
        "--port",
        "0",
        "--key",
        "k1",
        "--build-seconds",
        "0",
        "--queue-seconds",
        "0",
        "--fail",
        "ios",
        "--seed",
        "android:com.example.shop:1.4.0",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        base_url = process.stdout.readline().split()[-1]
        assert process.stdout.readline().strip() == "API key: k1"
        headers = {"Authorization": "Bearer k1"}
        page = requests.get(f"{base_url}/builds", headers=headers, timeout=5).json()
        assert page["data"][0]["version"] == "1.4.0"
        created = requests.post(
            f"{base_url}/builds", headers=headers, timeout=5, json=body(platform="ios")
        ).json()
        got = requests.get(f"{base_url}/builds/{created['id']}", headers=headers, timeout=5)
        assert got.json()["status"] == "failed"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    "argv", [["--seed", "foo"], ["--rate-limit", "x/y"], ["--fault", "get_build:boom"]]
)
def test_command_line_rejects_bad_settings(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--port", "0", *argv])
    assert stopped.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_link_shape_pages_by_header(clock: ManualClock) -> None:
    with Simulator(SimConfig(list_shape="link"), clock=clock) as sim:
        for n in range(3):
            sim.seed_build(platform="android", bundle_id=f"com.example.app{n}", version="1.0.0")
        api = Api(sim)
        first = api.get("/builds", params={"limit": "2"})
        assert len(first.json()) == 2
        link = first.headers["Link"]
        assert link.startswith(f"<{sim.base_url}/builds?limit=2&cursor=")
        assert 'rel="next"' in link
        second = requests.get(link[1:link.index(">")], headers=AUTH, timeout=5)
        assert len(second.json()) == 1
        assert "Link" not in second.headers


def test_version_taken_fault_makes_the_create_lose_a_race(sim: Simulator) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="version_taken",
                         body='{"appName": "Another run"}'))
    api = Api(sim)
    refused = api.create(version="1.2.0")
    assert refused.status_code == 400
    assert "must be higher than 1.2.0" in refused.json()["message"]
    (taker,) = sim.builds()
    assert (taker.record.version, taker.record.fields["appName"]) == ("1.2.0", "Another run")
    assert api.create(version="1.2.1").status_code == 201
