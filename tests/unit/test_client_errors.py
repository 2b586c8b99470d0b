"""The client against canned answers (no sockets): error mapping, headers, what is retried,
what is not, and that the key never shows up in an error or the debug log."""

from __future__ import annotations

import http.client
import io
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from capwrapper_action.api.client import USER_AGENT, CapwrapperClient
from capwrapper_action.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    CancelledError,
    GarbledResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnexpectedResponseError,
)
from capwrapper_action.ghio import ActionIO
from capwrapper_action.retry import RetryPolicy
from tests.virtual_clock import VirtualClock

NO_RETRIES = RetryPolicy(budget_seconds=0.0, throttle_seconds=0.0)
KEY = "sk_live_TOPSECRET_0123456789"
BASE = "https://api.example.test/v1"
BUILD = {"id": "bld_1", "status": "queued", "platform": "android", "version": "1.0.0",
         "bundleId": "com.example.app", "createdAt": "2026-01-01T00:00:00Z"}
HTML_502 = b"<html>\r\n<head><title>502 Bad Gateway</title></head><body>nginx</body></html>"

Answer = tuple[int, bytes, dict[str, str]] | BaseException


@dataclass
class FakeAdapter(BaseAdapter):
    """Answers requests from a script; the last answer repeats."""

    answers: list[Answer]
    sent: list[requests.PreparedRequest] = field(default_factory=list)
    kwargs: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        self.kwargs.append(kwargs)
        answer = self.answers[min(len(self.sent), len(self.answers)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        status, body, headers = answer
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(body)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def js(status: int, payload: Any, **headers: str) -> Answer:
    return status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers}


@dataclass
class Rig:
    client: CapwrapperClient
    adapter: FakeAdapter
    clock: VirtualClock
    out: io.StringIO
    cancel: threading.Event


def rig(*answers: Answer, policy: RetryPolicy | None = None) -> Rig:
    adapter = FakeAdapter(list(answers))
    session = requests.Session()
    session.mount("https://", adapter)
    clock = VirtualClock()
    out = io.StringIO()
    cancel = threading.Event()
    client = CapwrapperClient(
        BASE, KEY, session=session, clock=clock, log=ActionIO(out, debug=True), cancel=cancel,
        retry=policy or RetryPolicy(), rng=random.Random(0), timeout=(3.0, 7.0),
    )
    return Rig(client, adapter, clock, out, cancel)


def no_key_anywhere(error: BaseException, r: Rig) -> None:
    for text in (str(error), repr(error), getattr(error, "message", ""), r.out.getvalue()):
        assert KEY not in text
        assert "Bearer" not in text


# -- the mapping table ---------------------------------------------------------------------
BODIES: dict[str, Callable[[int], Answer]] = {
    "json": lambda s: js(s, {"error": "some_code", "message": "The server's own words."}),
    "html": lambda s: (s, HTML_502, {"Content-Type": "text/html"}),
    "empty": lambda s: (s, b"", {}),
    "garbage": lambda s: (s, b"\x00\xffnot json at all", {"Content-Type": "text/plain"}),
}
STATUSES: dict[int, type[ApiError]] = {
    400: BadRequestError, 401: AuthError, 404: NotFoundError, 429: RateLimitedError,
    500: ServerError, 502: ServerError, 503: ServerError, 504: ServerError, 599: ServerError,
    403: UnexpectedResponseError, 405: UnexpectedResponseError, 409: UnexpectedResponseError,
    418: UnexpectedResponseError, 100: UnexpectedResponseError,
}


@pytest.mark.parametrize("body_kind", sorted(BODIES))
@pytest.mark.parametrize("status", sorted(STATUSES))
def test_error_mapping_table(status: int, body_kind: str) -> None:
    r = rig(BODIES[body_kind](status), policy=NO_RETRIES)
    with pytest.raises(ApiError) as caught:
        r.client.get_build("bld_1")
    error = caught.value
    assert type(error) is STATUSES[status]
    assert error.status_code == status
    assert error.message.startswith(f"GET /builds/bld_1 answered {status}")
    assert error.hint
    assert (error.method, error.path) == ("GET", "/builds/bld_1")
    assert len(error.message) < 450
    expected = {
        "json": "The server's own words. [some_code]",
        "html": "(HTML body from a proxy)",
        "empty": "(empty body)",
        "garbage": "(non-JSON body:",
    }[body_kind]
    assert expected in error.message
    no_key_anywhere(error, r)


def test_a_403_says_the_key_lacks_permission() -> None:
    r = rig(js(403, {"error": "forbidden", "message": "Deploys are not enabled."}))
    with pytest.raises(UnexpectedResponseError) as caught:
        r.client.create_deploy({"buildId": "b"}, idempotency_key="k")
    assert "permissions" in caught.value.hint
    assert not caught.value.outcome_unknown


def test_messages_name_the_proxy_page_shortly() -> None:
    r = rig(BODIES["html"](502), policy=NO_RETRIES)
    with pytest.raises(ServerError) as caught:
        r.client.get_build("bld_1")
    expected = "GET /builds/bld_1 answered 502 Bad Gateway (HTML body from a proxy)"
    assert caught.value.message == expected


def test_long_and_multiline_server_messages_are_cut() -> None:
    r = rig(js(400, {"error": "invalid", "message": "bad\n" + "x" * 10_000}))
    with pytest.raises(BadRequestError) as caught:
        r.client.create_build({"a": 1}, idempotency_key="k")
    assert len(caught.value.message) < 400
    assert "\n" not in caught.value.message
    assert caught.value.message.endswith("… [invalid]")


def test_the_key_echoed_by_the_server_is_scrubbed() -> None:
    r = rig(js(401, {"error": "unauthorized", "message": f"Key {KEY} is not valid."}))
    with pytest.raises(AuthError) as caught:
        r.client.get_build("bld_1")
    assert "Key *** is not valid." in caught.value.message
    assert "api-key" in caught.value.hint
    no_key_anywhere(caught.value, r)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"error": {"code": "nested", "message": "Nested words."}}, "Nested words. [nested]"),
        ({"detail": "Detail words."}, "Detail words."),
        ({"error": "Only a sentence here."}, "Only a sentence here."),
        ({"code": "c1"}, "(JSON body without a message) [c1]"),
        (["a", "list"], "(JSON body without a message)"),
    ],
)
def test_other_json_error_shapes(payload: Any, words: str) -> None:
    r = rig(js(400, payload))
    with pytest.raises(BadRequestError) as caught:
        r.client.get_build("bld_1")
    assert caught.value.message.endswith(words)


