"""``version: auto``: one bump above the highest version Capwrapper already has.

Capwrapper refuses a build whose version is not higher than the previous build's for the same
bundle id, so ``auto`` looks at every earlier build of the bundle id on the requested platforms
(whatever their status: a failed build still used its version) and takes the highest by semver
precedence — ``1.10.0`` is above ``1.9.0`` — then bumps it. One version serves all platforms, so
the builds of a release carry the same number. Versions that are not semver are ignored.

Matching is generous on purpose: bundle ids compare case-insensitively and a build without a
platform counts for every platform. A version that is higher than needed is harmless; one that
is too low is refused by the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from capwrapper_action.api.models import Build
from capwrapper_action.release.semver import Auto, Bump, Version

FIRST_VERSION = Version(1, 0, 0)


def highest_version(
    builds: Iterable[Build], *, bundle_id: str, platforms: Sequence[str]
) -> Version | None:
    """The highest semver version among the builds of ``bundle_id`` on ``platforms``."""
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
    """The version to send: ``requested`` itself, or for ``auto`` the next one after history."""
    if isinstance(requested, Version):
        return str(requested)
    highest = highest_version(builds, bundle_id=bundle_id, platforms=platforms)
    return str(FIRST_VERSION if highest is None else highest.bump(bump))
