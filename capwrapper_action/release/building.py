"""Creating the builds a run needs: one version for all of them, checked before any create,
and chosen again when another build takes it in the meantime.

- **Version.** A pinned version is sent as given; ``auto`` as ``release.history`` resolves it.
- **Pre-flight.** Before the first create, the version is checked against each platform's
  newest build: when any platform would refuse it, nothing is created and the error says which
  platform holds which version (no orphan build on the platform that would have accepted it).
- **Taken meanwhile.** Two runs may race for one version. When a create is refused (400) and the
  history, read again, shows that a build now holds the version, ``auto`` resolves again and
  retries (at most ``MAX_TAKEN_RETRIES`` times), saying that another build took the version; a
  pinned version adopts that build when it was made from the same settings, else fails naming
  it. Builds made before a failure are named in the error: they keep running on Capwrapper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from capwrapper_action.api.creating import create_or_adopt
from capwrapper_action.api.models import Build, Platform
from capwrapper_action.config.settings import Config
from capwrapper_action.errors import ActionError, ApiError, BadRequestError, CancelledError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.github.event import GitHubContext
from capwrapper_action.release.adopting import differences
from capwrapper_action.release.history import History, resolve_version
from capwrapper_action.release.placeholders import fill_options, values_for
from capwrapper_action.release.semver import AUTO
from capwrapper_action.result import PlatformState

if TYPE_CHECKING:
    from capwrapper_action.release.pipeline import Deps

MAX_TAKEN_RETRIES = 3
TAKEN_MEANWHILE = "a build made meanwhile by another run"


def build_body(
    config: Config, platform: Platform, version: str, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The POST /builds body: build-options (``options``: with placeholders filled) first,
    then the fields the action owns."""
    body: dict[str, Any] = dict(config.build_options if options is None else options)
    body.update(
        url=config.app_url,
        appName=config.app_name,
        bundleId=config.bundle_id,
        version=version,
        platform=platform,
    )
    if config.permissions is not None:
        body["permissions"] = list(config.permissions)
    return body


def filled_options(
    options: Mapping[str, Any], where: str, ctx: GitHubContext, version: str | None,
    io: ActionIO,
) -> Mapping[str, Any]:
    filled, notice = fill_options(options, where, values_for(ctx, version))
    if notice:
        io.notice(notice, "Placeholders")
    return filled


def choose_version(config: Config, history: History) -> str:
    if config.version is AUTO and not history.complete:
        missing = [p for p in history.platforms if p not in history.newest]
        raise ActionError(
            f"`version: auto` needs the newest build of {history.bundle_id} on "
            f"{', '.join(missing) or 'each platform'}, and {history.pages} pages "
            f"({history.scanned} builds) of GET /builds did not reach it. Rather than guess a "
            "version the API may refuse, nothing was created.",
            hint="Pin `version` (for example `2.0.${{ github.run_number }}`) above the newest "
                 "version on the Capwrapper dashboard.",
            title="Build history too long for version: auto",
        )
    return resolve_version(
        config.version, config.version_bump, history.builds,
        bundle_id=config.bundle_id or "", platforms=config.platforms,
    )


def preflight(version: str, history: History, platforms: Sequence[Platform]) -> None:
    """Raise, before any create, when a platform in ``platforms`` would refuse ``version``."""
    blocked = {p: b for p, b in history.blocking(version).items() if p in platforms}
    if not blocked:
        return
    held = "; ".join(
        f"{p} already has version {b.version} (build {b.id}, {b.status})"
        for p, b in blocked.items()
    )
    raise ActionError(
        f"Version {version} of {history.bundle_id} would be refused: {held}. Capwrapper takes "
        "only a version higher than the newest build's on each platform. Nothing was created.",
        hint="Raise `version` above the versions named, or use `version: auto`.",
        title="Version already taken",
    )