# -- network failures ---------------------------------------------------------------------
_NEW_CONNECTION = NewConnectionError(
    None,  # type: ignore[arg-type]
    "Failed to establish a new connection: [Errno 111] Connection refused",
)
REFUSED = requests.ConnectionError(
    MaxRetryError(None, "/v1/builds", _NEW_CONNECTION)  # type: ignore[arg-type]
)
DROPPED = requests.ConnectionError(
    ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed"))
)
RESET = requests.ConnectionError(
    ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
)


@pytest.mark.parametrize(
    ("exc", "words", "unknown"),
    [
        (REFUSED, "could not connect ([Errno 111] Connection refused)", False),
        (requests.ConnectTimeout("x"), "within 3s (connect timeout)", False),
        (DROPPED, "the connection closed before an answer arrived", True),
        (RESET, "the connection was reset", True),
        (requests.ReadTimeout("x"), "no answer within 7s (read timeout)", True),
        (requests.exceptions.ChunkedEncodingError("x"), "the answer was cut off", True),
        (requests.exceptions.ContentDecodingError("x"), "could not be decoded", True),
        (requests.exceptions.InvalidURL("x"), "could not be sent (InvalidURL)", True),
    ],
)
def test_network_errors_say_the_cause_and_whether_the_create_may_have_happened(
    exc: BaseException, words: str, unknown: bool
) -> None:
    r = rig(exc)
    with pytest.raises(NetworkError) as caught:
        r.client.create_build({"platform": "android"}, idempotency_key="k")
    assert words in caught.value.message
    assert caught.value.message.startswith("POST /builds failed: ")
    assert caught.value.outcome_unknown is unknown
    assert len(r.adapter.sent) == 1
    no_key_anywhere(caught.value, r)


# -- what a request carries ---------------------------------------------------------------
def test_headers_timeout_and_no_redirects() -> None:
    r = rig(js(201, BUILD), js(200, BUILD))
    r.client.create_build({"platform": "android"}, idempotency_key="run-1-android-1.0.0")
    r.client.get_build("bld_1")
    post, get = r.adapter.sent
    assert post.headers["Authorization"] == f"Bearer {KEY}"
    assert post.headers["Accept"] == "application/json"
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["Idempotency-Key"] == "run-1-android-1.0.0"
    assert post.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("capwrapper-action/")
    assert "Content-Type" not in get.headers
    assert "Idempotency-Key" not in get.headers
    assert json.loads(post.body or b"") == {"platform": "android"}
    assert all(k["timeout"] == (3.0, 7.0) for k in r.adapter.kwargs)
    assert r.client.request_count == 2
    assert repr(r.client) == "CapwrapperClient('https://api.example.test/v1')"


