"""The waiter on a virtual clock, against a fake client that plays build timelines."""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from capwrapper_action.api.models import Build, Platform
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
from capwrapper_action.result import PlatformState, RunStatus
from capwrapper_action.wait.polling import PollStrategy, make_strategy
from capwrapper_action.wait.waiting import wait_for_builds
from tests.virtual_clock import VirtualClock

Steps = Sequence[tuple[float, str]]


class FakeClient:
    """Plays one timeline per build id: ``[(at, status), ...]`` in virtual seconds.

    ``faults[build_id]`` holds exceptions raised by the next calls (None: answer normally)."""

    def __init__(self, clock: VirtualClock, timelines: dict[str, Steps]) -> None:
        self.clock = clock
        self.timelines = timelines
        self.created = clock.wall()
        self.faults: dict[str, list[BaseException | None]] = {}
        self.calls: list[tuple[float, str]] = []
        self.deadlines: list[float | None] = []
        self.raw: dict[str, object] = {}

    def get_build(
        self, build_id: str, *, deadline: float | None = None, retry: bool = True
    ) -> Build:
        now = self.clock.now()
        self.calls.append((now, build_id))
        self.deadlines.append(deadline)
        pending = self.faults.get(build_id)
        if pending:
            fault = pending.pop(0)
            if fault is not None:
                raise fault
        status = [s for at, s in self.timelines[build_id] if at <= now][-1]
        final = status in ("success", "failed")
        ends = next(at for at, s in self.timelines[build_id] if s == status)
        return Build(
            id=build_id,
            status=status,
            created_at=self.created,
            completed_at=self.created + timedelta(seconds=ends) if final else None,
            error="Gradle failed\n::error::x" if status == "failed" else None,
            raw={"id": build_id, "status": status, **self.raw},
        )

    def requests(self, build_id: str) -> int:
        return sum(1 for _, b in self.calls if b == build_id)


def wall_at(clock: VirtualClock, seconds: float) -> datetime:
    return clock.wall() + timedelta(seconds=seconds - clock.now())


class RecordingIO(ActionIO):
    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self.clock = clock
        self.lines: list[tuple[float, str]] = []

    def info(self, message: str) -> None:
        self.lines.append((self.clock.now(), message))

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


def setup(
    timelines: dict[Platform, Steps], *, created_ago: float = 0.0
) -> tuple[VirtualClock, FakeClient, dict[Platform, PlatformState], RecordingIO]:
    clock = VirtualClock()
    client = FakeClient(clock, {f"bld_{p}": steps for p, steps in timelines.items()})
    client.created = clock.wall() - timedelta(seconds=created_ago)
    states = {
        p: PlatformState(p, build=Build(id=f"bld_{p}", status="queued", created_at=client.created))
        for p in timelines
    }
    return clock, client, states, RecordingIO(clock)


def wait(
    clock: VirtualClock,
    client: FakeClient,
    states: dict[Platform, PlatformState],
    log: RecordingIO,
    *,
    timeout: float = 3600,
    queue_timeout: float | None = None,
    strategy: PollStrategy | None = None,
    cancel: threading.Event | None = None,
) -> str:
    chosen = strategy or make_strategy(None, [])
    return wait_for_builds(
        client,
        states,
        timeout=timeout,
        queue_timeout=queue_timeout,
        strategies=dict.fromkeys(states, chosen),
        clock=clock,
        cancel=cancel or threading.Event(),
        log=log,
    )


def test_success_records_builds_and_logs_one_line_per_change() -> None:
    clock, client, states, log = setup(
        {"android": [(0, "queued"), (12, "building"), (95, "success")]}
    )
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    state = states["android"]
    assert state.build is not None
    assert state.build.status == "success"
    assert state.started_at == wall_at(clock, 15)  # first seen building
    text = log.text()
    assert "android: queued → building (15s)" in text
    assert "android: building → success (1m 37s)" in text  # finished at 95 s, seen at 97.4 s
    assert "all builds finished after 1m 37s: android success" in text
    assert client.requests("bld_android") > 10
    assert len(log.lines) <= 6  # opening, two changes, a heartbeat, the end: none per check


