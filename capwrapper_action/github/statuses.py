"""The record on the commit: one commit status per platform and bundle id.

``POST /repos/{owner}/{repo}/statuses/{sha}`` with

- ``context``: ``capwrapper/android (com.example.shop)``, one per platform and bundle id, so a
  later status of the same build replaces the earlier one in the commit's combined view;
- ``state``: ``pending`` while the build is queued or building, then ``success`` or
  ``failure``; ``error`` for a final status the API docs do not list;
- ``description`` (at most 140 characters): ``1.4.0 · build bld_abc · deploy dep_xyz · settings
  3f9a1c2e`` — the version, the build id, the deploy id once made (``deploy unknown`` when a
  deploy's answer was lost), and a fingerprint of the settings the build was made from;
- ``target_url``: the page of the workflow run.

It shows on the commit and the pull request, and it is how later runs (re-runs keep the commit)
find what was built and deployed: ``read`` returns the newest record per platform. Writing
needs the ``statuses: write`` permission; without it (401, 403, 404) the step warns once,
saying what re-runs will do without a record, and stops using the record. GitHub's rate limit
(403 or 429, ``context.rate_limit``) is no missing permission: the record stays on. A write
that fails in a transient way (5xx, a rate limit, no answer) is retried through
``context.call_github`` (setting a status is idempotent per context; the read is a GET, which
PyGithub retries quickly itself); if it still fails, the step warns once and goes on, and later
writes are still tried (once each until one succeeds). A ``CancelledError`` is never swallowed.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from capwrapper_action.api.models import BuildStatus, Platform
from capwrapper_action.errors import CancelledError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.github.context import GitHubRateLimited, call_github, rate_limit
from capwrapper_action.result import PlatformState

if TYPE_CHECKING:
    from github.Commit import Commit

    from capwrapper_action.retry import Retrier

MAX_DESCRIPTION = 140
MAX_STATUSES_READ = 300  # newest statuses of the commit looked at
NO_PERMISSION = frozenset({401, 403, 404})  # the record is off for the run after these
RECORD_PATIENCE = 10.0  # seconds a write rides out a blip; an outage must not hold up the run
DEPLOY_UNKNOWN = "unknown"
PERMISSION = "statuses: write"
WITHOUT_RECORD = (
    "Without a record on the commit, a re-run of this job cannot tell what this run built or "
    "deployed: with `version: auto` it makes new builds at the next version; with a pinned "
    "version it finds the build of that version in the Capwrapper history and adopts it, but "
    "cannot tell whether it was deployed, so it deploys it again when the gate allows."
)
_BUILD = re.compile(r"(?:^|·)\s*build (?P<v>[A-Za-z0-9_.:-]{1,200})")
_DEPLOY = re.compile(r"(?:^|·)\s*deploy (?P<v>[A-Za-z0-9_.:-]{1,200})")
_SETTINGS = re.compile(r"(?:^|·)\s*settings (?P<v>[0-9a-f]{8})\b")
_VERSION = re.compile(r"^\s*(?P<v>[0-9][0-9A-Za-z.+-]{0,100})\s*(?:·|$)")


@dataclass(frozen=True)
class Recorded:
    """What an earlier run recorded for one platform."""

    build_id: str
    version: str | None
    deploy_id: str | None  # DEPLOY_UNKNOWN when the deploy's outcome was unknown
    settings: str | None

    @property
    def deploy_unknown(self) -> bool:
        return self.deploy_id == DEPLOY_UNKNOWN


def context_for(platform: str, bundle_id: str) -> str:
    return f"capwrapper/{platform} ({bundle_id})"


def state_for(state: PlatformState) -> str:
    build = state.build
    if build is None or build.status in (BuildStatus.QUEUED, BuildStatus.BUILDING):
        return "pending"
    if build.status == BuildStatus.SUCCESS:
        return "success"
    if build.status == BuildStatus.FAILED:
        return "failure"
    return "error" if build.is_final or build.completed_at else "pending"


def describe(state: PlatformState, settings: str, *, deploy_unknown: bool = False) -> str:
    """The status description: the most useful parts that fit in 140 characters."""
    build = state.build
    if build is None:
        return ""
    parts = [build.version or "", f"build {build.id}"]
    if state.deploy is not None:
        parts.append(f"deploy {state.deploy.id}")
    elif deploy_unknown:
        parts.append(f"deploy {DEPLOY_UNKNOWN}")
    parts.append(f"settings {settings}")
    text = " · ".join(p for p in parts if p)
    while len(text) > MAX_DESCRIPTION and len(parts) > 2:  # noqa: PLR2004
        parts.pop()  # settings first, then the deploy: the build id always stays
        text = " · ".join(p for p in parts if p)
    return text[:MAX_DESCRIPTION]


def parse(text: str) -> Recorded | None:
    """The record in a status description, or None when it names no build."""
    build = _BUILD.search(text)
    if build is None:
        return None
    deploy, settings, version = _DEPLOY.search(text), _SETTINGS.search(text), _VERSION.match(text)
    return Recorded(
        build_id=build.group("v"),
        version=version.group("v") if version else None,
        deploy_id=deploy.group("v") if deploy else None,
        settings=settings.group("v") if settings else None,
    )


class CommitRecord:
    """Reads and writes the commit statuses of one commit and bundle id."""

    def __init__(
        self, commit: Callable[[], Commit], *, bundle_id: str, target_url: str | None,
        log: ActionIO, commit_sha: str, retrier: Retrier,
    ) -> None:
        self._factory = commit
        self.bundle_id = bundle_id
        self.target_url = target_url
        self.log = log
        self.commit_sha = commit_sha
        self.retrier = retrier
        self.warned = False  # said once that the record failed
        self.disabled = False  # no permission: nothing more is read or written
        self.failing = False  # the last call failed after its retries: try the next once
        self.written: dict[Platform, str] = {}  # the last (state, description) sent

    def read(self, platforms: tuple[Platform, ...]) -> dict[Platform, Recorded]:
        """The newest record of each platform (only those that name a build)."""
        if self.disabled:
            return {}
        wanted = {context_for(p, self.bundle_id): p for p in platforms}
        try:
            # One call: PyGithub already retries a GET quickly for blips, and a read that still
            # fails (GitHub unreachable) must not hold up the builds.
            found = self._newest(wanted)
            self.failing = False
            return found
        except CancelledError:
            raise
        except Exception as exc:  # the record is a help, never the reason a run fails
            self._give_up("read the record on", exc)
            return {}

    def _newest(self, wanted: Mapping[str, Platform]) -> dict[Platform, Recorded]:
        found: dict[Platform, Recorded] = {}
        for status in itertools.islice(self._commit.get_statuses(), MAX_STATUSES_READ):
            platform = wanted.get(status.context or "")
            if platform is None or platform in found:
                continue  # newest first: the first one of a context is its current one
            record = parse(status.description or "")
            if record is not None:
                found[platform] = record
            if len(found) == len(wanted):
                break
        return found

    def write(self, state: PlatformState, settings: str, *, deploy_unknown: bool = False) -> None:
        """Set the status of ``state``'s build (nothing is sent when it did not change)."""
        if self.disabled or state.build is None:
            return
        description = describe(state, settings, deploy_unknown=deploy_unknown)
        value = state_for(state)
        if self.written.get(state.platform) == f"{value}:{description}":
            return
        context = context_for(state.platform, self.bundle_id)
        target = {"target_url": self.target_url} if self.target_url else {}
        try:
            self._call(
                lambda: self._commit.create_status(
                    value, **target, description=description, context=context),
                f"recording {state.platform} on the commit",
            )
        except CancelledError:
            raise
        except Exception as exc:
            self._give_up("record the builds on", exc)
            return
        self.written[state.platform] = f"{value}:{description}"
        self.log.info(f"{state.platform}: recorded on the commit: {value}, {description}")

    def _call(self, fn: Callable[[], object], what: str) -> None:
        """``fn()``, retried for up to ``RECORD_PATIENCE``; tried once after a cancel (no waits
        then) and while GitHub is known to be failing (later calls do not stall the run again)."""
        retrier = self.retrier
        if self.failing or retrier.cancel.is_set():
            fn()
        else:
            call_github(retrier, fn, what, deadline=retrier.clock.now() + RECORD_PATIENCE)
        self.failing = False

    @functools.cached_property
    def _commit(self) -> Commit:
        return self._factory()

    def _give_up(self, doing: str, exc: BaseException) -> None:
        """Warn once; only a missing permission turns the record off for the run."""
        exc = rate_limit(exc, self.retrier.clock.wall()) or exc  # has no `status`: stays on
        why, fix = _why(exc)
        self.disabled = getattr(exc, "status", None) in NO_PERMISSION
        self.failing = not self.disabled
        if self.warned:
            return
        self.warned = True
        commit = f" {self.commit_sha[:12]}" if self.commit_sha else ""
        if not self.disabled:
            fix += " Later changes are still sent to GitHub."
        self.log.warning(
            f"Could not {doing} commit{commit} (commit statuses): {why}. {WITHOUT_RECORD}{fix}",
            "No record on the commit",
        )


def _why(exc: BaseException) -> tuple[str, str]:
    """What went wrong, and what to do (" Grant …" when a permission is the likely cause)."""
    import github

    if isinstance(exc, GitHubRateLimited):
        return exc.message, f" {exc.hint}"  # when it resets
    if isinstance(exc, github.GithubException):
        reasons: Mapping[int, str] = {
            401: "the GitHub API rejected the token (401)",
            403: f"the token lacks `{PERMISSION}` (403)",
            404: f"the repository is not visible to the token, or it lacks `{PERMISSION}` (404)",
            422: "GitHub refused the status (422)",
        }
        grant = f" Grant `permissions: {PERMISSION}` to the job to keep the record."
        fix = grant if exc.status in (403, 404) else ""
        return reasons.get(exc.status) or f"the GitHub API answered HTTP {exc.status}", fix
    if isinstance(exc, requests.RequestException):
        return f"the GitHub API could not be reached ({type(exc).__name__})", ""
    return f"unexpected {type(exc).__name__}", ""
