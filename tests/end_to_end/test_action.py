"""The action as GitHub runs it: `entrypoint.py` in the mirrored image, under the runner's
environment, against the API simulator; outputs parsed by the runner's rules."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator

import pytest

from capwrapper_simulator import Fault, PlatformConfig, SimConfig, Simulator
from tests.end_to_end.docker_mirror import ActionImage
from tests.runner_files import RunnerEnv

API_KEY = "sim-key"
SECRET_TOKEN = "ghs_runner-test-token"  # the default github-token of tests.runner_files


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(queue_seconds=0.1, build_seconds=0.3)) as server:
        yield server


def inputs(sim: Simulator, **extra: str) -> dict[str, str]:
    given = {
        "api-key": API_KEY,
        "api-url": sim.base_url,
        "app-url": "https://shop.example.com",
        "app-name": "Example Shop",
        "bundle-id": "com.example.shop",
        "version": "1.4.0",
        "poll-interval": "1",
    }
    given.update({k.replace("_", "-"): v for k, v in extra.items()})
    return given


def run_action(
    image: ActionImage, runner: RunnerEnv, given: dict[str, str], timeout: float = 60
) -> tuple[int, str, dict[str, str]]:
    proc = image.run(runner.with_inputs(given), runner.workspace, timeout=timeout)
    log = proc.stdout + proc.stderr
    assert "Traceback" not in log, log
    return proc.returncode, log, runner.outputs()


def test_both_platforms_succeed(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator
) -> None:
    code, log, out = run_action(action_image, runner_env, inputs(sim))
    assert code == 0, log
    assert out["status"] == "success"
    assert out["version"] == "1.4.0"
    assert out["android-status"] == out["ios-status"] == "success"
    assert {b["platform"] for b in json.loads(out["builds"])} == {"android", "ios"}
    assert out["android-build-id"].startswith("bld_")
    assert out["ios-download-url"].startswith("http://127.0.0.1")
    assert out["commit-sha"] == runner_env.sha
    assert sim.created_count() == 2
    summary = runner_env.summary_text()
    assert out["android-build-id"] in summary
    assert "1.4.0" in summary
    assert "::group::" in log
    assert "::error" not in log


def test_one_platform_fails(action_image: ActionImage, runner_env: RunnerEnv) -> None:
    failing = PlatformConfig(outcome="failed", failure_message="Manifest icon 512x512 missing")
    config = SimConfig(queue_seconds=0.1, build_seconds=0.3, platforms={"ios": failing})
    with Simulator(config) as sim:
        code, log, out = run_action(action_image, runner_env, inputs(sim))
    assert code == 1
    assert out["status"] == "failed"
    assert out["android-status"] == "success"
    assert out["ios-status"] == "failed"
    assert "::error title=iOS build failed::" in log
    assert "Manifest icon 512x512 missing" in runner_env.summary_text()


def test_wrong_key_says_to_check_the_secret(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator
) -> None:
    code, log, out = run_action(action_image, runner_env, inputs(sim, api_key="wrong-key-123"))
    assert code == 1
    assert "::add-mask::wrong-key-123" in log.splitlines()[0]
    assert "Invalid or missing API key." in log
    assert "api-key" in log
    assert out["status"] == "failed"
    assert "401" in log
    assert "wrong-key-123" not in runner_env.summary_text()
    assert sim.created_count() == 0


def test_server_400_keeps_its_message(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator
) -> None:
    for platform in ("android", "ios"):
        sim.seed_build(platform=platform, bundle_id="com.example.shop", version="2.0.0")
    # A list the pre-flight cannot read: a pinned version goes on, and the API judges it.
    sim.faults.add(Fault(endpoint="list_builds", kind="http_error", status=404, times=None))
    code, _log, out = run_action(action_image, runner_env, inputs(sim))
    assert code == 1
    assert "must be higher" in out["error"]
    assert "must be higher" in runner_env.summary_text()
    assert sim.created_count() == 0


def test_timeout_leaves_resume_instructions(
    action_image: ActionImage, runner_env: RunnerEnv
) -> None:
    with Simulator(SimConfig(queue_seconds=0.1, build_seconds=60)) as sim:
        code, log, out = run_action(action_image, runner_env, inputs(sim, timeout="2s"))
    assert code == 1
    assert out["status"] == "timed_out"
    assert out["android-status"] == "building"
    summary = runner_env.summary_text()
    assert f"build-id: android:{out['android-build-id']}, ios:{out['ios-build-id']}" in summary
    assert "::error title=Timed out::" in log


def test_wait_false_ends_once_created(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator
) -> None:
    code, log, out = run_action(action_image, runner_env, inputs(sim, wait="false"))
    assert code == 0, log
    assert out["status"] == "created"
    assert out["android-status"] == "queued"
    assert sim.request_count("get_build") == 0


def test_resume_waits_without_creating(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator
) -> None:
    code, _, first = run_action(action_image, runner_env, inputs(sim, wait="false"))
    assert code == 0
    resume = f"android:{first['android-build-id']}, ios:{first['ios-build-id']}"
    second_runner = RunnerEnv(runner_env.root.parent / "second")
    code, log, out = run_action(action_image, second_runner, inputs(sim, build_id=resume))
    assert code == 0, log
    assert out["status"] == "success"
    assert out["android-build-id"] == first["android-build-id"]
    assert sim.created_count() == 2


def test_dry_run_sends_nothing(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator
) -> None:
    code, log, out = run_action(action_image, runner_env, inputs(sim, dry_run="true"))
    assert code == 0, log
    assert out["status"] == "dry_run"
    assert out["version"] == "1.4.0"
    assert "POST " in log
    assert "Bearer ***" in log
    assert sim.request_count() == 0


def test_invalid_input_sends_nothing(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator
) -> None:
    code, log, out = run_action(action_image, runner_env, inputs(sim, bundle_id="shop"))
    assert code == 1
    assert "::error title=Invalid input%3A bundle-id::" in log
    assert out["status"] == "failed"
    assert "bundle-id" in out["error"]
    assert sim.request_count() == 0


@pytest.mark.parametrize("debug", ["0", "1"])
def test_secrets_never_leave_the_process(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, debug: str
) -> None:
    runner_env.env["RUNNER_DEBUG"] = debug
    code, log, out = run_action(action_image, runner_env, inputs(sim))
    assert code == 0, log
    lines = log.splitlines()
    assert lines[0] == f"::add-mask::{API_KEY}"
    assert lines[1] == f"::add-mask::{SECRET_TOKEN}"
    rest = "\n".join(lines[2:])
    for secret in (API_KEY, SECRET_TOKEN):
        assert secret not in rest
        assert secret not in runner_env.summary_text()
        assert all(secret not in value for value in out.values())
        assert secret not in runner_env.env_file.read_text()
    if debug == "1":
        assert "::debug::" in log


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cancel_mid_wait(
    action_image: ActionImage, runner_env: RunnerEnv, sig: signal.Signals
) -> None:
    with Simulator(SimConfig(queue_seconds=0.1, build_seconds=120)) as sim:
        proc = action_image.popen(runner_env.with_inputs(inputs(sim)), runner_env.workspace)
        deadline = time.monotonic() + 30
        while sim.request_count("get_build") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    # The runner sends SIGTERM 7.5 s after SIGINT, then kills: stopping within that grace is what
    # matters (how fast it is in practice is measured in bench/, not asserted here).
    assert took < 7.5, f"took {took:.2f}s to stop"
    assert proc.returncode != 0
    assert "Traceback" not in stdout + stderr
    out = runner_env.outputs()
    assert out["status"] == "cancelled"
    assert out["android-build-id"].startswith("bld_")
    summary = runner_env.summary_text()
    assert "no cancel endpoint" in summary
    assert f"android:{out['android-build-id']}" in summary
