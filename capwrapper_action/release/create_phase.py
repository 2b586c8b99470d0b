"""The create phase: adopt what this commit already has (``adopting``), create the rest
(``building``) and record every build on the commit (``github.statuses``)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING

from capwrapper_action import result as R
from capwrapper_action.api.models import Build, Deploy
from capwrapper_action.config.settings import Config
from capwrapper_action.errors import ApiError, AuthError
from capwrapper_action.github.event import GitHubContext
from capwrapper_action.release import building as B
from capwrapper_action.release.adopting import Adoption, plan_builds, settings_fingerprint
from capwrapper_action.release.building import build_body
from capwrapper_action.release.history import History, read_history
from capwrapper_action.release.semver import AUTO

if TYPE_CHECKING:
    from capwrapper_action.release.pipeline import Deps

HISTORY_PATIENCE = 60.0  # longest wait for a build history that is not required
NO_HISTORY = "Status checks will not use build history"  # the log line when it is given up


def create_builds(
    config: Config, result: R.RunResult, deps: Deps, started: datetime, ctx: GitHubContext
) -> list[Build]:
    """Adopt what this commit already has, create the rest; returns the build history."""
    pinned = pinned_version(config)
    history = read_builds(config, deps)  # first: the API call that fails fastest on a bad key
    records = deps.record.read(config.platforms) if deps.record else {}
    bodies = {p: build_body(config, p, pinned or "auto") for p in config.platforms}
    plan = plan_builds(
        deps.client, bodies, records=records, history=history, pinned=pinned,
        rebuild=config.rebuild,
    )
    for platform, adoption in plan.adopt.items():
        adopt(result.platforms[platform], adoption)
    for note in [*plan.notes, *(a.describe(p) for p, a in plan.adopt.items())]:
        deps.io.info(note)
        result.notes.append(note)
    try:
        if plan.create:
            version = B.choose_version(config, history)
            if config.version is AUTO:
                deps.io.info(f"version: auto → {version} ({history.describe()})")
            B.preflight(version, history, plan.create)
            builder = B.Builder(config, deps, result.platforms, started=started, ctx=ctx,
                                reread=lambda: read_builds(config, deps, required=True))
            builder.create(plan.create, version)
    finally:  # builds made before a failure are recorded too: a re-run adopts them
        versions = sorted({b.version for b in result.builds if b.version})
        result.version = ", ".join(versions) or None
        record(config, result, deps)
    return history.builds


def adopt(state: R.PlatformState, adoption: Adoption) -> None:
    """Take over an earlier run's build (and its recorded deploy) into ``state``."""
    state.build, state.reused_from = adoption.build, adoption.source
    if adoption.deploy_unknown:
        state.deploy_unknown = True
    elif adoption.deploy_id:
        state.deploy = Deploy(adoption.deploy_id, adoption.build.id,
                              raw={"id": adoption.deploy_id, "buildId": adoption.build.id,
                                   "recorded": True})
        state.deploy_reused = True


def record(config: Config, result: R.RunResult, deps: Deps) -> None:
    """Set the commit status of every build (only what changed is sent)."""
    if deps.record is None or config.resume:
        return
    for platform, state in result.platforms.items():
        fingerprint = settings_fingerprint(build_body(config, platform, ""))
        deps.record.write(state, fingerprint, deploy_unknown=state.deploy_unknown)


def pinned_version(config: Config) -> str | None:
    return None if config.version is AUTO else str(config.version)


def optional_history(deps: Deps) -> list[Build]:
    """Recent builds for ``poll-interval: auto`` when resuming: a nicety, not worth failing
    or spending minutes of a shared rate limit on."""
    try:
        return deps.client.list_builds(deadline=_patience(deps))
    except AuthError:
        raise  # every status check would fail the same way: say it now
    except ApiError as err:
        deps.io.info(f"{NO_HISTORY}: {err.message}")
        return []


def _patience(deps: Deps) -> float:
    """The deadline of a history read the run can do without: a minute, within ``timeout``."""
    patience = deps.clock.now() + HISTORY_PATIENCE
    return patience if deps.deadline is None else min(patience, deps.deadline)


def read_builds(config: Config, deps: Deps, *, required: bool = False) -> History:
    """This bundle id's history as far as the version checks need it. ``version: auto``
    cannot do without it; for a pinned version it only guards the creates (the API refuses a
    taken version anyway), so a failing or throttled list is logged and the run goes on.
    Either way no retry wait ends past the step's deadline (``timeout``)."""
    auto = config.version is AUTO
    read = functools.partial(
        read_history, deps.client, bundle_id=config.bundle_id or "",
        platforms=config.platforms, pinned=pinned_version(config),
    )
    if auto or required:
        return read(deadline=deps.deadline)
    try:
        history = read(deadline=_patience(deps))
    except AuthError:
        raise  # the create would fail the same way: say it now
    except ApiError as err:
        deps.io.info(f"{NO_HISTORY}: {err.message}")
        deps.io.info(f"Version {config.version} is not checked before the creates: "
                     "Capwrapper alone judges it.")
        return History(config.bundle_id or "", config.platforms, complete=False)
    if not history.complete:
        deps.io.warning(
            f"The newest builds of {history.bundle_id} were not found in {history.pages} "
            f"pages of GET /builds; version {config.version} is checked by Capwrapper alone.",
            "Build history too long",
        )
    return history
