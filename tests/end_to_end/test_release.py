"""Release on merge, through the whole action: the commit and pull request come from the event,
labels are read live from a GitHub API stand-in, and the deploy gate decides."""

from __future__ import annotations

from typing import Any

from capwrapper_simulator import SimConfig, Simulator
from tests.end_to_end.docker_mirror import ActionImage
from tests.github_standin import GitHubStandin
from tests.runner_files import DEFAULT_REPOSITORY, DEFAULT_SHA, RunnerEnv

TOKEN = "ghs_runner-test-token"  # what tests.runner_files passes as github-token
HEAD = "4" * 40


def release_inputs(sim: Simulator, **extra: str) -> dict[str, str]:
    given = {
        "api-key": "sim-key", "api-url": sim.base_url, "app-url": "https://shop.example.com",
        "app-name": "Example Shop", "bundle-id": "com.example.shop", "poll-interval": "1",
        "deploy": "true", "deploy-labels": "release", "deploy-options": "track: beta",
    }  # fmt: skip
    given.update({k.replace("_", "-"): v for k, v in extra.items()})
    return given


def merged_pull_request(labels: list[str]) -> dict[str, Any]:
    repo = {"full_name": DEFAULT_REPOSITORY}
    return {
        "action": "closed", "number": 12,
        "pull_request": {
            "number": 12, "merged": True, "merge_commit_sha": DEFAULT_SHA,
            "labels": [{"name": name} for name in labels],
            "head": {"sha": HEAD, "repo": repo}, "base": {"repo": repo},
        },
    }  # fmt: skip


def run(
    image: ActionImage, runner: RunnerEnv, github: GitHubStandin, given: dict[str, str]
) -> tuple[int, str, dict[str, str]]:
    runner.env["GITHUB_API_URL"] = github.url
    proc = image.run(runner.with_inputs(given), runner.workspace, timeout=60)
    log = proc.stdout + proc.stderr
    assert "Traceback" not in log, log
    return proc.returncode, log, runner.outputs()


def test_push_of_a_labelled_merge_deploys(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=DEFAULT_SHA, merged=True)
    code, log, out = run(action_image, runner_env, github, release_inputs(sim))
    assert code == 0, log
    assert out["version"] == "1.0.0"  # version: auto with no history
    assert out["commit-sha"] == DEFAULT_SHA
    assert out["pull-request"] == "12"
    assert out["deployed"] == "true"
    assert out["deploy-skipped-reason"] == ""
    assert out["android-deploy-id"].startswith("dep_")
    assert [d.fields.get("track") for d in sim.deploys()] == ["beta", "beta"]
    assert "/pull/12" in runner_env.summary_text()


def test_label_removed_after_the_event_skips_the_deploy(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.add_pull(12, ["docs"], head_sha=HEAD, merge_commit_sha=DEFAULT_SHA, merged=True)
    runner_env.set_event("pull_request", merged_pull_request(["release"]))
    code, log, out = run(action_image, runner_env, github, release_inputs(sim))
    assert code == 0, log  # the builds succeeded: a gate that says no is not a failure
    assert out["status"] == "success"
    assert out["deployed"] == "false"
    assert "release" in out["deploy-skipped-reason"]
    assert "#12" in out["deploy-skipped-reason"]
    assert "::notice title=Deploy skipped::" in log
    assert sim.deploys() == []


def test_token_without_pull_requests_read_fails_the_gate_loudly(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    """The payload's labels may be stale (a re-run replays the event): a gate that cannot read
    the live labels fails the step, naming the permission, and still reports the builds."""
    github.tokens.clear()
    github.add_token(TOKEN, can_read_pulls=False)
    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=DEFAULT_SHA, merged=True)
    runner_env.set_event("pull_request", merged_pull_request(["release"]))
    code, log, out = run(action_image, runner_env, github, release_inputs(sim))
    assert code == 1, log
    assert "::error title=Cannot read the pull request labels::" in log
    assert "pull-requests: read" in log
    assert out["status"] == "failed"
    assert out["deployed"] == "false"
    assert "403" in out["error"]
    assert (out["android-status"], out["ios-status"]) == ("success", "success")
    assert sim.deploys() == []


def test_failed_platform_blocks_the_deploy(
    action_image: ActionImage, runner_env: RunnerEnv, github: GitHubStandin
) -> None:
    from capwrapper_simulator import PlatformConfig

    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=DEFAULT_SHA, merged=True)
    config = SimConfig(queue_seconds=0.1, build_seconds=0.3,
                       platforms={"ios": PlatformConfig(outcome="failed")})
    with Simulator(config) as sim:
        code, _, out = run(action_image, runner_env, github, release_inputs(sim))
        assert sim.deploys() == []
    assert code == 1
    assert out["deployed"] == "false"
    assert out["android-status"] == "success"
    assert out["ios-status"] == "failed"
