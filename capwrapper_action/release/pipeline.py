"""The phases of one run, in order: create (or resume), wait, pull request, deploy, download.

Each phase records what it learnt into the ``RunResult`` before it can fail, so that the
report written afterwards holds everything known at that point. Clients are built in
``main`` and passed in here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from capwrapper_action import result as R
from capwrapper_action.api.client import CapwrapperClient
from capwrapper_action.api.models import PLATFORMS, Build, Platform
from capwrapper_action.config.settings import Config
from capwrapper_action.errors import ActionError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.github.context import GithubFactory, enrich, with_commit_message
from capwrapper_action.github.event import SOURCE_API, SOURCE_PAYLOAD, GitHubContext
from capwrapper_action.github.statuses import CommitRecord
from capwrapper_action.release.building import filled_options
from capwrapper_action.release.create_phase import create_builds, optional_history, record
from capwrapper_action.release.placeholders import PULL_NAMES, used
from capwrapper_action.result import RunStatus
from capwrapper_action.timeutil import Clock, format_duration


@dataclass
class Deps:
    """What a run talks to, built once in ``main`` (tests pass fakes or loopback servers)."""

    client: CapwrapperClient
    session: requests.Session
    clock: Clock
    cancel: threading.Event
    io: ActionIO
    run_key: str  # stable per workflow run: the base of every Idempotency-Key
    github_factory: GithubFactory | None = None
    # Told once the builds exist and the pull request is known (the pull request comment).
    on_started: Callable[[R.RunResult, GitHubContext], None] | None = None
    record: CommitRecord | None = None  # the commit statuses; None outside a GitHub run
    deadline: float | None = None  # on ``clock.now()``: the run's start plus ``timeout``
    # Inside it a signal raises nothing (``Cancellation.shield``): the record after a cancel.
    shield: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext

    def deadline_after_wait(self) -> float:
        """The deadline of a phase after the wait (deploy, download): the step's, but at
        least the retry policy's outage budget from now, so that builds that took most of
        ``timeout`` still get deployed and downloaded through a 5-minute outage."""
        floor = self.clock.now() + self.client.retrier.policy.budget_seconds
        return floor if self.deadline is None else max(self.deadline, floor)


def execute(config: Config, ctx: GitHubContext, result: R.RunResult, deps: Deps) -> None:
    if deps.deadline is None:  # one deadline for the creates, the history and the wait
        deps.deadline = deps.clock.now() + config.timeout
    try:
        _phases(config, ctx, result, deps)
    finally:
        _note_unreachable(result, deps)


def _note_unreachable(result: R.RunResult, deps: Deps) -> None:
    seconds = deps.client.retrier.unreachable_seconds()
    result.unreachable_seconds = seconds
    if seconds >= 1:
        note = (f"The Capwrapper API could not be reached for {format_duration(seconds)} in "
                "total during this run; requests were retried as the retry policy allows.")
        result.notes.append(note)
        deps.io.info(note)


def _phases(config: Config, ctx: GitHubContext, result: R.RunResult, deps: Deps) -> None:
    started = deps.clock.wall()
    history: list[Build] = []
    if _needs_github_now(config.build_options, ctx):
        ctx = pull_request_context(config, ctx, result, deps)  # build-options need it now
    with deps.io.group("Create builds" if not config.resume else "Resume builds"):
        if config.resume:
            resume_builds(config, result, deps)
        else:
            history = create_builds(config, result, deps, started, ctx)
    ctx = pull_request_context(config, ctx, result, deps)
    if deps.on_started is not None:
        deps.on_started(result, ctx)
    if config.wait:
        with deps.io.group("Wait for builds"):
            result.status = wait(config, result, deps, history)
            record(config, result, deps)
    else:  # then deploy is false too (an input rule): only the gate is told
        result.status = RunStatus.CREATED
    if result.status == RunStatus.SUCCESS:
        deploy_phase(config, ctx, result, deps)
        download_phase(config, result, deps)
    else:
        result.gate = _gate(config, ctx, result, deps.io)


def _needs_github_now(options: Mapping[str, Any], ctx: GitHubContext) -> bool:
    """Whether ``options`` use placeholders that only the GitHub API can fill yet."""
    names = used(options)
    pull = ctx.pull_request is None and bool(names & PULL_NAMES)
    return pull or (ctx.commit_message is None and "commit.message" in names)


def resume_builds(config: Config, result: R.RunResult, deps: Deps) -> None:
    states: dict[Platform, R.PlatformState] = {}
    for ref in config.resume:
        build = deps.client.get_build(ref.build_id)
        platform = ref.platform or _platform_of(build)
        states[platform] = R.PlatformState(platform, build=build)
        deps.io.info(f"{platform}: resuming {build.id} ({build.status})")
    result.platforms = states
    versions = {b.version for b in result.builds if b.version}
    result.version = ", ".join(sorted(versions)) or None


def _platform_of(build: Build) -> Platform:
    for platform in PLATFORMS:
        if build.platform == platform:
            return platform
    raise ActionError(
        f"Build {build.id} has no known platform ({build.platform!r}).",
        hint="Name the platform in 'build-id', for example `android:bld_abc123`.",
        title="Cannot resume",
    )


def wait(
    config: Config, result: R.RunResult, deps: Deps, history: list[Build]
) -> RunStatus:
    # Lazy: the waiting modules cost ~25-35 ms, needed only after the builds are created.
    from capwrapper_action.wait.polling import history_durations, make_strategy
    from capwrapper_action.wait.waiting import wait_for_builds

    if not history and config.poll_interval is None and config.resume:
        history = optional_history(deps)
    left = config.timeout if deps.deadline is None else max(0.0, deps.deadline - deps.clock.now())
    strategies = {}
    for platform, state in result.platforms.items():
        bundle = (state.build.bundle_id if state.build else None) or config.bundle_id
        durations = history_durations(history, bundle_id=bundle, platform=platform)
        strategies[platform] = make_strategy(config.poll_interval, durations)
    return wait_for_builds(
        deps.client,
        result.platforms,
        timeout=left,
        queue_timeout=config.queue_timeout,
        strategies=strategies,
        clock=deps.clock,
        cancel=deps.cancel,
        log=deps.io,
        retrier=deps.client.retrier,
    )


def pull_request_context(
    config: Config, ctx: GitHubContext, result: R.RunResult, deps: Deps
) -> GitHubContext:
    if ctx.repository:  # a GitHub run; enrich says itself why it could not ask the API
        with deps.io.group("Pull request"):
            need_labels = config.deploy and bool(config.deploy_labels)
            ctx = enrich(
                ctx, token=config.github_token, need_labels=need_labels,
                github_factory=deps.github_factory, retrier=deps.client.retrier,
            )
            ctx = _commit_message(config, ctx, deps)
            deps.io.info(_pull_request_line(ctx))
    for warning in ctx.warnings:
        if warning in result.notes:
            continue  # said by an earlier look-up in this run
        deps.io.warning(warning, "GitHub context")
        result.notes.append(warning)
    result.commit_sha = ctx.commit_sha
    result.pull_request = ctx.pull_request
    return ctx


def _commit_message(config: Config, ctx: GitHubContext, deps: Deps) -> GitHubContext:
    wanted = used(config.build_options) | used(config.deploy_options)
    if "commit.message" not in wanted or ctx.commit_message is not None:
        return ctx
    ctx, why = with_commit_message(
        ctx, token=config.github_token, github_factory=deps.github_factory
    )
    if why:
        deps.io.info(f"Could not read the commit message from the GitHub API: {why}.")
    return ctx


def _pull_request_line(ctx: GitHubContext) -> str:
    commit = f"commit {ctx.commit_sha[:7]}" if ctx.commit_sha else "this run"
    if ctx.pull_request is None:
        return f"no pull request found for {commit}"
    shown = ", ".join(label[:50] for label in ctx.labels[:20]) or "none"
    source = {SOURCE_API: " (from the GitHub API)", SOURCE_PAYLOAD: " (from the event)"}
    where = source.get(ctx.labels_source, "")
    return f"pull request #{ctx.pull_request} for {commit}; labels{where}: {shown}"


def _gate(
    config: Config, ctx: GitHubContext, result: R.RunResult, io: ActionIO
) -> R.GateDecision:
    from capwrapper_action.github.gate import decide_deploy  # lazy: ~2 ms, after the builds

    return decide_deploy(config, result.platforms, ctx, setting=io.setting)


def deploy_phase(config: Config, ctx: GitHubContext, result: R.RunResult, deps: Deps) -> None:
    decision = _gate(config, ctx, result, deps.io)
    result.gate = decision
    if not decision.requested:
        return
    with deps.io.group("Deploy"):
        if ctx.labels_error and config.deploy_labels:  # a gate that cannot see decides nothing
            result.gate = R.GateDecision(True, False, f"deploy skipped: {ctx.labels_error}")
            raise ActionError(ctx.labels_error, hint=ctx.labels_hint,
                              title="Cannot read the pull request labels")
        if not decision.allowed:
            deps.io.notice(decision.reason, "Deploy skipped")
            return
        deps.io.info(decision.reason)
        _refuse_unknown_deploys(result)
        from capwrapper_action.release.deploying import deploy_builds  # lazy: ~2-5 ms

        result.deploy_attempted = True
        options = filled_options(
            config.deploy_options, "deploy-options", ctx, result.version, deps.io
        )
        try:
            deploy_builds(deps.client, result.platforms, options, run_key=deps.run_key,
                          log=deps.io, deadline=deps.deadline_after_wait(),
                          on_deployed=lambda: record(config, result, deps))
        finally:  # whatever ends the phase: every deploy made (or maybe made) is recorded
            with deps.shield():
                record(config, result, deps)


def _refuse_unknown_deploys(result: R.RunResult) -> None:
    names = ", ".join(f"{s.platform} {s.build.id}" for s in result.platforms.values()
                      if s.deploy_unknown and s.build)
    if not names:
        return
    raise ActionError(
        f"An earlier run recorded on this commit that the deploy of {names} may or may not "
        "have been made (its answer was lost). Not deploying again.",
        hint="Check the deploys on the Capwrapper dashboard; deploy by hand if none was made, "
             "or set `rebuild: true` to release new builds.",
        title="Deploy outcome unknown",
    )


def download_phase(config: Config, result: R.RunResult, deps: Deps) -> None:
    if not config.download:
        return
    from capwrapper_action.release.download import download_artifacts  # lazy: ~6-7 ms
    from capwrapper_action.release.fetching import Fetcher

    with deps.io.group("Download binaries"):
        fetcher = Fetcher(deps.session, deps.clock, deps.cancel, deps.io, deps.client.retrier,
                          deadline=deps.deadline_after_wait())
        download_artifacts(fetcher, result.platforms, dest_dir=config.download_path,
                           app_name=config.app_name or "app", version=result.version or "unknown",
                           workspace=config.workspace)
