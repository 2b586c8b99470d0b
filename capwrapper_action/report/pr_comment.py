"""The pull request's comments: the living comment of a pull request run, and the "released
in" note on the merged pull request of a release run.

Each begins with a hidden marker that holds its kind and the bundle id, so a later run finds
and edits its own comment and a matrix of apps keeps one comment per app. Everything from
outside (the API, the pull request, the inputs) goes through ``markdown`` helpers and renders
as plain text; every field is capped, so a comment stays a few KiB.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from capwrapper_action.github.event import GitHubContext
from capwrapper_action.report import markdown as md
from capwrapper_action.report import summary
from capwrapper_action.report.deploys import deploys_state
from capwrapper_action.result import PlatformState, RunResult, RunStatus

LIVING = "pr-comment"
RELEASED = "released"
_HEADINGS = {**md.HEADINGS, RunStatus.CREATED: ("⏳", "builds created (not waited for)")}
_MARKER_SAFE = re.compile(r"[^A-Za-z0-9._]+")


@dataclass(frozen=True)
class CommentInfo:
    """What the comments show besides the result."""

    bundle_id: str
    platforms: tuple[str, ...] = ()
    app_name: str | None = None
    download_links: bool = False
    deploy_options: Mapping[str, Any] = field(default_factory=dict)


def marker(kind: str, bundle_id: str, platforms: Sequence[str] = ()) -> str:
    """The hidden first line: an HTML comment no bundle id can break out of. The platforms
    are part of it, so that the jobs of a platform matrix do not overwrite each other."""
    key = _MARKER_SAFE.sub("_", bundle_id)[:200] or "_"
    which = ",".join(_MARKER_SAFE.sub("_", p)[:20] for p in platforms)
    listed = f" platforms={which}" if which else ""
    return f"<!-- capwrapper-action:{kind} bundle-id={key}{listed} -->"


def render_living(
    result: RunResult, ctx: GitHubContext, info: CommentInfo, *, in_progress: bool
) -> str:
    """The comment on a pull request run: "building" while it waits, the outcome at the end."""
    symbol, words = ("⏳", "building") if in_progress else md.heading(result.status, _HEADINGS)
    parts = [
        marker(LIVING, info.bundle_id, info.platforms),
        f"### {symbol} Capwrapper: {_subject(result, info)}: {words}",
        _living_table(result, info, in_progress=in_progress),
        _deploy_line(result) if not in_progress else "",
        _error_line(result) if not in_progress else "",
        _links(result, ctx, "Commit"),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def render_released(result: RunResult, ctx: GitHubContext, info: CommentInfo) -> str:
    """The note on the merged pull request: version, each platform, each deploy, the run."""
    parts = [
        marker(RELEASED, info.bundle_id, info.platforms),
        f"### {_released_heading(result, info)}",
        _released_table(result, info),
        _deploy_line(result) if not result.deployed else "",
        _error_line(result),
        _links(result, ctx, "Merge commit"),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _subject(result: RunResult, info: CommentInfo) -> str:
    name = md.text(info.app_name or info.bundle_id, 120)
    return f"{name} {md.text(result.version, 60)}" if result.version else name


def _released_heading(result: RunResult, info: CommentInfo) -> str:
    """Claims no more than the API said: "Released" only when it called every deploy done;
    a ``queued`` deploy was submitted, not released."""
    subject = _subject(result, info)
    if result.status == RunStatus.SUCCESS and result.deployed:
        deploys = [s.deploy for s in result.platforms.values() if s.deploy is not None]
        state = deploys_state(deploys)
        said = ", ".join(dict.fromkeys(md.text(d.status or "no status given", 40)
                                       for d in deploys))
        if state == "accepted":
            return f"🚀 Released in {subject}"
        if state == "failed":
            return f"❌ Release of {subject}: the store did not accept it ({said})"
        return f"📤 {subject}: submitted to the stores ({said})"
    if result.status == RunStatus.SUCCESS:
        return f"✅ Built in {subject}, not deployed"
    symbol, words = md.heading(result.status, _HEADINGS)
    return f"{symbol} Release of {subject}: {words}"


def _living_table(result: RunResult, info: CommentInfo, *, in_progress: bool) -> str:
    overall = "" if in_progress else result.status
    columns: list[summary.Column] = [
        summary.PLATFORM,
        ("Status", lambda s: _status(s, overall)),
        ("Version", lambda s: md.text(s.build.version, 60) if s.build and s.build.version else ""),
        summary.BUILD_ID,
        summary.BUILD_TIME,
        _deploy_column(info),
    ]
    if info.download_links:
        columns.append(("Download", summary.download_cell))
    return summary.platform_table(columns, result.platforms.values())


def _released_table(result: RunResult, info: CommentInfo) -> str:
    columns: list[summary.Column] = [
        summary.PLATFORM,
        ("Result", lambda s: _status(s, result.status)),
        summary.BUILD_ID,
        _deploy_column(info),
    ]
    return summary.platform_table(columns, result.platforms.values())


def _status(state: PlatformState, overall: str) -> str:
    build = state.build
    if build is not None and build.failed:  # with the reason, which the summary shows below
        reason = md.text(build.error or "no reason given", 300)
        return f"❌ {md.text(build.status, 40)}: {reason}"
    return summary.status_cell(state, overall)


def _deploy_column(info: CommentInfo) -> summary.Column:
    """The deploy as the summary words it: its status as the API gave it, and the store,
    track and rollout from the answer or ``deploy-options`` (never guessed)."""
    options = info.deploy_options
    return ("Deploy", lambda s: summary.deploy_text(s.deploy, options) if s.deploy else "")


def _deploy_line(result: RunResult) -> str:
    gate = result.gate
    if gate is None or not gate.requested or result.deployed:
        return ""
    if gate.allowed and result.deploy_attempted:
        return "**Deploy:** ❌ failed; see the run."
    reason = gate.reason.removeprefix("deploy skipped: ").rstrip(". ")
    return f"**Not deployed:** {md.text(reason, 600)}."


def _error_line(result: RunResult) -> str:
    error = result.error
    if error is None:
        return ""
    return f"**{md.text(error.title, 200)}:** {md.text(error.message, 600)}"


def _links(result: RunResult, ctx: GitHubContext, commit_word: str) -> str:
    parts: list[str] = []
    sha = result.commit_sha
    repo_url = md.safe_url(ctx.repository_url)
    if sha and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
        shown = f"`{sha[:7]}`"
        target = f"[{shown}]({repo_url}/commit/{sha})" if repo_url else shown
        parts.append(f"{commit_word} {target}")
    run_url = md.safe_url(ctx.run_url)
    if run_url:
        parts.append(f"[workflow run]({run_url})")
    return " · ".join(parts)
