"""Whole runs (``main.run`` in process, virtual time) whose outputs or summary file cannot be
written, as on a self-hosted runner with a full disk: the other file is still written, an
error annotation names the file and why, the exit code is 1, and there is no traceback."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from capwrapper_action.main import run
from capwrapper_simulator import ManualClock, SimConfig, Simulator
from tests.integration.client_rig import LinkedClock
from tests.runner_files import RunnerEnv


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(queue_seconds=2, build_seconds=10), clock=ManualClock()) as running:
        yield running


def run_action(sim: Simulator, runner: RunnerEnv) -> tuple[int, str]:
    inputs = {
        "api-key": sim.api_key, "api-url": sim.base_url, "app-url": "https://shop.example.com",
        "app-name": "Example Shop", "bundle-id": "com.example.shop", "version": "1.4.0",
        "platforms": "android", "poll-interval": "5",
    }
    out = io.StringIO()
    assert isinstance(sim.clock, ManualClock)
    code = run(runner.with_inputs(inputs), stdout=out, clock=LinkedClock(sim.clock))
    return code, out.getvalue()


def unwritable(path: Path) -> None:
    """Make ``path`` impossible to append to: a folder where the runner expects a file."""
    path.unlink(missing_ok=True)
    path.mkdir()


def test_outputs_that_cannot_be_written_still_leave_the_summary(
    sim: Simulator, tmp_path: Path
) -> None:
    runner = RunnerEnv(tmp_path)
    unwritable(runner.output)
    code, log = run_action(sim, runner)
    assert code == 1
    assert "Traceback" not in log
    assert (f"::error title=The step outputs were not written::Could not write the step "
            f"outputs to {runner.output} (GITHUB_OUTPUT): Is a directory.") in log
    assert "builds succeeded" in runner.summary_text()
    assert sim.created_count() == 1


def test_a_summary_that_cannot_be_written_still_leaves_the_outputs(
    sim: Simulator, tmp_path: Path
) -> None:
    runner = RunnerEnv(tmp_path)
    unwritable(runner.summary)
    code, log = run_action(sim, runner)
    assert code == 1
    assert "Traceback" not in log
    assert (f"::error title=The job summary was not written::Could not write the job summary "
            f"to {runner.summary} (GITHUB_STEP_SUMMARY): Is a directory.") in log
    assert runner.outputs()["status"] == "success"
