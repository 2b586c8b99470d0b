"""The job summary: what happened, in one screen of Markdown.

Everything that came from the API, the event or the inputs goes through ``markdown`` helpers,
so it renders as plain text; only the words written here are Markdown. Every field is capped,
so the whole summary stays a few KiB whatever the server sends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from capwrapper_action.api.models import BuildStatus, Deploy
from capwrapper_action.errors import ConfigError
from capwrapper_action.ghio import Setting, workflow_setting
from capwrapper_action.report import markdown as md
from capwrapper_action.report.deploys import deploy_details, deploy_status_text
from capwrapper_action.result import PlatformState, RunResult, RunStatus
from capwrapper_action.timeutil import format_duration

MAX_NOTES = 20
MAX_LABELS = 20
_BUILD_FAILED_HINT = (
    "Fix what Capwrapper reports above, then re-run the job. A new build needs a higher "
    "version than the failed one; `{auto}` picks it by itself."
)
NOT_CANCELLED_REMOTELY = (
    "The builds keep running on Capwrapper: its API has no cancel endpoint, so nothing was "
    "cancelled there."
)
RESUME_LABEL = "Re-run the step with this input to wait for the same builds:"
_STOPPED = (RunStatus.TIMED_OUT, RunStatus.CANCELLED)
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
Column = tuple[str, Callable[[PlatformState], str]]  # a table's header, and its cell per platform
PLATFORM: Column = ("Platform", lambda s: md.platform_label(s.platform))
BUILD_ID: Column = ("Build id", lambda s: md.code(s.build.id, 200) if s.build else "")
BUILD_TIME: Column = ("Build time", lambda s: format_duration(s.build_seconds))


@dataclass(frozen=True)
class SummaryOptions:
    """How to render: the app's name, where links point, how to resume."""

    app_name: str | None = None
    include_download_links: bool = False
    server_url: str = "https://github.com"
    repository: str = ""  # owner/name; no commit or pull request links when empty
    setting: Setting = workflow_setting  # how the user sets an input (`--deploy true` on the CLI)
    deploy_options: Mapping[str, Any] = field(default_factory=dict)  # for store, track, rollout


def render_summary(result: RunResult, options: SummaryOptions) -> str:
    """The whole summary as Markdown, ending with a blank line."""
    parts = [_heading(result, options)]
    if result.platforms and result.status != RunStatus.DRY_RUN:
        parts.append(_platform_table(result, options))
    parts.extend(filter(None, [_links_note(result, options), _context(result, options)]))
    parts.extend(_failures(result, options))
    parts.append(_resume(result, options))
    parts.append(_notes(result))
    return "\n\n".join(p for p in parts if p) + "\n\n"


def _heading(result: RunResult, options: SummaryOptions) -> str:
    symbol, words = md.heading(result.status)
    if result.status == RunStatus.FAILED and isinstance(result.error, ConfigError):
        words = "invalid input, nothing was sent"
    name = md.text(options.app_name, 120) if options.app_name else ""
    version = f" {md.text(result.version, 60)}" if result.version else ""
    subject = f"Capwrapper: {name}{version}" if name else "Capwrapper"
    return f"## {symbol} {subject}: {words}"


def platform_table(columns: Sequence[Column], states: Iterable[PlatformState]) -> str:
    """A row per platform: each column's cell of its state."""
    return md.table([h for h, _ in columns], [[cell(s) for _, cell in columns] for s in states])


def _platform_table(result: RunResult, options: SummaryOptions) -> str:
    columns: list[Column] = [
        PLATFORM,
        ("Status", lambda s: status_cell(s, result.status)),
        ("Version", lambda s: md.text(s.build.version) if s.build and s.build.version else ""),
        BUILD_ID,
        ("Queued", lambda s: format_duration(s.queue_seconds)),
        BUILD_TIME,
    ]
    if options.include_download_links:
        columns.append(("Download", download_cell))
    if any(s.artifact_path for s in result.platforms.values()):
        columns.append(("Artifact", lambda s: md.code(s.artifact_path) if s.artifact_path else ""))
    columns.append(("Details", lambda s: _details_cell(s, options)))
    return platform_table(columns, result.platforms.values())


def status_cell(state: PlatformState, overall: str) -> str:
    """The build's status with its symbol; ``overall`` (the run's) tells a build left running
    by a timeout or a cancel."""
    build = state.build
    if build is None:
        return "— not created"
    status = md.text(build.status, 40)
    if build.status == BuildStatus.SUCCESS:
        return f"✅ {status}"
    if build.failed:
        return f"❌ {status}"
    if overall == RunStatus.TIMED_OUT:
        return f"⌛ {status} (timed out)"
    if overall == RunStatus.CANCELLED:
        return f"⏹️ {status} (stopped waiting)"
    return f"⏳ {status}"


def download_cell(state: PlatformState) -> str:
    build = state.build
    if build is None or build.status != BuildStatus.SUCCESS or not build.download_url:
        return ""
    return md.link("download", build.download_url)


def _details_cell(state: PlatformState, options: SummaryOptions) -> str:
    details: list[str] = []
    build = state.build
    if build is not None and build.failed:
        details.append(md.text(build.error or "failed without a reason from Capwrapper"))
    if state.adopted:
        details.append("found again after the create answer was lost")
    if state.reused_from:
        details.append(f"adopted: made by an earlier run, found in {md.text(state.reused_from)}")
    if state.deploy is not None:
        details.append(f"deploy {deploy_text(state.deploy, options.deploy_options)}")
    return "; ".join(details)