def test_two_platforms_take_as_long_as_the_slower() -> None:
    clock, client, states, log = setup(
        {
            "android": [(0, "queued"), (5, "building"), (300, "success")],
            "ios": [(0, "queued"), (20, "building"), (600, "success")],
        }
    )
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    assert 600 <= clock.now() <= 660
    assert client.requests("bld_android") < client.requests("bld_ios")
    assert all(s.build is not None and s.build.status == "success" for s in states.values())


def test_one_failure_waits_for_the_other_and_reports_failed() -> None:
    clock, client, states, log = setup(
        {
            "android": [(0, "queued"), (30, "failed")],
            "ios": [(0, "queued"), (200, "success")],
        }
    )
    assert wait(clock, client, states, log) == RunStatus.FAILED
    assert clock.now() >= 200
    line = next(line for _, line in log.lines if "→ failed" in line)
    assert line.startswith("android: queued → failed (30s): Gradle failed")
    assert states["ios"].status == "success"


def test_timeout_checks_once_more_at_the_deadline_then_gives_up() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (10, "building")]})
    assert wait(clock, client, states, log, timeout=300) == RunStatus.TIMED_OUT
    assert clock.now() == pytest.approx(300)
    assert client.calls[-1][0] == pytest.approx(300)
    assert "stopped waiting (timed out) after 5m 00s: android building" in log.text()
    assert "keep running on Capwrapper" in log.text()


def test_a_build_finishing_just_before_the_deadline_is_not_timed_out() -> None:
    clock, client, states, log = setup({"android": [(0, "building"), (298, "success")]})
    assert wait(clock, client, states, log, timeout=300) == RunStatus.SUCCESS
    assert clock.now() == pytest.approx(300)


def test_queue_timeout_names_the_queued_build() -> None:
    clock, client, states, log = setup(
        {"android": [(0, "queued"), (10, "building")], "ios": [(0, "queued")]}
    )
    assert wait(clock, client, states, log, queue_timeout=120) == RunStatus.TIMED_OUT
    assert clock.now() == pytest.approx(120)
    assert "ios: still queued after 2m 00s (queue-timeout)" in log.text()
    assert "android: still queued" not in log.text()


def test_queue_timeout_does_not_apply_once_building() -> None:
    clock, client, states, log = setup(
        {"android": [(0, "queued"), (100, "building"), (400, "success")]}
    )
    assert wait(clock, client, states, log, queue_timeout=120) == RunStatus.SUCCESS


def test_cancel_event_stops_the_wait() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (10, "building")]})
    cancel = threading.Event()
    original = client.get_build

    def get_build(build_id: str, *, deadline: float | None = None, retry: bool = True) -> Build:
        if clock.now() >= 60:
            cancel.set()
        return original(build_id)

    client.get_build = get_build  # type: ignore[method-assign]
    assert wait(clock, client, states, log, cancel=cancel) == RunStatus.CANCELLED
    assert clock.now() == pytest.approx(60.5)
    assert "stopped waiting (cancelled) after 1m 00s: android building" in log.text()


def test_cancelled_error_from_a_request_ends_the_wait_as_cancelled() -> None:
    clock, client, states, log = setup({"android": [(0, "queued")]})
    client.faults["bld_android"] = [None, None, CancelledError("Cancelled by SIGTERM.")]
    assert wait(clock, client, states, log) == RunStatus.CANCELLED
    assert states["android"].status == "queued"


def test_cancel_already_set_sends_no_request() -> None:
    clock, client, states, log = setup({"android": [(0, "queued")]})
    cancel = threading.Event()
    cancel.set()
    assert wait(clock, client, states, log, cancel=cancel) == RunStatus.CANCELLED
    assert client.calls == []


