"""What Capwrapper already has for this bundle id: read from ``GET /builds`` until it is known.

The API takes a build only when its version is strictly higher than the version of the newest
build of the same bundle id and platform, so that newest build holds the version that counts.
The list is newest first and holds every app on the key: this app's builds may sit behind
pages of other apps' builds. ``read_history`` follows the pages (body cursors and ``Link``
headers alike) until it has seen, for each requested platform, the newest build of the bundle
id, and, for a pinned version, either a build of that version or one below it (versions only
rise, so there is none further down). It stops at the end of the list, or after ``page_cap``
pages with ``complete`` False: the caller then says so rather than guessing.

``version: auto`` is one bump above the highest version of the bundle id on the requested
platforms (whatever their status: a failed build still used its version), by semver
precedence — ``1.10.0`` is above ``1.9.0``. One version serves all platforms, so the builds of
a release carry the same number. Versions that are not semver are ignored.

Matching is generous on purpose: bundle ids compare case-insensitively and a build without a
platform counts for every platform. A version that is higher than needed is harmless; one
that is too low is refused by the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from capwrapper_action.api.models import Build, Platform
from capwrapper_action.api.pages import DebugLog, Page, next_page_params
from capwrapper_action.release.semver import Auto, Bump, Version

PAGE_SIZE = 100
PAGE_CAP = 50  # pages read at most (5,000 builds at 100 a page)
FIRST_VERSION = Version(1, 0, 0)


class PageReader(Protocol):
    """What reading the history needs from the API client."""

    def list_page(self, params: Mapping[str, str], *, deadline: float | None = None) -> Page: ...

    @property
    def log(self) -> DebugLog: ...


@dataclass
class History:
    """The builds of one bundle id, newest first, and what reading them found."""

    bundle_id: str
    platforms: tuple[Platform, ...]
    builds: list[Build] = field(default_factory=list)
    newest: dict[Platform, Build] = field(default_factory=dict)
    pages: int = 0
    scanned: int = 0  # builds of every app looked at
    complete: bool = True  # False: the page cap was reached before all was known

    def find(self, platform: Platform, version: str) -> Build | None:
        """The build of ``version`` on ``platform`` (semver equality), newest first."""
        wanted = Version.try_parse(version)
        if wanted is None:
            return None
        return next((b for b in self.builds
                     if _on(b, platform) and Version.try_parse(b.version) == wanted), None)

    def blocking(self, version: str) -> dict[Platform, Build]:
        """The platforms whose newest build's version is not below ``version``: the API
        would refuse ``version`` there."""
        wanted = Version.try_parse(version)
        if wanted is None:
            return {}
        return {p: b for p, b in self.newest.items()
                if (have := Version.try_parse(b.version)) is not None and have >= wanted}

    def describe(self) -> str:
        found = ", ".join(
            f"{p} {self.newest[p].version} ({self.newest[p].id})" if p in self.newest
            else f"{p} none"
            for p in self.platforms
        )
        return f"newest builds of {self.bundle_id}: {found} ({self.scanned} builds on " \
            f"{self.pages} page{'s' if self.pages != 1 else ''} read)"


def read_history(
    client: PageReader,
    *,
    bundle_id: str,
    platforms: Sequence[Platform],
    pinned: str | None = None,
    page_cap: int = PAGE_CAP,
    deadline: float | None = None,
) -> History:
    history = History(bundle_id, tuple(platforms))
    wanted_bundle = bundle_id.strip().lower()
    pinned_version = Version.try_parse(pinned) if pinned else None
    below: set[Platform] = set()  # platforms where a build at or below the pinned one was seen
    params: dict[str, str] | None = {"limit": str(PAGE_SIZE)}
    seen: set[tuple[tuple[str, str], ...]] = set()
    while params is not None:
        if history.pages >= page_cap:
            history.complete = False
            break
        page = client.list_page(params, deadline=deadline)
        history.pages += 1
        history.scanned += len(page.builds)
        for build in page.builds:
            if (build.bundle_id or "").strip().lower() != wanted_bundle:
                continue
            history.builds.append(build)
            for platform in (p for p in platforms if _on(build, p)):
                history.newest.setdefault(platform, build)
                have = Version.try_parse(build.version)
                if pinned_version is None or (have is not None and have <= pinned_version):
                    below.add(platform)
        if all(p in history.newest and p in below for p in platforms):
            break
        params = next_page_params(params, page, seen, client.log)
    return history


def highest_version(
    builds: Iterable[Build], *, bundle_id: str, platforms: Sequence[str]
) -> Version | None:
    wanted_bundle = bundle_id.strip().lower()
    wanted_platforms = {p.lower() for p in platforms}
    versions = (
        Version.try_parse(build.version)
        for build in builds
        if (build.bundle_id or "").strip().lower() == wanted_bundle
        and (build.platform is None or build.platform.lower() in wanted_platforms)
    )
    return max((v for v in versions if v is not None), default=None)


def resolve_version(
    requested: Version | Auto,
    bump: Bump,
    builds: Iterable[Build],
    *,
    bundle_id: str,
    platforms: Sequence[str],
) -> str:
    if isinstance(requested, Version):
        return str(requested)
    highest = highest_version(builds, bundle_id=bundle_id, platforms=platforms)
    return str(FIRST_VERSION if highest is None else highest.bump(bump))


def _on(build: Build, platform: str) -> bool:
    return build.platform is None or build.platform.lower() == platform
