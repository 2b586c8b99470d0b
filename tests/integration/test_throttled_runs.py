"""Whole runs (``main.run`` in process) against the simulator in virtual time, when the API
key's rate limit is tight or the build list fails: the history used only for polling is a
nicety, so a run without it still succeeds; ``version: auto`` needs it, so there it fails."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.outage import SharedClock, SimTime
from capwrapper_action import retry as retry_module
from capwrapper_action.main import run
from capwrapper_action.retry import RetryPolicy
from capwrapper_action.timeutil import Clock
from capwrapper_simulator import Fault, ManualClock, SimConfig, Simulator
from tests.integration.client_rig import LinkedClock
from tests.runner_files import RunnerEnv

THROTTLED = re.compile(r"rate limited (\d+) times")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(queue_seconds=5, build_seconds=40), clock=ManualClock()) as running:
        yield running


def run_action(sim: Simulator, root: Path, **given: str) -> tuple[int, dict[str, str], str]:
    assert isinstance(sim.clock, ManualClock)
    return run_on(LinkedClock(sim.clock), sim, root, given)


def run_on(
    clock: Clock, sim: Simulator, root: Path, given: dict[str, str]
) -> tuple[int, dict[str, str], str]:
    """One whole run on `clock`."""
    runner = RunnerEnv(root)
    inputs = {
        "api-key": sim.api_key, "api-url": sim.base_url, "app-url": "https://shop.example.com",
        "app-name": "Example Shop", "bundle-id": "com.example.shop", "version": "1.4.0",
        "platforms": "android", **given,
    }
    out = io.StringIO()
    code = run(runner.with_inputs(inputs), stdout=out, clock=clock)
    return code, runner.outputs(), out.getvalue()


def test_a_failing_build_list_only_costs_the_polling_its_history(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.faults.add(Fault(endpoint="list_builds", kind="html_error", status=502, times=None))
    code, outputs, log = run_action(sim, tmp_path)
    assert (code, outputs["status"]) == (0, "success")
    assert "Status checks will not use build history: GET /builds answered 502" in log
    assert sim.created_count() == 1


def test_version_auto_cannot_do_without_the_build_list(sim: Simulator, tmp_path: Path) -> None:
    sim.faults.add(Fault(endpoint="list_builds", kind="html_error", status=502, times=None))
    code, outputs, log = run_action(sim, tmp_path, version="auto")
    assert (code, outputs["status"]) == (1, "failed")
    assert "::error title=Capwrapper server error::GET /builds answered 502" in log
    assert sim.created_count() == 0


def test_a_wrong_key_fails_at_the_build_list_without_a_create(
    sim: Simulator, tmp_path: Path
) -> None:
    code, outputs, log = run_action(sim, tmp_path, **{"api-key": "cwk_wrong_0000000000"})
    assert (code, outputs["status"]) == (1, "failed")
    assert "GET /builds answered 401" in log
    assert [r.endpoint for r in sim.requests()] == ["list_builds"]


def test_the_history_is_not_worth_minutes_of_a_rate_limit(sim: Simulator, tmp_path: Path) -> None:
    sim.faults.add(Fault(endpoint="list_builds", kind="rate_limited", seconds=50, times=None))
    code, outputs, log = run_action(sim, tmp_path)
    assert (code, outputs["status"]) == (0, "success")
    assert sim.request_count("list_builds") == 2  # at 0 s and ~50 s; ~100 s is past 60 s
    assert "Status checks will not use build history: GET /builds answered 429" in log


def test_a_crowd_sharing_one_key_waits_out_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight runs, one request per 30 s between them, and only 2 attempts per call: the runs
    meet far more 429s in one call than that, and every one succeeds all the same.

    The runs and the simulator share one virtual clock that moves only when every run waits
    (bench/outage.py), so the runs contend for the limit as they would in real time, whatever
    the machine's load does to their threads. (On clocks of their own, each run's waits moved
    the simulator's clock for all: on a busy machine the limit could refill before anyone met
    it twice.)"""
    monkeypatch.setattr(retry_module, "RetryPolicy", lambda: RetryPolicy(budget_seconds=0))
    clock = SharedClock(epoch=float(int(time.time())))
    config = SimConfig(queue_seconds=5, build_seconds=40, rate_limit=(1, 30.0))
    results: dict[int, tuple[int, dict[str, str], str]] = {}

    def one(sim: Simulator, n: int) -> None:
        try:
            given = {"bundle-id": f"com.example.a{n}"}
            results[n] = run_on(clock, sim, tmp_path / f"job{n}", given)
        finally:
            clock.leave()  # time moves on for the others

    with Simulator(config, clock=SimTime(clock)) as sim:
        threads = [threading.Thread(target=one, args=(sim, n), daemon=True) for n in range(8)]
        for _ in threads:
            clock.join()  # every run counts from virtual time 0
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 45
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        assert sorted(results) == list(range(8))
    assert [results[n][1]["status"] for n in range(8)] == ["success"] * 8
    assert sim.created_count() == 8
    waits = [int(n) for *_, log in results.values() for n in THROTTLED.findall(log)]
    assert max(waits) > 2


