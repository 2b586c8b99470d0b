"""The record on the commit survives what ends a run early (review findings 3 and 4 of issue
12): a deploy made before a cancel or a failing deploy is recorded, a deploy cut off by a signal
after it was sent is recorded as ``deploy unknown`` (a re-run refuses to deploy it blindly), and
a GitHub blip on the statuses is retried instead of turning the record off for the run, and
so is GitHub's rate limit (a 403 that is no missing permission).
Whole runs against the simulator (virtual time) and the GitHub stand-in.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from capwrapper_action.cancel import Cancellation
from capwrapper_simulator import Fault, ManualClock, SimConfig, Simulator
from tests.github_standin import GitHubStandin, rate_limited
from tests.integration.pipeline_rig import BUNDLE, TOKEN, Pipeline, standin
from tests.runner_files import DEFAULT_REPOSITORY, DEFAULT_SHA

ANDROID = f"capwrapper/android ({BUNDLE})"
IOS = f"capwrapper/ios ({BUNDLE})"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(queue_seconds=20, build_seconds=300), clock=ManualClock()) as running:
        yield running


@pytest.fixture
def github() -> Iterator[GitHubStandin]:
    with standin() as running:
        running.add_token(TOKEN)
        yield running


class SignalDuringDeploy(requests.Session):
    """A SIGINT that lands while the ``nth`` POST /deploys is in flight: the request reached
    the server (which made the deploy), then the handler raises where the main thread is,
    as ``Cancellation`` does (nothing is raised inside its shield)."""

    def __init__(self, cancellation: Cancellation, nth: int) -> None:
        super().__init__()
        self.cancellation, self.nth, self.deploys = cancellation, nth, 0

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        if method == "POST" and str(url).endswith("/deploys"):
            self.deploys += 1
            if self.deploys == self.nth:
                self.cancellation.event.set()
                self.cancellation._handle(signal.SIGINT, None)  # raises CancelledError
        return response


def test_a_cancel_during_the_second_deploy_records_both_and_the_rerun_deploys_none(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    p = Pipeline("cancel during the iOS deploy, then re-run", sim, github, tmp_path)
    cancellation = Cancellation()
    first = p.run("attempt 1 (SIGINT during iOS deploy)", deploy="true",
                  session=SignalDuringDeploy(cancellation, nth=2), cancellation=cancellation)
    assert (first.code, first.outputs["status"]) == (1, "cancelled"), first.log
    assert len(sim.deploys()) == 2  # the server made both
    android, ios = p.statuses()[ANDROID][1], p.statuses()[IOS][1]
    assert f"deploy {first.outputs['android-deploy-id']}" in android
    assert "deploy unknown" in ios
    recorded = first.log.index(f"android: recorded on the commit: success, {android}")
    assert recorded < first.log.index("ios: deploying")  # recorded as soon as it was made
    second = p.run("attempt 2", attempt=2, deploy="true")
    p.finish()
    assert (second.code, second.outputs["status"]) == (1, "failed"), second.log
    assert "may or may not have been made" in second.outputs["error"]
    assert len(sim.deploys()) == 2  # nothing deployed twice
    assert sim.created_count() == 2


def test_a_deploy_whose_answer_was_lost_marks_only_that_platform_unknown(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    sim.faults.add(Fault(endpoint="create_deploy", kind="drop_after_action", times=1))
    p = Pipeline("Android deploy answer lost", sim, github, tmp_path)
    done = p.run("run", deploy="true")
    p.finish()
    assert (done.code, done.outputs["status"]) == (1, "failed"), done.log
    assert "deploy unknown" in p.statuses()[ANDROID][1]
    assert "deploy" not in p.statuses()[IOS][1]  # never sent: a re-run may deploy it


@pytest.mark.parametrize("failing", ["write", "read"])
def test_a_github_blip_on_the_statuses_does_not_lose_the_record(
    sim: Simulator, github: GitHubStandin, tmp_path: Path, failing: str
) -> None:
    # A 502 on the first write is retried; a read failing past PyGithub's two quick GET
    # retries is said once, and every later write still goes out.
    failures = {"write": {"POST": [502]}, "read": {"GET": [502] * 3, "POST": [502]}}
    github.statuses.failures = failures[failing]
    p = Pipeline(f"GitHub 502s on the commit statuses ({failing})", sim, github, tmp_path)
    done = p.run("run", deploy="true")
    p.finish()
    assert done.code == 0, done.log
    warned = done.log.count("::warning title=No record on the commit::")
    assert warned == (1 if failing == "read" else 0), done.log
    if failing == "write":
        assert "Retrying recording android on the commit" in done.log
    assert f"deploy {done.outputs['ios-deploy-id']}" in p.statuses()[IOS][1]
    assert f"deploy {done.outputs['android-deploy-id']}" in p.statuses()[ANDROID][1]
    run_url = f"https://github.com/{DEFAULT_REPOSITORY}/actions/runs/7301234567"
    assert {s.target_url for s in github.statuses.on(DEFAULT_SHA)} == {run_url}  # the run's link


@pytest.mark.parametrize("resets_in", [5, 3600])
def test_a_rate_limited_status_write_keeps_the_record_on(
    sim: Simulator, github: GitHubStandin, tmp_path: Path, resets_in: int
) -> None:
    # GitHub answers an exhausted rate limit with 403: no missing permission. A reset within
    # the record's patience is waited out; a later one is said once, without waiting, and every
    # later write still goes out.
    reset = str(int(time.time()) + resets_in)
    github.statuses.failures = {"POST": [rate_limited(403, {"X-RateLimit-Reset": reset})]}
    p = Pipeline(f"GitHub rate limit on a status write (resets in {resets_in} s)", sim, github,
                 tmp_path)
    done = p.run("run", deploy="true")
    p.finish()
    assert done.code == 0, done.log
    assert "statuses: write" not in done.log
    warnings = [ln for ln in done.log.splitlines() if ln.startswith("::warning title=No record")]
    retried = "Retrying recording android on the commit" in done.log
    if resets_in == 5:
        assert (warnings, retried) == ([], True), done.log
    else:
        (warning,) = warnings
        assert not retried, done.log
        assert "the GitHub API rate limit of this token is exhausted" in warning
        at = datetime.fromtimestamp(int(reset), UTC)
        assert f"It resets at {at:%Y-%m-%d %H:%M:%S} UTC." in warning
        assert "Later changes are still sent to GitHub." in warning
    assert f"deploy {done.outputs['ios-deploy-id']}" in p.statuses()[IOS][1]
    assert f"deploy {done.outputs['android-deploy-id']}" in p.statuses()[ANDROID][1]
