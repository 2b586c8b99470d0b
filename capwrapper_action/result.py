"""What the run learnt so far. Every phase records into one ``RunResult`` so that outputs and
the summary can be written as far as known, whatever ended the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from capwrapper_action.api.models import Build, Deploy, Platform
from capwrapper_action.errors import ActionError


class RunStatus(StrEnum):
    """How the whole run ended: the `status` output."""

    SUCCESS = "success"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    CREATED = "created"
    DRY_RUN = "dry_run"


OK_STATUSES = frozenset({RunStatus.SUCCESS, RunStatus.CREATED, RunStatus.DRY_RUN})  # exit code 0


@dataclass
class PlatformState:
    platform: Platform
    build: Build | None = None
    started_at: datetime | None = None  # when this run first saw the build `building`
    adopted: bool = False  # found again through the list after a create whose answer was lost
    reused_from: str = ""  # where an earlier run's build was found (the commit's record, …)
    deploy_reused: bool = False  # ``deploy`` was recorded by an earlier run, not made now
    deploy_unknown: bool = False  # a deploy whose answer was lost (this run's, or recorded)
    created: bool = False  # created (or adopted) by this run, moments before the wait
    deploy: Deploy | None = None
    artifact_path: str | None = None

    @property
    def status(self) -> str:
        return self.build.status if self.build else "not created"

    @property
    def queue_seconds(self) -> float | None:
        build = self.build
        if build is None or build.created_at is None or self.started_at is None:
            return None  # never seen leaving the queue (e.g. resumed while building)
        return max(0.0, (self.started_at - build.created_at).total_seconds())

    @property
    def build_seconds(self) -> float | None:
        build = self.build
        if build is None or build.completed_at is None:
            return None
        start = self.started_at or build.created_at
        return None if start is None else max(0.0, (build.completed_at - start).total_seconds())


@dataclass
class GateDecision:
    """Whether the finished builds go to the stores, and why (not)."""

    requested: bool
    allowed: bool
    reason: str
    labels: tuple[str, ...] = ()
    labels_source: str = ""  # "api", "event payload", or "" when no labels were needed


@dataclass
class RunResult:
    platforms: dict[Platform, PlatformState]
    status: RunStatus = RunStatus.FAILED
    version: str | None = None
    commit_sha: str | None = None
    pull_request: int | None = None
    gate: GateDecision | None = None
    deploy_attempted: bool = False
    error: ActionError | None = None
    notes: list[str] = field(default_factory=list)
    resume_hint: str = ""
    unreachable_seconds: float = 0.0  # total time the API kept failing (transient errors)

    @classmethod
    def for_platforms(cls, platforms: tuple[Platform, ...]) -> RunResult:
        return cls(platforms={p: PlatformState(p) for p in platforms})

    @property
    def builds(self) -> list[Build]:
        return [s.build for s in self.platforms.values() if s.build is not None]

    @property
    def deployed(self) -> bool:
        states = self.platforms.values()
        return bool(states) and all(s.deploy is not None for s in states)