class Builder:
    """Creates the planned platforms' builds for one run into their ``states``, each as it
    comes (also when a later one fails)."""

    def __init__(
        self, config: Config, deps: Deps, states: Mapping[Platform, PlatformState], *,
        started: datetime, reread: Callable[[], History], ctx: GitHubContext,
    ) -> None:
        self.config, self.deps, self.states = config, deps, states
        self.started, self.reread, self.ctx = started, reread, ctx
        self.made: dict[Platform, Build] = {}
        self._options: dict[str, Mapping[str, Any]] = {}  # build-options filled, per version

    def body(self, platform: Platform, version: str) -> dict[str, Any]:
        if version not in self._options:
            self._options[version] = filled_options(
                self.config.build_options, "build-options", self.ctx, version, self.deps.io
            )
        return build_body(self.config, platform, version, self._options[version])

    def create(self, platforms: Sequence[Platform], version: str) -> None:
        taken = 0
        for platform in platforms:
            while platform not in self.made:  # after a refusal: again, at the version resolved anew
                try:
                    self._create(platform, version)
                except BadRequestError as exc:
                    version = self._taken(exc, platform, version, taken)
                    taken += 1

    def _made(self, platform: Platform, build: Build, *, lost_answer: bool = False,
              taken_from: str = "") -> None:
        """A build this run created (``lost_answer``: found again after its answer was lost),
        or adopted because another run made it at the same version with the same settings."""
        state = self.states[platform]
        state.build, state.adopted, state.reused_from = build, lost_answer, taken_from
        state.created = True  # made (or found again) moments ago: 404s get a grace
        self.made[platform] = build

    def _create(self, platform: Platform, version: str) -> None:
        body = self.body(platform, version)
        key = f"{self.deps.run_key}:{self.config.bundle_id}:{platform}:{version}"
        try:  # no retry wait of a create ends past the deadline (``timeout``)
            build, lost = create_or_adopt(
                self.deps.client, body, since=self.started, idempotency_key=key,
                log=self.deps.io, deadline=self.deps.deadline,
            )
        except CancelledError as cancelled:
            if isinstance(cancelled.made, Build):  # made, though the signal cut its answer off
                self._made(platform, cancelled.made, lost_answer=True)
            raise
        self.deps.io.info(f"{platform}: created {build.id} ({build.status}), version {version}")
        self._made(platform, build, lost_answer=lost)

    def _taken(self, exc: BadRequestError, platform: Platform, version: str, taken: int) -> str:
        """After a refused create: the version to try next, or raise."""
        try:
            fresh = self.reread()
        except ApiError:
            raise self._with_orphans(exc) from None  # the refusal itself says most
        taker = fresh.blocking(version).get(platform)
        if taker is None:
            raise self._with_orphans(exc)
        pinned = self.config.version is not AUTO
        what = f"another build ({taker.id}, version {taker.version}) took version {version} " \
            f"of {fresh.bundle_id} on {platform} in the meantime"
        if pinned and taker.version == version and not differences(
            taker, self.body(platform, version)
        ):
            self.deps.io.info(f"{platform}: {what}, with the same settings: adopting it")
            self._made(platform, taker, taken_from=TAKEN_MEANWHILE)
            return version
        if pinned or taken >= MAX_TAKEN_RETRIES:
            tried = f" ({taken + 1} tries)" if not pinned else ""
            raise self._with_orphans(ActionError(
                f"Creating the {platform} build was refused: {what}{tried}. Server: "
                f"{exc.message}",
                hint="Raise `version` above it, or use `version: auto`." if pinned else
                "Builds of this bundle id are being created by several runs at once; re-run "
                "the job when they are done.",
                title="Version taken by another build",
            ))
        retry = resolve_version(
            AUTO, self.config.version_bump, fresh.builds,
            bundle_id=self.config.bundle_id or "", platforms=self.config.platforms,
        )
        self.deps.io.info(f"{platform}: {what}; resolving again: trying {retry} "
                          f"(retry {taken + 1} of {MAX_TAKEN_RETRIES})")
        return retry

    def _with_orphans(self, error: ActionError) -> ActionError:
        made = [f"{p} {b.id} (version {b.version})" for p, b in self.made.items()]
        if made:
            error.message += (f" Made before this failure, and still running on Capwrapper: "
                              f"{', '.join(made)}.")
        return error
