"""What the simulator remembers: builds, deploys, the request log and idempotent replies."""

from __future__ import annotations

import hashlib
import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import Any

from capwrapper_simulator.config import BuildPlan
from capwrapper_simulator.replies import Reply
from capwrapper_simulator.validation import check_version_higher, semver_key

_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_LENGTH = 12


def new_id(prefix: str) -> str:
    """``bld_`` or ``dep_`` and 12 random lowercase letters and digits."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def key_fingerprint(api_key: str) -> str:
    """What the request log keeps of an API key: 12 hex digits of its SHA-256."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class BuildRecord:
    """One build. Its status is not stored: it follows from the clock (see ``status_at``)."""

    id: str
    platform: str
    fields: dict[str, Any]
    created_at: float
    plan: BuildPlan
    seeded: bool = False
    key_fingerprint: str | None = None
    seq: int = 0

    @property
    def bundle_id(self) -> str:
        return str(self.fields.get("bundleId", ""))

    @property
    def version(self) -> str:
        return str(self.fields.get("version", ""))

    @property
    def completed_at(self) -> float:
        return self.created_at + self.plan.queue_seconds + self.plan.build_seconds

    def status_at(self, now: float) -> str:
        if now < self.created_at + self.plan.queue_seconds:
            return "queued"
        if now < self.completed_at:
            return "building"
        return self.plan.outcome


@dataclass(frozen=True)
class DeployRecord:
    id: str
    build_id: str
    status: str
    created_at: float
    fields: dict[str, Any]
    key_fingerprint: str | None = None


@dataclass(frozen=True)
class RequestRecord:
    """One request as the log keeps it (``status`` None: the connection was dropped)."""

    at: float
    method: str
    path: str
    query: str
    endpoint: str
    status: int | None
    key_fingerprint: str | None
    fault: str | None = None


@dataclass
class SimState:
    """All mutable state, behind one lock."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    builds: dict[str, BuildRecord] = field(default_factory=dict)
    deploys: list[DeployRecord] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    idempotent: dict[tuple[str, str, str], Reply] = field(default_factory=dict)

    def add_build(
        self,
        fields: dict[str, Any],
        plan: BuildPlan,
        now: float,
        *,
        seeded: bool = False,
        fingerprint: str | None = None,
    ) -> BuildRecord:
        """Store a build after checking its version is above the latest of its bundle id and
        platform (raises ``InvalidRequest`` otherwise; seeded history is not checked)."""
        platform, bundle_id = str(fields["platform"]), str(fields["bundleId"])
        with self.lock:
            if not seeded:
                latest = self.latest_version(bundle_id, platform)
                check_version_higher(str(fields["version"]), latest, bundle_id, platform)
            record = BuildRecord(
                id=new_id("bld_"),
                platform=platform,
                fields=dict(fields),
                created_at=now,
                plan=plan,
                seeded=seeded,
                key_fingerprint=fingerprint,
                seq=len(self.builds),
            )
            self.builds[record.id] = record
            return record

    def latest_version(self, bundle_id: str, platform: str) -> str | None:
        """The highest version of any build (failed ones too) of this bundle id and platform."""
        with self.lock:
            versions = [
                b.version
                for b in self.builds.values()
                if b.bundle_id == bundle_id and b.platform == platform
            ]
        keyed = [(semver_key(v), v) for v in versions]
        valid = [(k, v) for k, v in keyed if k is not None]
        return max(valid)[1] if valid else None

    def newest_first(self) -> list[BuildRecord]:
        with self.lock:
            builds = list(self.builds.values())
        return sorted(builds, key=lambda b: (b.created_at, b.seq), reverse=True)

    def add_deploy(self, record: DeployRecord) -> None:
        with self.lock:
            self.deploys.append(record)

    def log(self, record: RequestRecord) -> None:
        with self.lock:
            self.requests.append(record)

    def build(self, build_id: str) -> BuildRecord | None:
        with self.lock:
            return self.builds.get(build_id)
