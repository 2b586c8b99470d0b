"""Wiring: read inputs, mask secrets, validate, build the real clients, run the phases, report.

Nothing here decides anything; each step lives in its own module.
"""

from __future__ import annotations

import contextlib
import os
import traceback
import uuid
from collections.abc import Mapping
from typing import TextIO

import requests

from capwrapper_action.api.client import CapwrapperClient
from capwrapper_action.cancel import Cancellation
from capwrapper_action.config.inputs import read_inputs, secrets_of
from capwrapper_action.config.settings import Config, parse_config
from capwrapper_action.errors import ActionError, CancelledError
from capwrapper_action.ghio import ActionIO, GitHubIO
from capwrapper_action.github.context import GithubFactory, make_github
from capwrapper_action.github.event import GitHubContext, read_event
from capwrapper_action.github.pr_feedback import PullRequestFeedback, make_feedback
from capwrapper_action.github.statuses import WITHOUT_RECORD, CommitRecord
from capwrapper_action.release.pipeline import Deps, execute
from capwrapper_action.release.semver import AUTO
from capwrapper_action.report.settings import describe_settings
from capwrapper_action.result import OK_STATUSES, RunResult, RunStatus
from capwrapper_action.retry import Retrier
from capwrapper_action.timeutil import Clock, RealClock


def main() -> int:
    """The container's entry point: handle SIGINT/SIGTERM (we are PID 1), then run."""
    cancellation = Cancellation()
    cancellation.install()
    try:
        return run(cancellation=cancellation)
    except CancelledError:  # the report is written; a late signal must not print a traceback
        return 1
    finally:
        cancellation.restore()


def run(
    env: Mapping[str, str] | None = None,
    *,
    io: ActionIO | None = None,
    stdout: TextIO | None = None,
    clock: Clock | None = None,
    session: requests.Session | None = None,
    cancellation: Cancellation | None = None,
    github_factory: GithubFactory | None = None,
) -> int:
    env = os.environ if env is None else env
    io = io or GitHubIO(env, stdout)
    raw = read_inputs(env)
    for secret in secrets_of(raw):  # before anything else is printed
        io.mask(secret)
    # One not installed (a test's run): its event is never set and its shield changes nothing.
    cancellation = cancellation or Cancellation()
    cancellation.log = io
    factory = github_factory or make_github
    config: Config | None = None
    feedback: PullRequestFeedback | None = None
    result = RunResult.for_platforms(())
    try:
        try:
            config = _configure(raw, env, io)
            result = RunResult.for_platforms(config.platforms)
            feedback = make_feedback(config, env, io, factory)
            _run_phases(
                config, env, result, io, clock or RealClock(), session, cancellation, factory,
                feedback=feedback,
            )
        except ActionError as err:
            _record_error(result, err)
        except Exception as err:  # a bug: say so briefly; the traceback only in debug mode
            _record_error(result, _unexpected(err, io))
    except CancelledError as err:  # a signal that landed while an error above was recorded
        _record_error(result, err)
    finally:
        written = _report(io, result, config, env, feedback, cancellation)
    return 0 if result.status in OK_STATUSES and written else 1


def _configure(raw: Mapping[str, str], env: Mapping[str, str], io: ActionIO) -> Config:
    """The config, its warnings and the settings logged (outside any group: an error stands
    alone)."""
    config = parse_config(raw, env=env, setting=io.setting)
    for warning in config.warnings:
        io.warning(warning, "Input warning")
    describe_settings(config, io)
    return config


def _report(
    io: ActionIO, result: RunResult, config: Config | None, env: Mapping[str, str],
    feedback: PullRequestFeedback | None, cancellation: Cancellation,
) -> bool:
    """The report written, then the pull request comment (it may be slow: it must never cost
    the outputs and summary), safe from a late signal."""
    with cancellation.shield():
        # Lazy: the report's modules cost ~12-20 ms and are needed only after the builds.
        from capwrapper_action.report.report import report

        written = report(io, result, config, env)
        if feedback is None:
            return written
        return feedback.finish(result, cancelled=cancellation.requested) and written


def _run_phases(
    config: Config,
    env: Mapping[str, str],
    result: RunResult,
    io: ActionIO,
    clock: Clock,
    session: requests.Session | None,
    cancellation: Cancellation,
    github_factory: GithubFactory,
    *,
    feedback: PullRequestFeedback | None,
) -> None:
    ctx = read_event(env)
    result.commit_sha, result.pull_request = ctx.commit_sha, ctx.pull_request
    if config.dry_run:
        # Lazy: ~1 ms that only a dry run needs, before a real run's first request otherwise.
        from capwrapper_action.release.dryrun import describe_requests

        describe_requests(config, io)
        result.status = RunStatus.DRY_RUN
        result.version = None if config.version is AUTO else str(config.version)
        return
    with contextlib.nullcontext(session) if session is not None else requests.Session() as http:
        client = CapwrapperClient(
            config.api_url, config.api_key, session=http, clock=clock, log=io,
            cancel=cancellation.event,
        )
        record = _commit_record(config, ctx, io, github_factory, client.retrier)
        deps = Deps(client, http, clock, cancellation.event, io, _run_key(env), github_factory,
                    record=record, shield=cancellation.shield)
        if feedback is not None:
            feedback.retrier = client.retrier
            deps.on_started = feedback.builds_created
        execute(config, ctx, result, deps)


def _commit_record(
    config: Config, ctx: GitHubContext, io: ActionIO, github_factory: GithubFactory,
    retrier: Retrier,
) -> CommitRecord | None:
    """The commit statuses of this run's commit (only in a GitHub run: repository, commit and
    token known). The GitHub client is made on first use."""
    sha, token = ctx.commit_sha, config.github_token
    if not (ctx.repository and sha and config.bundle_id) or config.resume:
        return None
    if not token.strip():
        io.warning("`github-token` is empty, so the builds are not recorded on the commit. "
                   f"{WITHOUT_RECORD}", "No record on the commit")
        return None
    return CommitRecord(
        lambda: github_factory(ctx.api_url, token).get_repo(ctx.repository).get_commit(sha),
        bundle_id=config.bundle_id, target_url=ctx.run_url, log=io, commit_sha=sha,
        retrier=retrier,
    )


def _run_key(env: Mapping[str, str]) -> str:
    run_id = env.get("GITHUB_RUN_ID")
    if run_id:
        return f"{env.get('GITHUB_REPOSITORY', '')}:{run_id}"
    return f"local:{uuid.uuid4().hex}"


def _record_error(result: RunResult, err: ActionError) -> None:
    result.error = err
    if isinstance(err, CancelledError):
        result.status = RunStatus.CANCELLED
    elif result.status not in (RunStatus.TIMED_OUT, RunStatus.CANCELLED):
        result.status = RunStatus.FAILED


def _unexpected(err: Exception, io: ActionIO) -> ActionError:
    if io.debug_enabled:
        for line in traceback.format_exception(err):
            io.debug(line.rstrip("\n"))
    return ActionError(
        # Scrubbed before the cut: a secret cut in two would be past scrubbing.
        f"Unexpected {type(err).__name__}: {io.scrub(str(err))[:500]}",
        hint=(
            "This is a bug in capwrapper-action. Re-run the job with step debug logging "
            "(secret ACTIONS_STEP_DEBUG=true) for a traceback, and report it."
        ),
        title="Unexpected error",
    )
