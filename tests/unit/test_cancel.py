"""Cancellation with real signals sent to the test process; handlers are restored after each
test. These check behaviour (which exception, whether the event is set), not speed."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from capwrapper_action.api.models import Build, Platform
from capwrapper_action.cancel import RAISE_AGAIN_AFTER, Cancellation
from capwrapper_action.errors import CancelledError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.result import PlatformState, RunStatus
from capwrapper_action.timeutil import RealClock
from capwrapper_action.wait.polling import make_strategy
from capwrapper_action.wait.waiting import wait_for_builds

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="POSIX signals")

WAIT = 5.0  # generous upper bound for the watcher thread; never reached when things work


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def cancellation(stream: io.StringIO, fake_time: FakeTime) -> Iterator[Cancellation]:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    c = Cancellation(ActionIO(stream), monotonic=fake_time)
    assert c.install()
    try:
        yield c
    finally:
        c.restore()
        assert {s: signal.getsignal(s) for s in before} == before


def send_later(signum: int, delay: float = 0.2) -> threading.Timer:
    timer = threading.Timer(delay, os.kill, args=(os.getpid(), signum))
    timer.start()
    return timer


def signal_and_wait(signum: int) -> None:
    """Send ``signum`` to this process and block; the handler is expected to interrupt."""
    os.kill(os.getpid(), signum)
    threading.Event().wait(WAIT)


def shielded(c: Cancellation) -> bool:
    return c.shielded


def wait_for_line(stream: io.StringIO, text: str) -> str:
    event = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if text in stream.getvalue():
            break
        event.wait(0.01)
    return stream.getvalue()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_raises_cancelled_and_sets_the_event(
    cancellation: Cancellation, stream: io.StringIO, signum: signal.Signals
) -> None:
    with pytest.raises(CancelledError) as caught:
        signal_and_wait(signum)
    assert caught.value.message == f"Cancelled by {signum.name}."
    assert "keep running on Capwrapper" in caught.value.hint
    assert cancellation.requested
    assert cancellation.signals == [signum.name]
    assert cancellation.event.wait(WAIT)
    text = wait_for_line(stream, "cancel requested")
    assert f"cancel requested ({signum.name}): stopping" in text


def test_a_blocked_socket_read_stops_at_once(cancellation: Cancellation) -> None:
    left, right = socket.socketpair()
    left.settimeout(30)
    timer = send_later(signal.SIGTERM)
    try:
        # Were the read resumed after the handler (PEP 475), this would end in TimeoutError.
        with pytest.raises(CancelledError):
            left.recv(1)
    finally:
        timer.cancel()
        left.close()
        right.close()


def test_a_blocked_http_read_stops_at_once(cancellation: Cancellation) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/builds/bld_1"
    timer = send_later(signal.SIGINT)
    try:
        with pytest.raises(CancelledError):
            requests.get(url, timeout=(5, 30))  # the server accepts and never answers
    finally:
        timer.cancel()
        for conn in accepted:
            conn.close()
        server.close()


def test_real_clock_sleep_is_interrupted(cancellation: Cancellation) -> None:
    timer = send_later(signal.SIGTERM)
    try:
        with pytest.raises(CancelledError):
            RealClock().sleep(30, cancellation.event)
    finally:
        timer.cancel()


def test_shield_only_records_and_wakes_sleepers(
    cancellation: Cancellation, stream: io.StringIO
) -> None:
    timer = send_later(signal.SIGTERM)
    try:
        with cancellation.shield():
            assert shielded(cancellation)
            # No exception: the sleep ends because the watcher sets the event.
            assert RealClock().sleep(30, cancellation.event) is True
            os.kill(os.getpid(), signal.SIGINT)  # a second signal: still nothing raised
            threading.Event().wait(0.05)
    finally:
        timer.cancel()
    assert not shielded(cancellation)
    assert cancellation.signals == ["SIGTERM", "SIGINT"]
    text = wait_for_line(stream, "SIGINT received")
    assert "cancel requested (SIGTERM)" in text
    assert "SIGINT received: already stopping" in text
    assert cancellation.requested
    assert cancellation.event.is_set()


def test_a_burst_raises_once_and_a_later_signal_again(
    cancellation: Cancellation, fake_time: FakeTime
) -> None:
    with pytest.raises(CancelledError):
        signal_and_wait(signal.SIGINT)
    # Right after: recorded, not raised (the first CancelledError is being handled).
    os.kill(os.getpid(), signal.SIGTERM)
    threading.Event().wait(0.05)
    assert cancellation.signals == ["SIGINT", "SIGTERM"]
    # Later (the first was swallowed somewhere and the step is stuck): raised again.
    fake_time.t += RAISE_AGAIN_AFTER + 0.5
    with pytest.raises(CancelledError):
        signal_and_wait(signal.SIGTERM)


def test_nested_shields(cancellation: Cancellation) -> None:
    with cancellation.shield():
        with cancellation.shield():
            pass
        assert shielded(cancellation)
    assert not shielded(cancellation)


def test_install_off_the_main_thread_does_nothing() -> None:
    results: list[bool] = []
    c = Cancellation()
    thread = threading.Thread(target=lambda: results.append(c.install()))
    thread.start()
    thread.join()
    assert results == [False]
    assert not c.installed
    c.restore()  # harmless


def test_context_manager_installs_and_restores() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with Cancellation() as c:
        assert c.installed
        assert signal.getsignal(signal.SIGTERM) != before
        assert c.install()  # idempotent
    assert signal.getsignal(signal.SIGTERM) == before


class StillBuilding:
    def get_build(
        self, build_id: str, *, deadline: float | None = None, retry: bool = True
    ) -> Build:
        return Build(id=build_id, status="building")


@pytest.mark.parametrize("shield", [False, True])
def test_the_waiter_ends_cancelled_on_a_real_signal(
    cancellation: Cancellation, shield: bool
) -> None:
    states: dict[Platform, PlatformState] = {
        "android": PlatformState("android", build=Build(id="bld_1", status="queued"))
    }
    timer = send_later(signal.SIGTERM)
    try:
        with cancellation.shield() if shield else contextlib.nullcontext():
            result = wait_for_builds(
                StillBuilding(),
                states,
                timeout=60,
                queue_timeout=None,
                strategies={"android": make_strategy(30, [])},
                clock=RealClock(),
                cancel=cancellation.event,
                log=ActionIO(io.StringIO()),
            )
    finally:
        timer.cancel()
    assert result == RunStatus.CANCELLED
    assert states["android"].status == "queued"  # cancelled before the first check (30 s)
