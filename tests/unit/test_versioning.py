"""version: auto — semver precedence over the build history of the bundle id."""

from __future__ import annotations

import pytest

from capwrapper_action.api.models import Build
from capwrapper_action.release.history import highest_version, resolve_version
from capwrapper_action.release.semver import AUTO, Bump, Version

BUNDLE = "com.example.shop"
BOTH = ("android", "ios")


def build(version: str | None, platform: str | None = "android", bundle: str = BUNDLE,
          status: str = "success") -> Build:
    return Build(id=f"bld_{version}_{platform}", status=status, platform=platform,
                 version=version, bundle_id=bundle)


def auto(builds: list[Build], bump: str = "patch", platforms: tuple[str, ...] = BOTH) -> str:
    return resolve_version(AUTO, Bump(bump), builds, bundle_id=BUNDLE, platforms=platforms)


def test_a_requested_version_passes_through() -> None:
    history = [build("9.9.9")]
    requested = Version.parse("1.4.0")
    assert resolve_version(requested, Bump.PATCH, history, bundle_id=BUNDLE,
                           platforms=BOTH) == "1.4.0"
    assert resolve_version(Version.parse(" 2.0.0-rc.1 "), Bump.MAJOR, [], bundle_id=BUNDLE,
                           platforms=BOTH) == "2.0.0-rc.1"


def test_auto_starts_at_1_0_0() -> None:
    assert resolve_version(AUTO, Bump.PATCH, [], bundle_id=BUNDLE, platforms=BOTH) == "1.0.0"


def test_no_history_starts_at_1_0_0() -> None:
    assert auto([]) == "1.0.0"
    assert auto([], bump="major") == "1.0.0"


def test_history_of_other_bundles_is_ignored() -> None:
    assert auto([build("5.0.0", bundle="com.example.other")]) == "1.0.0"


def test_bundle_ids_compare_case_insensitively() -> None:
    assert auto([build("2.0.0", bundle="com.Example.Shop")]) == "2.0.1"


def test_semver_precedence_not_string_order() -> None:
    assert auto([build("1.9.0"), build("1.10.0"), build("1.2.0")]) == "1.10.1"


def test_the_highest_over_all_requested_platforms_is_bumped_once() -> None:
    history = [build("1.4.2", "android"), build("1.5.0", "ios"), build("1.4.9", "android")]
    assert auto(history) == "1.5.1"


def test_platforms_not_requested_do_not_count() -> None:
    history = [build("1.4.2", "android"), build("3.0.0", "ios")]
    assert auto(history, platforms=("android",)) == "1.4.3"


def test_a_build_without_platform_counts_for_every_platform() -> None:
    assert auto([build("2.1.0", None)], platforms=("ios",)) == "2.1.1"


def test_failed_builds_count_too() -> None:
    assert auto([build("1.0.0"), build("1.1.0", status="failed")]) == "1.1.1"


@pytest.mark.parametrize(("bump", "expected"), [
    ("patch", "1.2.4"), ("minor", "1.3.0"), ("major", "2.0.0"),
])
def test_bumps(bump: str, expected: str) -> None:
    assert auto([build("1.2.3")], bump=bump) == expected


def test_prereleases_rank_below_their_release() -> None:
    assert auto([build("1.3.0-rc.2"), build("1.2.9")]) == "1.3.0"
    assert auto([build("1.3.0-rc.2"), build("1.3.0")]) == "1.3.1"
    assert auto([build("1.3.0-rc.2"), build("1.3.0-rc.10")], bump="minor") == "1.4.0"


def test_build_metadata_is_dropped() -> None:
    assert auto([build("1.3.0+build.7")]) == "1.3.1"


@pytest.mark.parametrize("junk", ["latest", "", "1.2", "v2.0.0", "01.2.3", "9" * 300, None])
def test_unparseable_versions_are_ignored(junk: str | None) -> None:
    assert auto([build(junk), build("1.1.0")]) == "1.1.1"


def test_highest_version_is_exposed_for_logging() -> None:
    found = highest_version([build("1.9.0"), build("1.10.0")], bundle_id=BUNDLE, platforms=BOTH)
    assert str(found) == "1.10.0"
    assert highest_version([], bundle_id=BUNDLE, platforms=BOTH) is None
