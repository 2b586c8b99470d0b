"""The ``capwrapper-action`` command as a user runs it: a subprocess against the simulator on
loopback, the key from ``CAPWRAPPER_API_KEY``, outputs as JSON on stdout, the log on stderr."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from capwrapper_action.cli import build_parser
from capwrapper_simulator import PlatformConfig, SimConfig, Simulator
from tests.runner_files import RunnerEnv

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk_test_CLISECRETKEY"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
SCRIPT = Path(sys.executable).with_name("capwrapper-action")


def command() -> list[str]:
    """The console script `pip install .` puts next to the interpreter, else the module."""
    if SCRIPT.is_file():
        return [str(SCRIPT)]
    return [sys.executable, "-m", "capwrapper_action.cli"]


def base_env(**extra: str) -> dict[str, str]:
    """A clean environment: no GITHUB_* or INPUT_* of this process, the package importable."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
        "CAPWRAPPER_API_KEY": KEY,
    }
    env.update(extra)
    return env


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*command(), *args], env=env if env is not None else base_env(), cwd=cwd,
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def app_flags(sim: Simulator, *extra: str) -> list[str]:
    return [
        "--api-url", sim.base_url, "--app-url", "https://shop.example.com",
        "--app-name", "Example Shop", "--bundle-id", "com.example.shop",
        "--version", "1.4.0", "--poll-interval", "1", *extra,
    ]  # fmt: skip