def test_build_ids_are_quoted_into_the_path() -> None:
    r = rig(js(200, BUILD))
    r.client.get_build("../deploys?x=1")
    assert r.adapter.sent[0].path_url == "/v1/builds/..%2Fdeploys%3Fx%3D1"


def test_a_redirect_is_not_followed_and_says_where_without_the_query() -> None:
    location = "https://elsewhere.test:8443/v2/builds/bld_1?token=abc#frag"
    r = rig((301, b"", {"Location": location}))
    with pytest.raises(UnexpectedResponseError) as caught:
        r.client.get_build("bld_1")
    message = caught.value.message
    assert "pointing to https://elsewhere.test:8443/v2/builds/bld_1." in message
    assert "token" not in message
    assert len(r.adapter.sent) == 1


def test_debug_log_has_method_path_status_and_time_only() -> None:
    r = rig(js(200, BUILD))
    r.client.get_build("bld_1")
    log = r.out.getvalue()
    assert "debug: GET /builds/bld_1 -> 200 in " in log
    assert " ms" in log
    assert "queued" not in log
    no_key_anywhere(Exception(), r)


@pytest.mark.parametrize("status", [200, 201, 202])
def test_any_2xx_is_success_and_a_wrapped_object_is_accepted(status: int) -> None:
    r = rig(js(status, {"data": BUILD}))
    build = r.client.create_build({"platform": "android"}, idempotency_key="k")
    assert build.id == "bld_1"


# -- retries --------------------------------------------------------------------------------
def test_reads_retry_transient_failures_then_succeed() -> None:
    r = rig(BODIES["html"](502), DROPPED, js(503, {"message": "busy"}), js(200, BUILD))
    assert r.client.get_build("bld_1").id == "bld_1"
    assert len(r.adapter.sent) == 4
    assert len(r.clock.sleeps) == 3
    retries = [ln for ln in r.out.getvalue().splitlines() if ln.startswith("Retrying")]
    assert len(retries) == 3
    assert "attempt 2, failing for 0s of up to 6m 00s; it answered 502 Bad Gateway" in retries[0]
    assert "(HTML body" in retries[0]
    assert "backoff up to" in retries[0]


def test_reads_honour_retry_after_on_429_and_503() -> None:
    r = rig(js(429, {"message": "slow down"}, **{"Retry-After": "7"}),
            js(503, {"message": "later"}, **{"Retry-After": "3"}), js(200, BUILD))
    r.client.get_build("bld_1")
    assert 7.0 <= r.clock.sleeps[0] <= 8.0
    assert 3.0 <= r.clock.sleeps[1] <= 4.0
    assert "Retry-After 7s" in r.out.getvalue()


def test_garbled_2xx_is_retried_but_a_wrong_shape_is_not() -> None:
    r = rig((200, b"<html>maintenance</html>", {}), js(200, BUILD))
    assert r.client.get_build("bld_1").id == "bld_1"
    r = rig(js(200, {"status": "queued"}), js(200, BUILD))
    with pytest.raises(UnexpectedResponseError) as caught:
        r.client.get_build("bld_1")
    assert not isinstance(caught.value, GarbledResponseError)
    assert caught.value.message == "GET /builds/bld_1: The build in the answer has no 'id'."
    assert len(r.adapter.sent) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_never_retried(status: int) -> None:
    r = rig(js(status, {"message": "no"}), js(200, BUILD))
    with pytest.raises(ApiError):
        r.client.get_build("bld_1")
    assert len(r.adapter.sent) == 1
    assert r.clock.sleeps == []


def test_the_budget_gives_up_and_says_how_hard_it_tried() -> None:
    r = rig(js(500, {"message": "down"}), policy=RetryPolicy(budget_seconds=60, base_delay=1))
    with pytest.raises(ServerError) as caught:
        r.client.get_build("bld_1")
    assert r.clock.now() == pytest.approx(60.0)  # bounded by time, not by a count
    assert f"(gave up after {len(r.adapter.sent)} attempts in 1m 00s)" in caught.value.message


def test_a_retry_after_over_the_budget_ends_the_retries() -> None:
    policy = RetryPolicy(throttle_seconds=30)
    r = rig(js(429, {"message": "x"}, **{"Retry-After": "60"}), js(200, BUILD), policy=policy)
    with pytest.raises(RateLimitedError) as caught:
        r.client.get_build("bld_1")
    assert caught.value.retry_after == 60.0
    assert len(r.adapter.sent) == 1
    assert "the server asked to wait 1m 00s (Retry-After), longer than the 30s" in str(
        caught.value
    )
    assert r.clock.sleeps == []  # no sleep past the point of giving up


