"""Release pipelines that remember (issue 12): re-runs and repeats adopt what the commit already
has, versions never collide, reports never overclaim. Each test is a sequence of whole runs
against one simulator (virtual time) and one GitHub stand-in.

    .venv/bin/python -m pytest tests/integration/test_pipelines.py -q -s

prints the table of every pipeline (exit codes, outputs, what the server holds afterwards)
and writes it to ``.cache/pipelines.md``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from capwrapper_simulator import Fault, ManualClock, PlatformConfig, SimConfig, Simulator
from tests.github_standin import GitHubStandin
from tests.integration.pipeline_rig import (
    BUNDLE,
    PIPELINES,
    TOKEN,
    Pipeline,
    standin,
    table,
)
from tests.runner_files import DEFAULT_SHA

# The table in .cache/pipelines.md gathers every test of this module: one parallel worker runs them.
pytestmark = pytest.mark.xdist_group("pipelines-table")

ROOT = Path(__file__).resolve().parents[2]
MERGE = DEFAULT_SHA
HEAD = "4" * 40
ANDROID = f"capwrapper/android ({BUNDLE})"
IOS = f"capwrapper/ios ({BUNDLE})"


@pytest.fixture(scope="module", autouse=True)
def pipelines_table() -> Iterator[None]:
    PIPELINES.clear()
    yield
    text = table(PIPELINES)
    target = ROOT / ".cache" / "pipelines.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print("\n" + text)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimConfig(queue_seconds=20, build_seconds=300)
    with Simulator(config, clock=ManualClock()) as running:
        yield running


@pytest.fixture
def github() -> Iterator[GitHubStandin]:
    with standin() as running:
        running.add_token(TOKEN)
        yield running


def pipeline(name: str, sim: Simulator, github: GitHubStandin, tmp_path: Path) -> Pipeline:
    return Pipeline(name, sim, github, tmp_path)


# -- re-runs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.0.42", "auto"])
def test_rerun_after_a_timeout_adopts_the_builds_still_running(
    sim: Simulator, github: GitHubStandin, tmp_path: Path, version: str
) -> None:
    p = pipeline(f"re-run after a timeout, version {version}", sim, github, tmp_path)
    first = p.run("attempt 1 (timeout 2m)", version=version, timeout="2m")
    assert (first.code, first.outputs["status"]) == (1, "timed_out")
    assert "Timed out" in first.outputs["error"]
    assert p.statuses()[ANDROID][0] == "pending"
    second = p.run("attempt 2", attempt=2, version=version)
    p.finish()
    assert (second.code, second.outputs["status"]) == (0, "success"), second.log
    assert second.outputs["version"] == first.outputs["version"]
    assert (second.outputs["android-reused"], second.outputs["ios-reused"]) == ("true", "true")
    assert second.outputs["android-build-id"] == first.outputs["android-build-id"]
    assert sim.created_count() == 2
    assert f"adopting {first.outputs['ios-build-id']}" in second.log
    assert "adopted: made by an earlier run" in second.summary
    state, description = p.statuses()[IOS]
    assert state == "success"
    expected = f"{first.outputs['version']} · build {first.outputs['ios-build-id']}"
    assert description.startswith(expected)


def test_rerun_after_one_platform_failed_rebuilds_only_that_one(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    p = pipeline("re-run after iOS failed (auto, deploy)", sim, github, tmp_path)
    sim.config.platforms = {"ios": PlatformConfig(outcome="failed", failure_message="No icon")}
    first = p.run("attempt 1 (iOS fails)", deploy="true")
    assert (first.code, first.outputs["status"]) == (1, "failed")
    assert "ios build" in first.outputs["error"]
    assert "No icon" in first.outputs["error"]
    assert p.statuses()[IOS][0] == "failure"
    sim.config.platforms = {}
    second = p.run("attempt 2", attempt=2, deploy="true")
    p.finish()
    assert (second.code, second.outputs["status"]) == (0, "success"), second.log
    assert (second.outputs["android-reused"], second.outputs["ios-reused"]) == ("true", "false")
    assert second.outputs["version"] == "1.0.0, 1.0.1"
    assert "building it again at the next version" in second.log
    assert sim.created_count("android") == 1
    assert sim.created_count("ios") == 2
    assert len(sim.deploys()) == 2


def test_rerun_after_a_deploy_deploys_nothing_again(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=MERGE, merged=True)
    p = pipeline("re-run after a deploy (labels)", sim, github, tmp_path)
    given = {"deploy": "true", "deploy-labels": "release", "deploy-options": "track: beta"}
    first = p.run("attempt 1", inputs=given)
    assert first.code == 0, first.log
    assert "carries the label release" in first.log
    assert "submitted to the store, queued (track: beta)" in first.log
    assert "submitted to the store, queued (track: beta)" in first.summary
    second = p.run("attempt 2", attempt=2, inputs=given)
    p.finish()
    assert second.code == 0, second.log
    assert len(sim.deploys()) == 2
    assert second.outputs["deployed"] == "true"
    assert second.outputs["android-deploy-id"] == first.outputs["android-deploy-id"]
    assert "already deployed as" in second.log
    assert "by an earlier run" in second.log
    assert "deploy " + first.outputs["ios-deploy-id"] in p.statuses()[IOS][1]


# -- versions that never collide ------------------------------------------------------------


def test_two_racing_runs_never_share_a_version(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    """Two merges a minute apart: two runs (two commits) resolve `auto` at once."""
    p = pipeline("two racing runs (auto, two commits)", sim, github, tmp_path)
    shas = {"run A": "a" * 40, "run B": "b" * 40}
    done: dict[str, int] = {}

    def one(label: str, run_id: str) -> None:
        done[label] = p.run(label, run_id=run_id, sha=shas[label]).code

    threads = [threading.Thread(target=one, args=(label, str(n)))
               for n, label in enumerate(shas, start=1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    p.finish()
    assert done == {"run A": 0, "run B": 0}, [r.log for r in p.runs]
    versions = {(b.platform, b.record.version) for b in sim.builds(seeded=False)}
    outputs = sorted(r.outputs["version"] for r in p.runs)
    assert outputs == ["1.0.0", "1.0.1"], [r.log for r in p.runs]
    assert len(versions) == 4, [r.log for r in p.runs]  # two per platform, none twice


def test_a_version_taken_meanwhile_is_resolved_again(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    sim.faults.add(Fault(endpoint="create_build", kind="version_taken", times=2,
                         body='{"appName": "Another run"}'))
    p = pipeline("version taken twice meanwhile (auto)", sim, github, tmp_path)
    done = p.run("run")
    p.finish()
    assert done.code == 0, done.log
    assert done.outputs["version"] == "1.0.2"
    assert done.log.count("took version") == 2
    assert "another build (bld_" in done.log


def test_a_pinned_version_taken_meanwhile_with_the_same_settings_is_adopted_once(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    # Another run of the same release (same settings) creates the build first: this run adopts
    # it instead of refusing, and goes on to the next platform (it once sent the create again
    # and again).
    sim.faults.add(Fault(endpoint="create_build", kind="version_taken", times=1))
    p = pipeline("pinned version taken meanwhile, same settings", sim, github, tmp_path)
    done = p.run("run", version="2.0.7")
    p.finish()
    assert done.code == 0, done.log
    assert done.outputs["version"] == "2.0.7"
    assert done.log.count("adopting it") == 1, done.log
    assert sim.request_count("create_build") == 2  # the refused one (adopted), then iOS
    assert len({b.record.id for b in sim.builds(seeded=False)}) == 2


def test_a_history_many_pages_deep_behind_link_headers(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    sim.config.list_shape = "link"
    sim.seed_build(platform="android", bundle_id=BUNDLE, version="3.4.1", finished_ago=90_000)
    sim.seed_build(platform="ios", bundle_id=BUNDLE, version="3.4.0", finished_ago=90_000)
    for n in range(260):  # newer builds of other apps on the same key
        sim.seed_build(platform="android", bundle_id=f"com.other.app{n}", version="9.0.0",
                       finished_ago=1000 + n)
    p = pipeline("history 3 pages deep (Link header)", sim, github, tmp_path)
    done = p.run("run")
    p.finish()
    assert done.code == 0, done.log
    assert done.outputs["version"] == "3.4.2"
    assert sim.request_count("list_builds") >= 3


def test_a_history_past_the_page_cap_fails_instead_of_guessing(
    github: GitHubStandin, tmp_path: Path
) -> None:
    config = SimConfig(queue_seconds=20, build_seconds=300, default_page_size=2, max_page_size=2)
    with Simulator(config, clock=ManualClock()) as sim:
        for n in range(120):
            sim.seed_build(platform="ios", bundle_id=f"com.other.app{n}", version="1.0.0")
        p = pipeline("history past the page cap (auto)", sim, github, tmp_path)
        done = p.run("run")
        p.finish()
        assert (done.code, sim.created_count()) == (1, 0)
    assert "did not reach it" in done.outputs["error"]
    assert "Pin `version`" in done.outputs["error"]


def test_preflight_creates_nothing_when_one_platform_would_refuse(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    sim.seed_build(platform="android", bundle_id=BUNDLE, version="1.9.0")
    sim.seed_build(platform="ios", bundle_id=BUNDLE, version="2.0.1")
    p = pipeline("pre-flight: iOS is past the version", sim, github, tmp_path)
    done = p.run("run", version="2.0.0")
    p.finish()
    assert (done.code, sim.created_count()) == (1, 0)
    assert "ios already has version 2.0.1" in done.outputs["error"]
    assert "android" not in done.outputs["error"].split("refused:")[1].split(".")[0]


def test_settings_that_differ_fail_before_any_create(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    p = pipeline("repeat with other settings", sim, github, tmp_path)
    first = p.run("run 1 (wait: false)", wait="false")
    assert first.outputs["status"] == "created"
    second = p.run("run 2: other app-name", inputs={"app-name": "Shop Two", "wait": "false"})
    assert second.code == 1
    assert "app-name" in second.outputs["error"]
    assert "Nothing was created" in second.outputs["error"]
    third = p.run("run 3: rebuild: true", inputs={"app-name": "Shop Two", "rebuild": "true"})
    p.finish()
    assert third.code == 0, third.log
    assert third.outputs["version"] == "1.0.1"
    assert sim.created_count() == 4


# -- tokens without a permission ------------------------------------------------------------


def test_a_token_without_statuses_write_warns_once_and_goes_on(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    github.tokens.clear()
    github.add_token(TOKEN, can_write_statuses=False)
    p = pipeline("token without statuses: write (auto)", sim, github, tmp_path)
    first = p.run("attempt 1")
    assert first.code == 0, first.log
    assert first.log.count("::warning title=No record on the commit::") == 1
    assert "statuses: write" in first.log
    assert "re-run" in first.log
    second = p.run("attempt 2", attempt=2)
    p.finish()
    assert second.code == 0
    assert second.outputs["version"] == "1.0.1"  # as the warning said: no record, new builds
    assert github.statuses.on(DEFAULT_SHA) == []


def test_a_token_without_pull_requests_read_fails_the_gate(
    sim: Simulator, github: GitHubStandin, tmp_path: Path
) -> None:
    github.tokens.clear()
    github.add_token(TOKEN, can_read_pulls=False)
    p = pipeline("token without pull-requests: read", sim, github, tmp_path)
    done = p.run("run", inputs={"deploy": "true", "deploy-labels": "release"})
    p.finish()
    assert (done.code, done.outputs["status"]) == (1, "failed")
    assert "::error title=Cannot read the pull request labels::" in done.log
    assert "pull-requests: read" in done.outputs["error"]
    assert (done.outputs["android-status"], done.outputs["ios-status"]) == ("success", "success")
    assert sim.deploys() == []
    assert p.statuses()[ANDROID][0] == "success"  # the builds are still recorded
