"""A cancel (SIGINT, as the runner sends it) that lands while a create is on the wire: the
server makes the build, the answer is lost to the signal, and the run looks the build up in
the list before it reports, so the report and the `build-id` hint name it. Real signals, a
real clock, about two seconds."""

from __future__ import annotations

import io
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from capwrapper_action.cancel import Cancellation
from capwrapper_action.main import run
from capwrapper_simulator import Fault, SimConfig, Simulator
from tests.runner_files import RunnerEnv

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="POSIX signals")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(queue_seconds=60, build_seconds=60)) as running:
        yield running


def run_cancelled(sim: Simulator, root: Path, *, slow: float) -> tuple[int, RunnerEnv, str]:
    runner = RunnerEnv(root)
    inputs = {
        "api-key": sim.api_key, "api-url": sim.base_url, "app-url": "https://shop.example.com",
        "app-name": "Example Shop", "bundle-id": "com.example.shop", "version": "1.4.0",
        "platforms": "android", "poll-interval": "5",
    }
    sim.faults.add(Fault(endpoint="create_build", kind="slow", seconds=slow))
    env = runner.with_inputs(inputs)
    env.pop("GITHUB_REPOSITORY")  # no GitHub API calls: the create is the slow request
    out = io.StringIO()
    timer = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT))
    with Cancellation() as cancellation:
        timer.start()
        try:
            code = run(env, stdout=out, cancellation=cancellation)
        finally:
            timer.cancel()
    return code, runner, out.getvalue()


def test_a_build_made_while_the_signal_cut_its_answer_off_is_named(
    sim: Simulator, tmp_path: Path
) -> None:
    code, runner, log = run_cancelled(sim, tmp_path, slow=1.0)
    assert code == 1
    builds = sim.builds()
    assert len(builds) == 1
    outputs = runner.outputs()
    assert outputs["status"] == "cancelled"
    assert outputs["android-build-id"] == builds[0].id
    assert f"build-id: android:{builds[0].id}" in runner.summary_text()
    assert f"Resume with `build-id: android:{builds[0].id}`" in log
    assert "was made before the cancel" in log


def test_a_create_the_server_never_carried_out_is_reported_as_not_made(
    sim: Simulator, tmp_path: Path
) -> None:
    code, runner, log = run_cancelled(sim, tmp_path, slow=30.0)  # the answer would come late
    assert code == 1
    assert runner.outputs()["status"] == "cancelled"
    assert runner.outputs()["android-build-id"] == ""
    assert "GET /builds shows no android build of version 1.4.0: it was not made" in log