@pytest.mark.parametrize(
    "fault",
    [
        ServerError("HTTP 503 from GET /builds/bld_android", status_code=503),
        NetworkError("Connection reset"),
        RateLimitedError("HTTP 429", status_code=429),
        UnexpectedResponseError("Expected JSON"),
        GarbledResponseError("Expected JSON"),
    ],
)
def test_transient_failures_are_survived(fault: ApiError) -> None:
    clock, client, states, log = setup(
        {"android": [(0, "queued"), (10, "building"), (200, "success")]}
    )
    client.faults["bld_android"] = [None, fault, fault, fault]
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    failures = [line for _, line in log.lines if "status check failed" in line]
    assert len(failures) == 3  # one line per retry
    assert "(backoff up to 1s; " in failures[0]
    assert "(backoff up to 4s; " in failures[2]  # the ceiling doubles
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(client.calls[1:5])]
    assert all(gap <= ceiling for gap, ceiling in zip(gaps, (1, 2, 4), strict=True))


def test_the_status_checks_ride_out_a_long_outage_with_capped_backoff() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (30, "success")]})
    outage = [NetworkError("Connection refused")] * 10_000
    client.faults["bld_android"] = [None, *outage]

    def recover_at(at: float) -> None:
        pending = client.faults["bld_android"]
        real_sleep = clock.sleep

        def sleep(seconds: float, cancel: threading.Event) -> bool:
            stop = real_sleep(seconds, cancel)
            if clock.now() >= at:
                pending.clear()
            return stop

        clock.sleep = sleep  # type: ignore[method-assign]

    recover_at(5 + 600)  # ten minutes without an answer, well within the hour's timeout
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(client.calls)]
    assert max(gaps) <= 30.0  # capped backoff: back within 30 s of the recovery
    assert client.calls[-1][0] <= 5 + 600 + 30


def test_read_after_write_404s_wait_for_a_build_this_run_made() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (60, "success")]})
    states["android"].created = True
    client.faults["bld_android"] = [NotFoundError("HTTP 404", status_code=404)] * 3
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    assert len([ln for _, ln in log.lines if "status check failed" in ln]) == 3


def test_a_404_that_outlasts_the_grace_ends_the_wait() -> None:
    clock, client, states, log = setup({"android": [(0, "queued")]})
    states["android"].adopted = True
    client.faults["bld_android"] = [NotFoundError("HTTP 404", status_code=404)] * 1000
    with pytest.raises(NotFoundError):
        wait(clock, client, states, log)
    assert clock.now() <= 30.0 + 0.001


def test_a_404_for_a_resumed_build_ends_the_wait_at_once() -> None:
    clock, client, states, log = setup({"android": [(0, "queued")]})
    client.faults["bld_android"] = [NotFoundError("HTTP 404", status_code=404)]
    with pytest.raises(NotFoundError):
        wait(clock, client, states, log)
    assert len(client.calls) == 1


def test_a_retry_after_past_the_timeout_fails_at_once_naming_it() -> None:
    clock, client, states, log = setup({"android": [(0, "queued")]})
    client.faults["bld_android"] = [
        RateLimitedError("GET /builds/bld_android answered 429", status_code=429,
                         retry_after=86400)
    ]
    with pytest.raises(RateLimitedError) as caught:
        wait(clock, client, states, log, timeout=1800)
    assert "the server asked to wait 24h 00m (Retry-After)" in caught.value.message
    assert clock.sleeps == [] or max(clock.sleeps) < 60  # no sleep towards the day asked for


def test_retry_after_of_a_rate_limit_is_honoured() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (600, "success")]})
    client.faults["bld_android"] = [RateLimitedError("HTTP 429", status_code=429, retry_after=90)]
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    assert 90 <= client.calls[1][0] - client.calls[0][0] <= 91  # plus a spread of up to 1 s


def test_an_outage_longer_than_the_timeout_ends_as_timed_out() -> None:
    clock, client, states, log = setup({"android": [(0, "queued")]})
    client.faults["bld_android"] = [ServerError(f"HTTP 502 ({i})") for i in range(5000)]
    assert wait(clock, client, states, log, timeout=900) == RunStatus.TIMED_OUT
    assert clock.now() == pytest.approx(900)  # the timeout bounds it, not a count of failures
    assert "the status checks have failed for the last 14m 55s" in log.text()


