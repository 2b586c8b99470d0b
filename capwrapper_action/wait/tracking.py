"""What the waiter knows of one platform's build: the status last seen and since when, whether
it has left the queue, when it was last seen queued, its age, its next planned check and its
run of failed checks (a ``RetryBudget`` while checks keep failing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from capwrapper_action.api.models import KNOWN_STATUSES, Build, BuildStatus, Platform
from capwrapper_action.result import PlatformState
from capwrapper_action.retry import RetryBudget
from capwrapper_action.timeutil import Clock, parse_timestamp
from capwrapper_action.wait.polling import PollStrategy

MAX_AGE = 24 * 3600.0  # a build "older" than this has a wrong timestamp


@dataclass
class Track:
    platform: Platform
    state: PlatformState
    build_id: str
    strategy: PollStrategy
    age0: float  # the build's age when the wait began
    status: str
    since: float  # clock time the current status was first seen
    next_at: float
    last_queued: datetime | None = None
    final: bool = False
    left_queue: bool = False  # seen in any status but `queued` once: queue-timeout is over
    failing: RetryBudget | None = None  # while status checks keep failing
    unknown: set[str] = field(default_factory=set)

    @classmethod
    def begin(
        cls,
        platform: Platform,
        state: PlatformState,
        strategy: PollStrategy,
        *,
        now: float,
        clock: Clock,
    ) -> Track:
        """The track of ``state.build`` at the start of the wait (``now``, clock time)."""
        build = state.build
        if build is None:
            raise ValueError(f"no {platform} build to wait for")
        queued = build.status == BuildStatus.QUEUED
        wall = clock.wall()
        return cls(
            platform, state, build.id, strategy, _age(build, wall), build.status, now, now,
            last_queued=wall if queued else None, final=build.is_final, left_queue=not queued,
        )

    def record(self, build: Build, clock: Clock) -> bool:
        """Keep the answer in the state and note when the build was queued or started.
        True when its status is one the API does not document and this track has not seen."""
        state, status = self.state, build.status
        state.build = build
        self.final = build.is_final
        new_unknown = status not in KNOWN_STATUSES and status not in self.unknown
        if new_unknown:
            self.unknown.add(status)
        if status == BuildStatus.QUEUED:
            self.last_queued = clock.wall()
            return new_unknown
        self.left_queue = True
        if status == BuildStatus.BUILDING and state.started_at is None:
            state.started_at = _reported_start(build) or clock.wall()
        elif self.final and state.started_at is None:
            state.started_at = _reported_start(build) or self.last_queued
        return new_unknown


def _age(build: Build, wall: datetime) -> float:
    """Seconds since the build was created, by the runner's clock; 0 when unknown."""
    if build.created_at is None:
        return 0.0
    age = (wall - build.created_at).total_seconds()
    return max(0.0, min(age, MAX_AGE))


def _reported_start(build: Build) -> datetime | None:
    """A start time the server reported itself (not in the documented API, but cheap to use)."""
    return parse_timestamp(build.raw.get("startedAt"))
