"""The end of every run, whatever ended it: annotations, step outputs and the job summary.

At most a few annotations per run (the runner keeps ten per type): one for the error that ended
the run, or one per failed build.
"""

from __future__ import annotations

from collections.abc import Mapping

from capwrapper_action.api.models import Build, BuildStatus
from capwrapper_action.config.settings import Config
from capwrapper_action.errors import ResultFileError
from capwrapper_action.ghio import ActionIO, Setting
from capwrapper_action.report import markdown as md
from capwrapper_action.report.outputs import build_outputs
from capwrapper_action.report.summary import (
    NOT_CANCELLED_REMOTELY,
    SummaryOptions,
    render_summary,
    resume_input,
)
from capwrapper_action.result import RunResult, RunStatus


def report(
    io: ActionIO, result: RunResult, config: Config | None, env: Mapping[str, str]
) -> bool:
    """Annotate, write the outputs and the summary; False when a file could not be written
    (the other one is written all the same, and an error annotation says which and why)."""
    result.resume_hint = result.resume_hint or resume_input(result, io.setting)
    annotate(io, result)  # outside any group, where a reader sees it first
    problems: list[ResultFileError] = []
    with io.group("Report"):
        try:
            io.set_outputs(build_outputs(result))
        except ResultFileError as err:
            problems.append(err)
        if config is None or config.summary:
            try:
                io.write_summary(render_summary(result, summary_options(config, env, io.setting)))
            except ResultFileError as err:
                problems.append(err)
        io.info(f"status: {result.status}")
    for problem in problems:  # outside the group too
        io.error(str(problem), problem.title)
    return not problems


def amend(
    io: ActionIO, result: RunResult, title: str, text: str, *, failed: bool, summary: bool
) -> bool:
    """Add what went wrong after ``report`` (the pull request comment is written last, so a
    slow GitHub API cannot cost the report): the outputs ``status`` and ``error`` again (the
    runner keeps the last value of a name) when ``failed``, and a block in the job summary.
    False when a file could not be written."""
    written = True
    try:
        if failed:
            outputs = build_outputs(result)
            io.set_outputs({name: outputs[name] for name in ("status", "error")})
    except ResultFileError as err:
        io.error(str(err), err.title)
        written = False
    try:
        if summary:
            symbol = "❌" if failed else "⚠️"
            said = md.text(text, 1000, line_start=True)
            io.write_summary(f"### {symbol} {md.text(title, 200)}\n\n{said}\n\n")
    except ResultFileError as err:
        io.error(str(err), err.title)
        written = False
    if failed:
        io.info(f"status: {result.status}")
    return written


def annotate(io: ActionIO, result: RunResult) -> None:
    err = result.error
    if result.status in (RunStatus.TIMED_OUT, RunStatus.CANCELLED):
        what = "Timed out" if result.status == RunStatus.TIMED_OUT else "Cancelled"
        detail = err.message if err is not None else f"{what} while waiting for the builds."
        resume = f" Resume with `{result.resume_hint}`." if result.resume_hint else ""
        io.error(f"{detail} {NOT_CANCELLED_REMOTELY}{resume}", what)
        return
    if err is not None:
        io.error(str(err), err.title)
        return
    for state in result.platforms.values():
        if state.build is not None and state.build.failed:
            label = md.PLATFORM_LABELS.get(state.platform, state.platform)
            reason = failure_reason(state.build)
            io.error(f"{label} build {state.build.id} failed: {reason}", f"{label} build failed")


def summary_options(
    config: Config | None, env: Mapping[str, str], setting: Setting
) -> SummaryOptions:
    return SummaryOptions(
        app_name=config.app_name if config else None,
        include_download_links=config.summary_download_links if config else False,
        server_url=env.get("GITHUB_SERVER_URL", "https://github.com"),
        repository=env.get("GITHUB_REPOSITORY", ""),
        deploy_options=config.deploy_options if config else {},
        setting=setting,
    )


def failure_reason(build: Build) -> str:
    """Why ``build`` failed: its ``error``, and its status when that is not ``failed``."""
    reason = build.error or "Capwrapper gave no reason"
    if build.status == BuildStatus.FAILED:
        return reason
    return f"it ended with status '{build.status}'" + (f": {build.error}" if build.error else "")
