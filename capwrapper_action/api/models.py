"""What the API returns, read leniently: unknown fields are kept in ``raw``, missing or
mistyped optional fields become None, and only a missing id is an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from capwrapper_action.errors import UnexpectedResponseError
from capwrapper_action.timeutil import parse_timestamp

Platform = Literal["android", "ios"]
PLATFORMS: tuple[Platform, ...] = ("android", "ios")


class BuildStatus(StrEnum):
    """The build statuses the API docs list. A server may send others, so ``Build.status``
    stays text; compare it with these members."""

    QUEUED = "queued"
    BUILDING = "building"
    SUCCESS = "success"
    FAILED = "failed"


FINAL_STATUSES = frozenset({BuildStatus.SUCCESS, BuildStatus.FAILED})
KNOWN_STATUSES = frozenset(BuildStatus)
# Words of statuses the docs do not list but that say the build ended (compared without
# case, spaces, hyphens or underscores): "cancelled", "timed_out", "Timed Out"...
ENDED_WORDS = frozenset({
    "cancelled", "canceled", "cancel", "expired", "aborted", "abort", "error", "errored",
    "rejected", "timedout", "timeout", "killed", "terminated", "stopped", "failure",
    "crashed", "denied", "dropped", "skipped",
})


def status_ended(status: str) -> bool:
    """True when ``status`` says the build will not change any more."""
    if status in FINAL_STATUSES:
        return True
    return "".join(ch for ch in status.lower() if ch.isalnum()) in ENDED_WORDS


MAX_TEXT = 2000  # longest server text kept in a field (errors, names) — bodies can be huge


def _text(value: object, limit: int = MAX_TEXT) -> str | None:
    if isinstance(value, (int, float)):
        value = str(value)
    return value[:limit] if isinstance(value, str) else None


def _object_with_id(obj: object, what: str) -> tuple[Mapping[str, Any], str]:
    if not isinstance(obj, Mapping):
        raise UnexpectedResponseError(
            f"Expected a JSON object for the {what}, got {type(obj).__name__}."
        )
    ident = obj.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise UnexpectedResponseError(f"The {what} in the answer has no 'id'.")
    return obj, ident[:200]


@dataclass(frozen=True)
class Build:
    id: str
    status: str
    platform: str | None = None
    version: str | None = None
    bundle_id: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    download_url: str | None = field(default=None, repr=False)
    error: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_final(self) -> bool:
        """Finished: ``success`` or ``failed``, a ``completedAt``, or a status that says the
        build ended (``cancelled``, ``expired``, ``timed out``...)."""
        return self.completed_at is not None or status_ended(self.status)

    @property
    def failed(self) -> bool:
        """Finished in anything but ``success``."""
        return self.is_final and self.status != BuildStatus.SUCCESS

    @property
    def duration(self) -> float | None:
        """Seconds from creation to completion, when both are known."""
        if self.created_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.created_at).total_seconds()

    @classmethod
    def from_api(cls, obj: object) -> Build:
        obj, build_id = _object_with_id(obj, "build")
        status = _text(obj.get("status"), 64) or "unknown"
        return cls(
            id=build_id,
            status=status.strip().lower(),
            platform=_text(obj.get("platform"), 32),
            version=_text(obj.get("version"), 128),
            bundle_id=_text(obj.get("bundleId"), 256),
            created_at=parse_timestamp(obj.get("createdAt")),
            completed_at=parse_timestamp(obj.get("completedAt")),
            download_url=_text(obj.get("downloadUrl"), 8192),
            error=_text(obj.get("error")),
            raw=dict(obj),
        )


@dataclass(frozen=True)
class Deploy:
    id: str
    build_id: str
    status: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, obj: object, build_id: str) -> Deploy:
        obj, deploy_id = _object_with_id(obj, "deploy")
        status = _text(obj.get("status"), 64)
        return cls(id=deploy_id, build_id=build_id, status=status, raw=dict(obj))
