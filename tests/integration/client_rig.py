"""A client wired to a running simulator, in virtual time: the client's retry waits cost no
real time, and each wait also moves the simulator's manual clock, so rate-limit windows
refill and builds progress exactly as if the time had passed."""

from __future__ import annotations

import io
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from capwrapper_action.api.client import CapwrapperClient
from capwrapper_action.ghio import ActionIO
from capwrapper_action.retry import RetryPolicy
from capwrapper_simulator import ManualClock, Simulator
from tests.virtual_clock import VirtualClock

FAST_TIMEOUT = (2.0, 3.0)


class LinkedClock(VirtualClock):
    """A thread-safe virtual clock whose sleeps also advance the simulator's clock."""

    def __init__(self, sim_clock: ManualClock | None = None) -> None:
        super().__init__(start=0.0, wall_start=datetime.now(UTC))
        self.sim_clock = sim_clock
        self._lock = threading.Lock()
        self.on_sleep: Callable[[float], None] | None = None

    def sleep(self, seconds: float, cancel: threading.Event) -> bool:
        hook = self.on_sleep
        if hook is not None:
            hook(seconds)
        with self._lock:
            cancelled = super().sleep(seconds, cancel)
            if self.sim_clock is not None and not cancelled:
                self.sim_clock.advance(max(0.0, seconds))
        return cancelled


@dataclass
class Rig:
    sim: Simulator
    client: CapwrapperClient
    clock: LinkedClock
    out: io.StringIO
    cancel: threading.Event
    session: requests.Session

    @property
    def log(self) -> ActionIO:
        return self.client.log

    def lines(self, prefix: str = "") -> list[str]:
        return [ln for ln in self.out.getvalue().splitlines() if ln.startswith(prefix)]

    def close(self) -> None:
        self.session.close()


def make_rig(
    sim: Simulator, *, timeout: tuple[float, float] = FAST_TIMEOUT,
    policy: RetryPolicy | None = None, base_url: str | None = None, key: str | None = None,
    clock: LinkedClock | None = None, seed: int = 0,
) -> Rig:
    sim_clock = sim.clock if isinstance(sim.clock, ManualClock) else None
    clock = clock or LinkedClock(sim_clock)
    out = io.StringIO()
    cancel = threading.Event()
    session = requests.Session()
    client = CapwrapperClient(
        base_url or sim.base_url, key or sim.api_key, session=session, clock=clock,
        log=ActionIO(out, debug=True), cancel=cancel, retry=policy or RetryPolicy(),
        timeout=timeout, rng=random.Random(seed),
    )
    return Rig(sim, client, clock, out, cancel, session)


def build_body(platform: str = "android", version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    return {
        "url": "https://shop.example.com",
        "appName": "Shop",
        "bundleId": "com.example.shop",
        "version": version,
        "platform": platform,
        **extra,
    }


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Real-time wait for something the simulator does on its own threads."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def answered(sim: Simulator, endpoint: str, count: int) -> Callable[[], bool]:
    """True once ``count`` requests to ``endpoint`` have been handled (answered or dropped)."""
    return lambda: len(sim.requests(endpoint)) >= count