def test_failure_count_resets_after_a_good_answer() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (2000, "success")]})
    fault: BaseException | None = NetworkError("Connection reset")
    client.faults["bld_android"] = ([fault] * 5 + [None]) * 6
    assert wait(clock, client, states, log) == RunStatus.SUCCESS


@pytest.mark.parametrize(
    "fault",
    [AuthError("HTTP 401"), NotFoundError("HTTP 404"), BadRequestError("HTTP 400")],
)
def test_errors_that_retrying_cannot_fix_end_the_wait(fault: ApiError) -> None:
    clock, client, states, log = setup({"android": [(0, "queued")]})
    client.faults["bld_android"] = [None, fault]
    with pytest.raises(type(fault)):
        wait(clock, client, states, log)
    assert len(client.calls) == 2


def test_unknown_status_is_running_and_logged_once() -> None:
    clock, client, states, log = setup(
        {"android": [(0, "queued"), (10, "paused"), (100, "building"), (150, "success")]}
    )
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    notes = [line for _, line in log.lines if "unknown status 'paused'" in line]
    assert len(notes) == 1
    assert "android: queued → paused" in log.text()


def test_heartbeat_at_most_once_a_minute_while_nothing_changes() -> None:
    clock, client, states, log = setup(
        {
            "android": [(0, "queued"), (10, "building"), (900, "success")],
            "ios": [(0, "queued"), (700, "building"), (1000, "success")],
        }
    )
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    times = [t for t, _ in log.lines]
    assert all(b - a >= 0 for a, b in itertools.pairwise(times))
    beats = [(t, line) for t, line in log.lines if line.startswith("still waiting: ")]
    assert len(beats) >= 10
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(beats)]
    assert min(gaps) >= 60
    assert max(gaps) <= 120
    assert any("android building" in line and "ios queued" in line for _, line in beats)


def test_start_is_inferred_when_building_was_never_seen() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (7, "success")]})
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    assert states["android"].started_at == wall_at(clock, 5)  # last seen queued


def test_start_reported_by_the_server_is_used() -> None:
    clock, client, states, log = setup(
        {"android": [(0, "queued"), (8, "building"), (60, "success")]}
    )
    client.raw = {"startedAt": "2026-01-01T00:00:03Z"}
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    assert states["android"].started_at == datetime.fromisoformat("2026-01-01T00:00:03+00:00")


def test_a_resumed_build_is_polled_by_its_age() -> None:
    history = [570.0 + 6 * i for i in range(11)]
    clock, client, states, log = setup(
        {"android": [(0, "building"), (30, "success")]}, created_ago=560
    )
    result = wait(clock, client, states, log, strategy=make_strategy(None, history))
    assert result == RunStatus.SUCCESS
    assert client.calls[0][0] == pytest.approx(15)  # age 575: the first check of the window
    assert clock.now() == pytest.approx(30)


def test_builds_already_final_need_no_request() -> None:
    clock, client, states, log = setup({"android": [(0, "success")]})
    states["android"].build = Build(id="bld_android", status="success")
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    assert client.calls == []


def test_a_missing_build_is_a_programming_error() -> None:
    clock, client, _, log = setup({"android": [(0, "queued")]})
    with pytest.raises(ValueError, match="no android build"):
        wait(clock, client, {"android": PlatformState("android")}, log)


def test_fixed_interval_is_followed() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (95, "success")]})
    assert wait(clock, client, states, log, strategy=make_strategy(10, [])) == RunStatus.SUCCESS
    assert [round(t) for t, _ in client.calls] == list(range(10, 101, 10))


