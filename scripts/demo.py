"""``make demo``: run the action end to end against the API simulator and show what a workflow
run leaves behind: the log, the step outputs (parsed by the runner's rules) and the job summary.
Nothing leaves this machine: the simulator and the GitHub API stand-in (the merged pull request
#12 behind the pushed commit, commit statuses, comments) listen on 127.0.0.1.

    python scripts/demo.py [--fail ios] [--build-seconds 3] [--no-deploy]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capwrapper_simulator import PlatformConfig, SimConfig, Simulator  # noqa: E402
from tests.github_standin import GitHubStandin  # noqa: E402
from tests.runner_files import DEFAULT_REPOSITORY, DEFAULT_SHA, RunnerEnv  # noqa: E402

BUNDLE_ID = "com.example.shop"
RUNNER_TOKEN = "ghs_runner-test-token"  # noqa: S105 - the stand-in token of tests.runner_files


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python scripts/demo.py", description=__doc__)
    parser.add_argument("--build-seconds", type=float, default=3.0, help="Android build time")
    parser.add_argument("--fail", choices=["android", "ios"], help="make this platform fail")
    parser.add_argument("--no-deploy", action="store_true", help="do not deploy")
    return parser.parse_args(argv)


def simulator_config(args: argparse.Namespace) -> SimConfig:
    ios = PlatformConfig(build_seconds=args.build_seconds * 1.5)
    android = PlatformConfig(build_seconds=args.build_seconds)
    if args.fail:
        failing = ios if args.fail == "ios" else android
        failing.outcome = "failed"
        failing.failure_message = "Build failed: the web app answered 503 while it was wrapped."
    return SimConfig(queue_seconds=1.0, platforms={"android": android, "ios": ios})


def seed_history(sim: Simulator, build_seconds: float) -> None:
    """Two earlier releases, so that `version: auto` and adaptive polling have a history."""
    for version, hours_ago in (("1.3.8", 30.0), ("1.3.9", 4.0)):
        for platform in ("android", "ios"):
            factor = 1.5 if platform == "ios" else 1.0
            sim.seed_build(platform=platform, bundle_id=BUNDLE_ID, version=version,
                           duration=1.0 + build_seconds * factor, finished_ago=hours_ago * 3600)


def inputs(base_url: str, deploy: bool) -> dict[str, str]:
    return {
        "api-key": "sim-key", "api-url": base_url, "app-url": "https://shop.example.com",
        "app-name": "Example Shop", "bundle-id": BUNDLE_ID, "version": "auto",
        "platforms": "android, ios", "permissions": "camera, notifications", "timeout": "5m",
        "deploy": "true" if deploy else "false", "deploy-options": '{"track": "internal"}',
    }  # fmt: skip


def github_standin() -> GitHubStandin:
    """The GitHub API as a workflow run sees it: the runner's token, and the merged pull
    request whose merge commit was pushed."""
    github = GitHubStandin(repository=DEFAULT_REPOSITORY)
    github.add_token(RUNNER_TOKEN)
    github.add_pull(12, ["release"], head_sha="4" * 40, merge_commit_sha=DEFAULT_SHA,
                    merged=True, title="Checkout: pay with saved cards")
    return github


def show(title: str, text: str) -> None:
    bar = "-" * 78
    print(f"\n{bar}\n{title}\n{bar}\n{text}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with (
        Simulator(simulator_config(args)) as sim,
        github_standin() as github,
        tempfile.TemporaryDirectory() as tmp,
    ):
        seed_history(sim, args.build_seconds)
        runner = RunnerEnv(Path(tmp))
        runner.env["GITHUB_API_URL"] = github.url
        env = runner.with_inputs(inputs(sim.base_url, deploy=not args.no_deploy))
        show("The action's log, as the run page shows it",
             f"(API simulator at {sim.base_url}, GitHub API stand-in at {github.url})")
        proc = subprocess.run(  # noqa: S603 - our own interpreter and entry point
            [sys.executable, str(ROOT / "entrypoint.py")], env=env, cwd=runner.workspace,
            check=False,
        )
        outputs = runner.outputs()
        show("Step outputs (GITHUB_OUTPUT, parsed by the runner's rules)",
             "\n".join(f"{name} = {value}" for name, value in outputs.items()))
        show("Job summary (GITHUB_STEP_SUMMARY, Markdown)", runner.summary_text())
        show("Result", f"exit code {proc.returncode}; the simulator answered "
             f"{sim.request_count()} requests, made {sim.created_count()} builds and "
             f"{len(sim.deploys())} deploys; the GitHub API stand-in answered "
             f"{len(github.requests)} requests")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
