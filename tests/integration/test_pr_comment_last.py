"""The final pull request comment is written after the report (``main.run`` in process, the
runner's files, the simulator in virtual time, the GitHub API stand-in): a slow or failing
GitHub API can never cost the outputs, the summary or the ``build-id`` hint, and with
``pr-comment: always`` a failed final write still fails the step, in the outputs too."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from capwrapper_action.ghio import GitHubIO
from capwrapper_action.github.context import make_github
from capwrapper_action.main import run
from capwrapper_simulator import ManualClock, SimConfig, Simulator
from tests.github_standin import GitHubStandin
from tests.integration.client_rig import LinkedClock
from tests.integration.pipeline_rig import BASE_INPUTS, TOKEN, standin
from tests.runner_files import DEFAULT_REPOSITORY, RunnerEnv

HEAD = "4" * 40
COMMENT_WRITES = ("issue_comments", "comment")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(queue_seconds=20, build_seconds=300), clock=ManualClock()) as server:
        yield server


@pytest.fixture
def github() -> Iterator[GitHubStandin]:
    with standin() as running:
        running.add_token(TOKEN)
        running.add_pull(12, [], head_sha=HEAD)
        yield running


class WatchedIO(GitHubIO):
    """The runner's files, noting how many comment writes GitHub had seen at each report
    write; ``on_report`` runs once, at the first outputs write (the report)."""

    def __init__(self, env: Mapping[str, str], github: GitHubStandin, on_report: Any) -> None:
        super().__init__(env, io.StringIO())
        self.github, self.on_report = github, on_report
        self.seen: list[tuple[str, int]] = []

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        if not self.seen:
            self.on_report()
        self.seen.append(("outputs", self._comment_writes()))
        super().set_outputs(outputs)

    def write_summary(self, markdown: str) -> bool:
        self.seen.append(("summary", self._comment_writes()))
        return super().write_summary(markdown)

    def _comment_writes(self) -> int:
        return sum(1 for r in self.github.requests
                   if r.method != "GET" and r.endpoint in COMMENT_WRITES)  # fmt: skip


def pull_request_run(
    sim: Simulator, github: GitHubStandin, tmp_path: Path, *, on_report: Any = None, **given: str
) -> tuple[int, WatchedIO, RunnerEnv]:
    runner = RunnerEnv(tmp_path / "runner", sha=HEAD)
    repo = {"full_name": DEFAULT_REPOSITORY}
    runner.set_event("pull_request", {
        "action": "synchronize", "number": 12,
        "pull_request": {"number": 12, "title": "Add login", "body": "", "merged": False,
                         "labels": [], "head": {"sha": HEAD, "ref": "login", "repo": repo},
                         "base": {"repo": repo}},
    })  # fmt: skip
    runner.env.update(GITHUB_API_URL=github.url, GITHUB_RUN_ID="7301234567")
    inputs = {"api-key": sim.api_key, "api-url": sim.base_url, **BASE_INPUTS}
    inputs.update({k.replace("_", "-"): v for k, v in given.items()})
    env = runner.with_inputs(inputs)
    watched = WatchedIO(env, github, on_report or (lambda: None))
    code = run(
        env, io=watched, clock=LinkedClock(sim.clock),  # type: ignore[arg-type]
        github_factory=lambda url, token: make_github(url, token, retries=0),
    )
    return code, watched, runner


def test_outputs_and_summary_come_before_the_final_comment(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    code, watched, runner = pull_request_run(sim, github, tmp_path)
    assert code == 0, watched.stream.getvalue()  # type: ignore[union-attr]
    # The "building" comment was written while the builds ran; the final edit only after
    # the outputs and the summary were in the runner's files.
    assert watched.seen == [("outputs", 1), ("summary", 1)]
    (comment,) = github.comments_on(12)
    assert "builds succeeded" in comment.body
    assert comment.edits == 1
    assert runner.outputs()["status"] == "success"


def test_always_fails_the_step_when_the_final_comment_fails_after_the_report(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    def github_goes_down() -> None:
        github.fail_status = 502

    code, watched, runner = pull_request_run(
        sim, github, tmp_path, on_report=github_goes_down, pr_comment="always"
    )
    log = watched.stream.getvalue()  # type: ignore[union-attr]
    assert code == 1, log
    outputs = runner.outputs()  # the runner keeps the last value of each name
    assert outputs["status"] == "failed"
    assert "Could not write the comment on pull request #12" in outputs["error"]
    assert "HTTP 502" in outputs["error"]
    assert outputs["android-build-id"]  # the report written first is all there
    assert "::error title=Pull request comment::Could not write the comment" in log
    assert "Retrying the comment on pull request #12" in log  # a 502 is worth another try
    summary = runner.summary_text()
    assert "builds succeeded" in summary
    assert summary.rstrip().endswith("Stand\\-in failure.")  # added after the report
    assert "### ❌ Pull request comment\\: the step failed \\(pr\\-comment\\: always\\)" in summary
    assert "building" in github.comments_on(12)[0].body  # the final edit never arrived
