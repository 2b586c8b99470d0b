"""The deploy gate: whether the finished builds go to the stores, and a reason a person acts on.

Rules, all of which must hold:

1. ``deploy`` is true.
2. Every requested platform has a build that succeeded (a release with Android but without iOS
   is rarely wanted).
3. When ``deploy-labels`` is set, the pull request that produced the commit carries at least one
   of them (compared case-insensitively). Without a pull request there is nothing to check, so
   no deploy.

When several rules fail the reason names each of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from capwrapper_action.api.models import BuildStatus, Platform
from capwrapper_action.ghio import Setting, workflow_setting
from capwrapper_action.github.event import SOURCE_PAYLOAD, GitHubContext
from capwrapper_action.result import GateDecision, PlatformState


class GateConfig(Protocol):
    """The part of ``config.Config`` the gate reads."""

    @property
    def deploy(self) -> bool: ...
    @property
    def deploy_labels(self) -> tuple[str, ...]: ...
    @property
    def platforms(self) -> tuple[Platform, ...]: ...


def decide_deploy(
    config: GateConfig,
    states: Mapping[Platform, PlatformState],
    ctx: GitHubContext,
    *,
    setting: Setting = workflow_setting,
) -> GateDecision:
    """Apply the rules above to the builds in ``states`` and the pull request in ``ctx``.

    The requested platforms are the keys of ``states`` (the resumed ones when resuming), else
    ``config.platforms``."""
    labels, source = (ctx.labels, ctx.labels_source) if config.deploy_labels else ((), "")
    if not config.deploy:
        reason = f"deploy not requested (set `{setting('deploy', 'true')}`)"
        return GateDecision(False, False, reason, labels, source)
    platforms = tuple(states) or config.platforms
    label_problem, matched = _label_check(config.deploy_labels, ctx)
    blockers = [text for text in (_builds_problem(platforms, states), label_problem) if text]
    if blockers:
        return GateDecision(True, False, "deploy skipped: " + "; ".join(blockers), labels, source)
    reason = _allowed_reason(platforms, ctx, matched)
    return GateDecision(True, True, reason, labels, source)


def _builds_problem(
    platforms: tuple[Platform, ...], states: Mapping[Platform, PlatformState]
) -> str:
    """Which requested builds did not succeed, as one clause; empty when all did."""
    failed = [text for p in platforms if (text := _build_failure(p, states.get(p)))]
    if not failed:
        return ""
    return " and ".join(failed) + ", and a deploy needs every requested platform to succeed"


def _build_failure(platform: Platform, state: PlatformState | None) -> str:
    build = state.build if state else None
    if build is None:
        return f"no {platform} build was made"
    if build.status == BuildStatus.SUCCESS:
        return ""
    if build.status == BuildStatus.FAILED:
        return f"the {platform} build {build.id} failed"
    if build.failed:
        return f"the {platform} build {build.id} ended with status '{build.status}'"
    return f"the {platform} build {build.id} has not finished (status: {build.status})"


def _label_check(wanted: tuple[str, ...], ctx: GitHubContext) -> tuple[str, str]:
    """``(problem, the label that matched)``; both empty when there is no label gate."""
    if not wanted:
        return "", ""
    names = ", ".join(wanted)
    if ctx.pull_request is None:
        commit = f"commit {ctx.commit_sha[:12]}" if ctx.commit_sha else "this run"
        return (
            f"`deploy-labels` is set ({names}) but no pull request produced {commit} "
            f"(event: {ctx.event_name or 'unknown'})",
            "",
        )
    have = {label.casefold(): label for label in ctx.labels}
    matched = next((have[w.casefold()] for w in wanted if w.casefold() in have), None)
    if matched is not None:
        return "", matched
    carried = f"it has: {', '.join(ctx.labels)}" if ctx.labels else "it has no labels"
    return (
        f"pull request #{ctx.pull_request} has none of the labels {names} "
        f"({carried}{_source_note(ctx)})",
        "",
    )


def _source_note(ctx: GitHubContext) -> str:
    return ", as read from the event payload" if ctx.labels_source == SOURCE_PAYLOAD else ""


def _allowed_reason(platforms: tuple[Platform, ...], ctx: GitHubContext, matched: str) -> str:
    builds = f"the {' and '.join(platforms)} build{'s' if len(platforms) > 1 else ''} succeeded"
    if not matched:
        return f"deploy allowed: {builds}"
    return (
        f"deploy allowed: {builds} and pull request "
        f"#{ctx.pull_request} carries the label {matched}{_source_note(ctx)}"
    )