def test_opening_lines_describe_the_plan() -> None:
    clock, client, states, log = setup(
        {"android": [(0, "queued"), (5, "success")], "ios": [(0, "queued"), (5, "success")]}
    )
    wait(clock, client, states, log, timeout=1800)
    first, second = log.lines[0][1], log.lines[1][1]
    assert first == "waiting up to 30m 00s for android bld_android (queued), ios bld_ios (queued)"
    assert second.startswith("checking the status every 5s at first, then less often")
    assert second.endswith("(no finished build of this app to learn from)")


def test_server_text_in_log_lines_cannot_start_a_workflow_command() -> None:
    clock = VirtualClock()
    client = FakeClient(clock, {"bld_android": [(0, "queued"), (5, "failed")]})
    states: dict[Platform, PlatformState] = {
        "android": PlatformState("android", build=Build(id="bld_android", status="queued"))
    }
    stream = io.StringIO()
    wait_for_builds(
        client,
        states,
        timeout=60,
        queue_timeout=None,
        strategies={"android": make_strategy(5, [])},
        clock=clock,
        cancel=threading.Event(),
        log=ActionIO(stream),
    )
    assert all(not line.lstrip().startswith("::") for line in stream.getvalue().splitlines())


def test_status_checks_never_retry_past_the_timeout() -> None:
    """The client's retries (a rate limit is waited out for minutes) end at the wait's end."""
    clock, client, states, log = setup({"android": [(0, "queued"), (30, "success")]})
    start = clock.now()
    assert wait(clock, client, states, log, timeout=600) == RunStatus.SUCCESS
    assert client.deadlines
    assert set(client.deadlines) == {start + 600}


@pytest.mark.parametrize("status", ["cancelled", "canceled", "expired", "aborted", "error",
                                    "rejected", "timed out", "TIMED_OUT", "timed-out"])
def test_a_status_that_says_the_build_ended_is_a_failure(status: str) -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (20, status.lower())]})
    assert wait(clock, client, states, log) == RunStatus.FAILED
    assert clock.now() < 60  # not waited on until the timeout
    build = states["android"].build
    assert build is not None
    assert build.failed
    assert f"unknown status '{status.lower()}': the build has ended" in log.text()


def test_an_unknown_status_with_completed_at_has_ended() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (20, "done")]})
    client.raw = {"completedAt": "2026-01-01T00:00:20Z"}

    def get_build(build_id: str, *, deadline: float | None = None, retry: bool = True) -> Build:
        now = clock.now()
        client.calls.append((now, build_id))
        status = "done" if now >= 20 else "queued"
        done = client.created + timedelta(seconds=20) if status == "done" else None
        return Build(id=build_id, status=status, completed_at=done)

    client.get_build = get_build  # type: ignore[method-assign]
    assert wait(clock, client, states, log) == RunStatus.FAILED
    assert clock.now() < 60


def test_queue_timeout_measures_only_until_the_build_first_leaves_the_queue() -> None:
    clock, client, states, log = setup(
        {"android": [(0, "queued"), (30, "building"), (60, "queued"), (400, "success")]}
    )
    assert wait(clock, client, states, log, queue_timeout=120) == RunStatus.SUCCESS
    assert "queue-timeout" not in log.text()


def test_an_outage_after_a_read_after_write_404_is_still_ridden_out() -> None:
    clock, client, states, log = setup({"android": [(0, "queued"), (300, "success")]})
    states["android"].created = True
    outage: list[BaseException | None] = [ServerError("HTTP 503", status_code=503)] * 40
    client.faults["bld_android"] = [NotFoundError("HTTP 404", status_code=404), *outage]
    assert wait(clock, client, states, log) == RunStatus.SUCCESS
    assert clock.now() > 60  # the 503s went on well past the 30 s grace of the 404


def test_one_time_format_for_log_and_summary() -> None:
    from capwrapper_action.timeutil import format_duration

    assert [format_duration(s) for s in (0, 0.37, 2.5, 4.02, 9.96, 15, 75, 5400)] == [
        "0s", "0.4s", "2.5s", "4s", "10s", "15s", "1m 15s", "1h 30m",
    ]
