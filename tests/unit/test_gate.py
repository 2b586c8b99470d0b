"""The deploy gate: each rule, and reasons a person can act on."""

from __future__ import annotations

from dataclasses import dataclass

from capwrapper_action.api.models import Build, Platform
from capwrapper_action.github.event import SOURCE_API, SOURCE_PAYLOAD, GitHubContext
from capwrapper_action.github.gate import decide_deploy
from capwrapper_action.result import PlatformState

SHA = "d" * 40


@dataclass(frozen=True)
class GateConfig:
    deploy: bool = True
    deploy_labels: tuple[str, ...] = ()
    platforms: tuple[Platform, ...] = ("android", "ios")


def ctx(pull_request: int | None = 12, labels: tuple[str, ...] = (),
        source: str = SOURCE_API) -> GitHubContext:
    return GitHubContext(
        event_name="push", repository="octo-org/shop-app", server_url="https://github.com",
        api_url="https://api.github.com", commit_sha=SHA, pull_request=pull_request,
        labels=labels, labels_source=source, from_fork=False, warnings=(),
    )


def states(android: str | None = "success", ios: str | None = "success"
           ) -> dict[Platform, PlatformState]:
    wanted: tuple[tuple[Platform, str | None], ...] = (("android", android), ("ios", ios))
    out: dict[Platform, PlatformState] = {}
    for platform, status in wanted:
        build = Build(id=f"bld_{platform}", status=status) if status else None
        out[platform] = PlatformState(platform, build=build)
    return out


def test_not_requested() -> None:
    decision = decide_deploy(GateConfig(deploy=False), states(), ctx())
    assert (decision.requested, decision.allowed) == (False, False)
    assert decision.reason == "deploy not requested (set `deploy: true`)"


def test_allowed_without_label_gate() -> None:
    decision = decide_deploy(GateConfig(), states(), ctx(labels=("docs",)))
    assert (decision.requested, decision.allowed) == (True, True)
    assert decision.reason == "deploy allowed: the android and ios builds succeeded"
    assert (decision.labels, decision.labels_source) == ((), "")


def test_a_failed_platform_blocks_the_deploy_of_the_other() -> None:
    decision = decide_deploy(GateConfig(), states(ios="failed"), ctx())
    assert not decision.allowed
    assert decision.reason == (
        "deploy skipped: the ios build bld_ios failed, and a deploy needs every requested "
        "platform to succeed"
    )


def test_unfinished_and_missing_builds_are_named() -> None:
    decision = decide_deploy(GateConfig(), states(android="building", ios=None), ctx())
    assert not decision.allowed
    assert "the android build bld_android has not finished (status: building)" in decision.reason
    assert "no ios build was made" in decision.reason


def test_only_the_platforms_in_the_run_count() -> None:
    only_android: dict[Platform, PlatformState] = {"android": states()["android"]}
    decision = decide_deploy(GateConfig(), only_android, ctx())
    assert decision.allowed
    assert decision.reason == "deploy allowed: the android build succeeded"


def test_label_present() -> None:
    config = GateConfig(deploy_labels=("release", "ship"))
    decision = decide_deploy(config, states(), ctx(labels=("docs", "ship")))
    assert decision.allowed
    assert decision.reason == (
        "deploy allowed: the android and ios builds succeeded and pull request #12 carries "
        "the label ship"
    )
    assert (decision.labels, decision.labels_source) == (("docs", "ship"), SOURCE_API)


def test_label_absent() -> None:
    config = GateConfig(deploy_labels=("release", "ship"))
    decision = decide_deploy(config, states(), ctx(labels=("docs",)))
    assert (decision.requested, decision.allowed) == (True, False)
    assert decision.reason == (
        "deploy skipped: pull request #12 has none of the labels release, ship (it has: docs)"
    )


def test_label_absent_and_no_labels_at_all_read_from_the_payload() -> None:
    config = GateConfig(deploy_labels=("release",))
    decision = decide_deploy(config, states(), ctx(labels=(), source=SOURCE_PAYLOAD))
    assert decision.reason == (
        "deploy skipped: pull request #12 has none of the labels release "
        "(it has no labels, as read from the event payload)"
    )


def test_labels_compare_case_insensitively() -> None:
    config = GateConfig(deploy_labels=("Release",))
    decision = decide_deploy(config, states(), ctx(labels=("RELEASE",)))
    assert decision.allowed
    assert decision.reason.endswith("carries the label RELEASE")


def test_no_pull_request_means_no_deploy_and_says_so() -> None:
    config = GateConfig(deploy_labels=("release",))
    decision = decide_deploy(config, states(), ctx(pull_request=None))
    assert not decision.allowed
    assert decision.reason == (
        "deploy skipped: `deploy-labels` is set (release) but no pull request produced "
        f"commit {SHA[:12]} (event: push)"
    )


def test_every_failing_rule_is_named() -> None:
    config = GateConfig(deploy_labels=("release",))
    decision = decide_deploy(config, states(android="failed"), ctx(labels=("docs",)))
    assert decision.reason.startswith("deploy skipped: the android build bld_android failed")
    assert "; pull request #12 has none of the labels release (it has: docs)" in decision.reason


def test_the_hint_speaks_the_front_end_s_words() -> None:
    import io

    from capwrapper_action.ghio import ActionIO

    cli = ActionIO(io.StringIO()).setting
    decision = decide_deploy(GateConfig(deploy=False), states(), ctx(), setting=cli)
    assert decision.reason == "deploy not requested (set `--deploy true`)"