def deploy_text(deploy: Deploy, deploy_options: Mapping[str, Any]) -> str:
    """``dep_1`: submitted to the store, queued (store: …, track: …)``, as Markdown."""
    said = md.text(deploy_status_text(deploy), 200)
    details = ", ".join(f"{k}: {md.text(v, 80)}"
                        for k, v in deploy_details(deploy, deploy_options))
    return f"{md.code(deploy.id, 200)}: {said}" + (f" ({details})" if details else "")


def _links_note(result: RunResult, options: SummaryOptions) -> str:
    if options.include_download_links:
        return ""
    if not any(b.status == BuildStatus.SUCCESS and b.download_url for b in result.builds):
        return ""
    return (
        "_Download links are left out: anyone who can read this run could use them until "
        f"they expire. Set `{options.setting('summary-download-links', 'true')}` to show them, "
        "or use the `*-download-url` outputs._"
    )


def _context(result: RunResult, options: SummaryOptions) -> str:
    lines: list[str] = []
    repo_url = _repo_url(options)
    if result.commit_sha:
        lines.append(f"- **Commit:** {_commit(result.commit_sha, repo_url)}")
    if result.pull_request is not None:
        number = f"#{result.pull_request}"
        target = f"{repo_url}/pull/{result.pull_request}" if repo_url else None
        lines.append(f"- **Pull request:** {md.link(number, target)}")
    deploy = _deploy_line(result, options)
    if deploy:
        lines.append(f"- **Deploy:** {deploy}")
    return "\n".join(lines)


def _repo_url(options: SummaryOptions) -> str | None:
    if not options.repository:
        return None
    return md.safe_url(f"{options.server_url.rstrip('/')}/{options.repository}")


def _commit(sha: str, repo_url: str | None) -> str:
    if not _SHA.match(sha) or not repo_url:
        return md.code(sha, 80)
    return f"[`{sha[:7]}`]({repo_url}/commit/{sha})"


def _deploy_line(result: RunResult, options: SummaryOptions) -> str:
    gate = result.gate
    if result.deployed:
        each = "; ".join(
            f"{md.platform_label(s.platform)} {deploy_text(s.deploy, options.deploy_options)}"
            for s in result.platforms.values()
            if s.deploy is not None
        )
        allowed = f" — {md.text(gate.reason)}" if gate and gate.allowed else ""
        return f"🚀 {each}{allowed}"
    if gate is None:
        return ""
    if gate.allowed and result.deploy_attempted:
        done = [md.platform_label(p) for p, s in result.platforms.items() if s.deploy is not None]
        made = f" (made for {', '.join(done)} only)" if done else ""
        return f"❌ deploy failed{made}; see the error below."
    line = f"not deployed: {md.text(gate.reason.rstrip('. '))}."
    if gate.labels:
        shown = ", ".join(md.text(name, 100) for name in gate.labels[:MAX_LABELS])
        extra = len(gate.labels) - MAX_LABELS
        more = f" and {extra} more" if extra > 0 else ""
        source = md.text(gate.labels_source or "unknown source", 40)
        line += f" Pull request labels (from {source}): {shown}{more}."
    return line


def _failures(result: RunResult, options: SummaryOptions) -> list[str]:
    rebuild_hint = _BUILD_FAILED_HINT.format(auto=options.setting("version", "auto"))
    blocks: list[str] = []
    for state in result.platforms.values():
        build = state.build
        if build is not None and build.failed:
            why = build.error or f"(Capwrapper gave no reason; status: {build.status})"
            reason = md.code_block(why)
            blocks.append(f"### ❌ {md.platform_label(state.platform)} build failed\n\n{reason}")
    error = result.error
    if error is not None:
        title = md.text(error.title, 200)
        hint = md.text(error.hint, 1000) if error.hint else (rebuild_hint if blocks else "")
        symbol = md.HEADINGS[result.status][0] if result.status in _STOPPED else "❌"
        block = f"### {symbol} {title}\n\n{md.code_block(error.message)}"
        blocks.append(block + (f"\n\n**Next step:** {hint}" if hint else ""))
    elif blocks:
        blocks.append(f"**Next step:** {rebuild_hint}")
    return blocks


def resume_input(result: RunResult, setting: Setting) -> str:
    """The input that waits for this run's builds again (``build-id: android:bld_…``); empty
    when no build was created."""
    ids = ", ".join(f"{p}:{s.build.id}" for p, s in result.platforms.items() if s.build)
    return setting("build-id", ids) if ids else ""


def _resume(result: RunResult, options: SummaryOptions) -> str:
    if result.status not in (*_STOPPED, RunStatus.CREATED):
        return ""
    command = resume_input(result, options.setting)
    if not command:
        return ""
    if result.status == RunStatus.CREATED:
        intro = "The builds are running on Capwrapper. To wait for them in a later step or run:"
    else:
        intro = f"{NOT_CANCELLED_REMOTELY} {RESUME_LABEL}"
    block = md.code_block(result.resume_hint or command, 2000, "yaml")
    return f"### ▶️ Resume\n\n{intro}\n\n{block}"


def _notes(result: RunResult) -> str:
    if not result.notes:
        return ""
    lines = [f"- {md.text(note, line_start=True)}" for note in result.notes[:MAX_NOTES]]
    if len(result.notes) > MAX_NOTES:
        lines.append(f"- … and {len(result.notes) - MAX_NOTES} more")
    return "### Notes\n\n" + "\n".join(lines)
