"""Checks of create-build bodies, and semver precedence (written apart from the client's own
semver code so the simulator is an independent judge of it)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from capwrapper_simulator.config import PLATFORMS

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_BUNDLE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)+$")
SemverKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


class InvalidRequest(ValueError):
    """A 400 answer: ``message`` names the field at fault."""


def semver_key(version: str) -> SemverKey | None:
    """A sort key following semver 2.0.0 precedence, or None when ``version`` is no semver.
    Build metadata (``+…``) is ignored; a prerelease sorts before its release."""
    match = _SEMVER.match(version)
    if not match:
        return None
    major, minor, patch, pre = match.groups()
    idents = tuple(_identifier(part) for part in pre.split(".")) if pre else ()
    return (int(major), int(minor), int(patch), 0 if pre else 1, idents)


def _identifier(part: str) -> tuple[int, int, str]:
    # Numeric identifiers compare as numbers and sort before alphanumeric ones.
    return (0, int(part), "") if part.isdigit() else (1, 0, part)


def validate_build_request(body: dict[str, Any]) -> None:
    """Raise ``InvalidRequest`` for the first wrong field of a create-build body."""
    _check_url(body.get("url"))
    app_name = body.get("appName")
    if not isinstance(app_name, str) or not app_name.strip():
        raise InvalidRequest(_need("appName", "must be a non-empty string", app_name))
    bundle_id = body.get("bundleId")
    if not isinstance(bundle_id, str) or not _BUNDLE_ID.match(bundle_id):
        raise InvalidRequest(
            _need("bundleId", "must be a reverse-domain id such as com.example.app", bundle_id)
        )
    version = body.get("version")
    if not isinstance(version, str) or semver_key(version) is None:
        raise InvalidRequest(_need("version", "must be a semantic version such as 1.2.0", version))
    platform = body.get("platform")
    if platform not in PLATFORMS:
        raise InvalidRequest(_need("platform", "must be one of: android, ios", platform))
    permissions = body.get("permissions", [])
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise InvalidRequest("permissions must be a list of strings")


def check_version_higher(version: str, latest: str | None, bundle_id: str, platform: str) -> None:
    """Raise ``InvalidRequest`` unless ``version`` is strictly above ``latest``."""
    if latest is None:
        return
    new_key, old_key = semver_key(version), semver_key(latest)
    if new_key is not None and old_key is not None and new_key <= old_key:
        raise InvalidRequest(
            f"version {version} must be higher than {latest}, "
            f"the latest version of {bundle_id} on {platform}"
        )


def _check_url(url: object) -> None:
    if not isinstance(url, str):
        raise InvalidRequest(_need("url", "must be an https URL", url))
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme != "https" or not host:
        raise InvalidRequest(f"url must be an https URL with a host, got {url!r}")


def _need(name: str, rule: str, value: object) -> str:
    if value is None:
        return f"{name} is required and {rule}"
    return f"{name} {rule}, got {value!r}"