def outputs(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data = json.loads(done.stdout)
    assert isinstance(data, dict)
    assert set(data) == set(ACTION["outputs"])
    assert all(isinstance(v, str) for k, v in data.items() if k not in ("builds", "deploys"))
    assert isinstance(data["builds"], list)  # real arrays, not JSON inside a string
    assert isinstance(data["deploys"], list)
    return data


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimConfig(api_keys=frozenset({KEY}), queue_seconds=0.1, build_seconds=0.3)
    with Simulator(config) as server:
        yield server


def test_flags_are_named_like_the_inputs_and_secrets_are_not_flags() -> None:
    flags = {
        option.lstrip("-")
        for action in build_parser()._actions
        for option in action.option_strings
        if option.startswith("--")
    }
    assert flags - {"help", "version-info"} == set(ACTION["inputs"]) - {"api-key", "github-token"}


def test_every_flag_has_a_description_from_the_input_table() -> None:
    from capwrapper_action.config.inputs import INPUTS

    text = " ".join(build_parser().format_help().split())
    for spec in INPUTS:
        if not spec.secret and spec.name != "summary":
            assert spec.help in text, spec.name
    assert "--summary PATH write the Markdown summary" in text


def test_summary_path_gets_the_markdown_and_hints_speak_flags(
    sim: Simulator, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    done = cli(*app_flags(sim, "--summary", str(summary)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = outputs(done)
    assert [b["platform"] for b in out["builds"]] == ["android", "ios"]
    assert out["deploys"] == []
    assert out["deploy-skipped-reason"] == "deploy not requested (set `--deploy true`)"
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## ✅ Capwrapper: Example Shop 1.4.0")
    assert "--summary-download-links true" in text
    assert KEY not in text


def test_summary_path_in_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("--summary", str(tmp_path / "nope" / "s.md"), cwd=tmp_path)
    assert done.returncode == 2
    assert "its folder does not exist" in done.stderr


def test_a_run_prints_outputs_as_json_and_the_log_on_stderr(
    sim: Simulator, tmp_path: Path
) -> None:
    done = cli(*app_flags(sim), env=base_env(RUNNER_DEBUG="1"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = outputs(done)
    assert out["status"] == "success"
    assert out["version"] == "1.4.0"
    assert out["android-status"] == out["ios-status"] == "success"
    assert out["android-build-id"].startswith("bld_")
    assert sim.created_count() == 2
    assert "== Create builds" in done.stderr
    assert "android: created" in done.stderr
    assert "status: success" in done.stderr
    assert re.search(r"debug: POST /builds -> 201 in \d+ ms", done.stderr)
    assert not re.search(r"^::", done.stderr, re.MULTILINE)  # no workflow commands
    assert KEY not in done.stdout + done.stderr


def test_a_failed_build_exits_1_with_the_outputs_all_the_same(tmp_path: Path) -> None:
    failing = PlatformConfig(outcome="failed", failure_message="Manifest icon missing")
    config = SimConfig(
        api_keys=frozenset({KEY}), queue_seconds=0.1, build_seconds=0.3,
        platforms={"ios": failing},
    )
    with Simulator(config) as sim:
        done = cli(*app_flags(sim, "--platforms", "ios"), cwd=tmp_path)
    assert done.returncode == 1
    out = outputs(done)
    assert out["status"] == "failed"
    assert out["ios-status"] == "failed"
    assert out["android-build-id"] == ""
    assert "Manifest icon missing" in done.stderr


def test_boolean_flags_take_a_value_and_inherited_inputs_are_ignored(
    sim: Simulator, tmp_path: Path
) -> None:
    env = base_env(**{"INPUT_APP-URL": "https://evil.example.com", "INPUT_PLATFORMS": "ios"})
    done = cli(*app_flags(sim, "--wait", "false", "--platforms", "android"), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = outputs(done)
    assert out["status"] == "created"
    assert out["ios-build-id"] == ""
    [build] = sim.builds()
    assert build.platform == "android"
    assert build.payload["url"] == "https://shop.example.com"


def test_dry_run_prints_the_requests_with_the_key_redacted_and_sends_nothing(
    sim: Simulator, tmp_path: Path
) -> None:
    done = cli(*app_flags(sim, "--version", "auto", "--dry-run"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert outputs(done)["status"] == "dry_run"
    assert f"GET {sim.base_url}/builds?limit=100" in done.stderr
    assert f"POST {sim.base_url}/builds" in done.stderr
    assert "Authorization: Bearer ***" in done.stderr
    assert '"bundleId": "com.example.shop"' in done.stderr
    assert "nothing was sent" in done.stderr
    assert KEY not in done.stdout + done.stderr
    assert sim.request_count() == 0


def test_an_invalid_flag_value_exits_1_naming_the_input(sim: Simulator, tmp_path: Path) -> None:
    done = cli(*app_flags(sim, "--timeout", "banana"), cwd=tmp_path)
    assert done.returncode == 1
    out = outputs(done)
    assert out["status"] == "failed"
    assert "'timeout'" in out["error"]
    assert "Input 'timeout'" in done.stderr
    assert '"banana"' in done.stderr
    assert sim.request_count() == 0


@pytest.mark.parametrize("key", [None, "", "   "])
def test_a_missing_key_says_which_variable_to_set(
    sim: Simulator, tmp_path: Path, key: str | None
) -> None:
    env = base_env()
    del env["CAPWRAPPER_API_KEY"]
    if key is not None:
        env["CAPWRAPPER_API_KEY"] = key
    done = cli(*app_flags(sim), env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "CAPWRAPPER_API_KEY" in done.stderr
    assert done.stdout == ""
    assert sim.request_count() == 0


def test_an_unknown_flag_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("--api-key", KEY, cwd=tmp_path)
    assert done.returncode == 2
    assert "unrecognized arguments: --api-key" in done.stderr
    assert done.stdout == ""


def test_ctrl_c_ends_the_run_as_cancelled_with_outputs(tmp_path: Path) -> None:
    config = SimConfig(api_keys=frozenset({KEY}), queue_seconds=0.1, build_seconds=120)
    with Simulator(config) as sim:
        proc = subprocess.Popen(
            [*command(), *app_flags(sim, "--platforms", "android")], env=base_env(),
            cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # wait until the run is waiting for the build
            seen.append(line)
            if line.startswith("waiting up to"):
                break
        proc.send_signal(signal.SIGINT)
        stdout, rest = proc.communicate(timeout=20)
    log = "".join(seen) + rest
    assert proc.returncode == 1, log
    assert "Traceback" not in log
    assert "cancel requested (SIGINT)" in log
    out = json.loads(stdout)
    assert out["status"] == "cancelled"
    assert f"Resume with `--build-id android:{out['android-build-id']}`" in log
    assert sim.created_count() == 1


def test_github_action_mode_speaks_the_runner_protocol(sim: Simulator, tmp_path: Path) -> None:
    runner = RunnerEnv(tmp_path / "runner")
    env = runner.with_inputs(
        {"api-key": KEY, "api-url": sim.base_url, "app-url": "https://shop.example.com",
         "app-name": "Example Shop", "bundle-id": "com.example.shop", "dry-run": "true"}
    )  # fmt: skip
    env["PYTHONPATH"] = str(ROOT)
    done = cli("github-action", env=env, cwd=runner.workspace)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::group::Settings" in done.stdout
    assert f"::add-mask::{KEY}" in done.stdout
    assert runner.outputs()["status"] == "dry_run"
    assert sim.request_count() == 0


def test_github_action_mode_refuses_to_run_without_inputs(tmp_path: Path) -> None:
    done = cli("github-action", cwd=tmp_path)
    assert done.returncode == 2
    assert "no INPUT_* variables" in done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_simulator_subcommand_serves_until_terminated(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*command(), "simulator", "--port", str(port), "--key", KEY], env=base_env(),
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip() == f"Capwrapper simulator: http://127.0.0.1:{port}/v1"
        answer = requests.get(
            f"http://127.0.0.1:{port}/v1/builds",
            headers={"Authorization": f"Bearer {KEY}"}, timeout=5,
        )
        assert answer.status_code == 200
        refused = requests.get(f"http://127.0.0.1:{port}/v1/builds", timeout=5)
        assert refused.status_code == 401
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert "Simulator stopped." in stdout