def test_a_throttled_create_gives_up_within_the_timeout(sim: Simulator, tmp_path: Path) -> None:
    """`timeout: 5m` and a create answered 429 `Retry-After: 120` again and again: the run
    stops by 5 minutes, at the retry whose wait would end past them, and names the time asked
    for (it used to wait out the 15 minutes the policy allows rate limits)."""
    sim.faults.add(Fault(endpoint="create_build", kind="rate_limited", seconds=120, times=None))
    assert isinstance(sim.clock, ManualClock)
    start = sim.clock.now()
    code, outputs, _ = run_action(sim, tmp_path, timeout="5m")
    assert (code, outputs["status"]) == (1, "failed")
    assert sim.clock.now() - start <= 300
    assert sim.request_count("create_build") == 3  # at 0 s, ~2 min and ~4 min
    assert "the server asked to wait 2m 00s (Retry-After)" in outputs["error"]
    assert sim.created_count() == 0


def test_a_retry_after_beyond_the_timeout_fails_the_create_at_once(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="rate_limited", seconds=600, times=None))
    assert isinstance(sim.clock, ManualClock)
    start = sim.clock.now()
    code, outputs, _ = run_action(sim, tmp_path, timeout="5m")
    assert (code, outputs["status"]) == (1, "failed")
    assert sim.clock.now() - start < 1
    assert sim.request_count("create_build") == 1
    assert "the server asked to wait 10m 00s (Retry-After)" in outputs["error"]


def test_the_history_of_version_auto_is_read_within_the_timeout(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.faults.add(Fault(endpoint="list_builds", kind="rate_limited", seconds=400, times=None))
    code, outputs, _ = run_action(sim, tmp_path, version="auto", timeout="5m")
    assert (code, outputs["status"]) == (1, "failed")
    assert sim.request_count("list_builds") == 1
    assert "the server asked to wait 6m 40s (Retry-After)" in outputs["error"]
    assert sim.created_count() == 0


def test_a_deploy_after_a_wait_that_used_the_timeout_still_gets_its_chance(
    sim: Simulator, tmp_path: Path
) -> None:
    """The builds take 45 s of a 50 s `timeout`; the deploy then meets a 2-minute rate limit
    and is still made: the phases after the wait get the retry policy's outage budget."""
    sim.faults.add(Fault(endpoint="create_deploy", kind="rate_limited", seconds=120, times=1))
    code, outputs, log = run_action(
        sim, tmp_path, timeout="50s", deploy="true", **{"poll-interval": "5"}
    )
    assert (code, outputs["status"]) == (0, "success"), log[-2000:]
    assert sim.request_count("create_deploy") == 2
    assert outputs["android-deploy-id"]


def test_the_wait_gets_what_the_creates_left_of_the_timeout(
    sim: Simulator, tmp_path: Path
) -> None:
    """A create throttled for 2 minutes leaves ~30 s of a 150 s `timeout` for a 45 s build."""
    sim.faults.add(Fault(endpoint="create_build", kind="rate_limited", seconds=120, times=1))
    assert isinstance(sim.clock, ManualClock)
    start = sim.clock.now()
    code, outputs, _ = run_action(sim, tmp_path, timeout="150s", **{"poll-interval": "5"})
    assert (code, outputs["status"]) == (1, "timed_out")
    assert sim.clock.now() - start <= 151
    assert sim.created_count() == 1
