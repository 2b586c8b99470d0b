"""A whole run (``main.run`` in process, virtual time) through a two-minute outage of the
API (503 HTML pages from its first request on: the build list, then the creates): it
succeeds, makes one build per platform, and the summary says how long the API could not be
reached."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from capwrapper_action.main import run
from capwrapper_simulator import Fault, ManualClock, SimConfig, Simulator
from tests.integration.client_rig import LinkedClock
from tests.runner_files import RunnerEnv

OUTAGE = 120.0


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(queue_seconds=5, build_seconds=60), clock=ManualClock()) as running:
        yield running


def test_a_run_rides_out_a_two_minute_outage_and_says_how_long(
    sim: Simulator, tmp_path: Path
) -> None:
    runner = RunnerEnv(tmp_path)
    env = runner.with_inputs({
        "api-key": sim.api_key, "api-url": sim.base_url, "app-url": "https://shop.example.com",
        "app-name": "Example Shop", "bundle-id": "com.example.shop", "version": "1.4.0",
        "platforms": "android, ios", "poll-interval": "10",
    })  # fmt: skip
    env.pop("GITHUB_REPOSITORY")  # the Capwrapper side only
    sim.faults.add(Fault(endpoint="*", kind="html_error", status=503, times=None))
    assert isinstance(sim.clock, ManualClock)
    clock = LinkedClock(sim.clock)
    clock.on_sleep = lambda seconds: (
        sim.faults.clear() if clock.now() + seconds >= OUTAGE else None
    )
    out = io.StringIO()
    code = run(env, stdout=out, clock=clock)
    log = out.getvalue()
    assert code == 0, log[-2000:]
    assert runner.outputs()["status"] == "success"
    assert sim.created_count("android") == 1
    assert sim.created_count("ios") == 1
    assert "Retrying creating the android build of version 1.4.0 in " in log
    summary = runner.summary_text()
    assert "The Capwrapper API could not be reached for 2m" in summary