@pytest.mark.parametrize("answer", [js(500, {}), js(429, {}), DROPPED, REFUSED])
def test_creates_are_sent_once(answer: Answer) -> None:
    r = rig(answer, js(201, BUILD))
    with pytest.raises(ApiError):
        r.client.create_build({"platform": "ios"}, idempotency_key="k")
    assert len(r.adapter.sent) == 1
    r = rig(answer, js(201, {"id": "dep_1"}))
    with pytest.raises(ApiError):
        r.client.create_deploy({"buildId": "bld_1"}, idempotency_key="k")
    assert len(r.adapter.sent) == 1
    assert r.clock.sleeps == []


@pytest.mark.parametrize(
    ("answer", "unknown"),
    [(js(500, {}), True), (BODIES["html"](504), False), (js(502, {}), False),
     (js(503, {}), False), (js(599, {}), True), ((201, b"<html/>", {}), True),
     (js(201, {"status": "queued"}), True), (js(400, {}), False), (js(401, {}), False),
     (js(404, {}), False), (js(429, {}), False), ((302, b"", {"Location": "/x"}), False)],
)
def test_create_errors_say_whether_the_outcome_is_unknown(answer: Answer, unknown: bool) -> None:
    r = rig(answer)
    with pytest.raises(ApiError) as caught:
        r.client.create_deploy({"buildId": "bld_1"}, idempotency_key="k")
    assert caught.value.outcome_unknown is unknown


def test_cancel_stops_a_retry_wait_at_once() -> None:
    r = rig(js(503, {}), js(200, BUILD))

    def cancelling_sleep(seconds: float, cancel: threading.Event) -> bool:
        cancel.set()
        return True

    r.clock.sleep = cancelling_sleep  # type: ignore[method-assign]
    with pytest.raises(CancelledError, match="retry GET /builds/bld_1"):
        r.client.get_build("bld_1")
    assert len(r.adapter.sent) == 1
    with pytest.raises(CancelledError, match="before GET"):
        r.client.get_build("bld_1")
    assert len(r.adapter.sent) == 1


def test_an_answer_too_large_is_refused() -> None:
    r = rig((200, b" " * (8 * 1024 * 1024 + 10), {}), policy=NO_RETRIES)
    with pytest.raises(GarbledResponseError, match="larger than 8 MiB"):
        r.client.get_build("bld_1")


# -- lists ----------------------------------------------------------------------------------
def builds(*ids: str) -> list[dict[str, Any]]:
    return [{**BUILD, "id": i} for i in ids]


def test_list_follows_cursors_and_stops_at_max_items() -> None:
    r = rig(js(200, {"data": builds("a", "b"), "nextCursor": "c1"}),
            js(200, {"builds": builds("c", "d"), "next": "c2", "hasMore": True}),
            js(200, {"items": builds("e", "f"), "cursor": "c3"}))
    found = r.client.list_builds(limit=2, max_items=5)
    assert [b.id for b in found] == ["a", "b", "c", "d", "e"]
    urls = [req.url or "" for req in r.adapter.sent]
    assert urls[0].endswith("/builds?limit=2")
    assert urls[1].endswith("/builds?limit=2&cursor=c1")
    assert urls[2].endswith("/builds?limit=2&cursor=c2")


def test_list_stops_on_has_more_false_a_repeated_cursor_or_an_empty_page() -> None:
    r = rig(js(200, {"data": builds("a"), "nextCursor": "c1", "hasMore": False}))
    assert len(r.client.list_builds()) == 1
    r = rig(js(200, {"data": builds("a"), "nextCursor": "same"}))
    assert len(r.client.list_builds()) == 2  # the second page repeats the cursor
    assert len(r.adapter.sent) == 2
    r = rig(js(200, {"data": builds("a"), "nextCursor": "c"}), js(200, {"data": [], "next": "d"}))
    assert len(r.client.list_builds()) == 1


def test_list_follows_a_same_host_next_link_but_not_another_host() -> None:
    r = rig(js(200, {"data": builds("a"), "next": f"{BASE}/builds?cursor=zz&limit=1"}),
            js(200, {"data": builds("b"), "next": "https://evil.test/v1/builds?cursor=x"}))
    assert [b.id for b in r.client.list_builds(limit=1)] == ["a", "b"]
    assert (r.adapter.sent[1].url or "").endswith("/builds?limit=1&cursor=zz")
    assert len(r.adapter.sent) == 2


def test_list_pages_are_retried() -> None:
    r = rig(js(200, {"data": builds("a"), "nextCursor": "c1"}), js(503, {}),
            js(200, builds("b")))
    assert [b.id for b in r.client.list_builds()] == ["a", "b"]
    assert len(r.clock.sleeps) == 1

