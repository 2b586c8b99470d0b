"""Settings of a simulator: timings, outcomes, auth, rate limits and response shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PLATFORMS = ("android", "ios")
ListShape = Literal["data", "array", "builds", "items", "cursor", "link"]
LIST_SHAPES: tuple[ListShape, ...] = ("data", "array", "builds", "items", "cursor", "link")
RetryAfterStyle = Literal["seconds", "http-date", "none"]
RETRY_AFTER_STYLES: tuple[RetryAfterStyle, ...] = ("seconds", "http-date", "none")
TimestampStyle = Literal["millis-z", "micros-offset", "seconds-z"]
TIMESTAMP_STYLES: tuple[TimestampStyle, ...] = ("millis-z", "micros-offset", "seconds-z")
DEFAULT_FAILURE = "Build failed: the web app could not be wrapped."


@dataclass
class PlatformConfig:
    """Per-platform overrides; ``None`` keeps the global value of ``SimConfig``."""

    queue_seconds: float | None = None
    build_seconds: float | None = None
    outcome: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class BuildPlan:
    """How one build will progress, fixed when it is created."""

    queue_seconds: float
    build_seconds: float
    outcome: str
    failure_message: str


@dataclass
class SimConfig:
    """Everything a simulator can be told. Read on every request, so a test may change a field
    of a running simulator's ``config`` between requests."""

    host: str = "127.0.0.1"
    port: int = 0
    api_keys: frozenset[str] = frozenset({"sim-key"})
    queue_seconds: float = 0.1
    build_seconds: float = 0.4
    # "success", "failed", or any other final status string (to test unknown statuses).
    outcome: str = "success"
    failure_message: str = DEFAULT_FAILURE
    platforms: dict[str, PlatformConfig] = field(default_factory=dict)
    create_status: int = 201
    deploy_status: str = "queued"
    # (requests, window seconds) per API key; None: no limit.
    rate_limit: tuple[int, float] | None = None
    retry_after: RetryAfterStyle = "seconds"
    honour_idempotency_key: bool = False
    list_shape: ListShape = "data"
    default_page_size: int = 20
    max_page_size: int = 100
    require_json_content_type: bool = True
    artifact_size: int = 64 * 1024
    download_url_ttl: float = 3600.0
    timestamp_style: TimestampStyle = "millis-z"
    # Fields the API adds that no client knows about: clients must ignore them.
    extra_fields: dict[str, Any] = field(
        default_factory=lambda: {"region": "eu", "runner": {"pool": "sim", "slots": 2}}
    )
    verbose: bool = False

    def __post_init__(self) -> None:
        self.api_keys = frozenset(self.api_keys)
        self.check()

    def check(self) -> None:
        """Raise ``ValueError`` on settings that make no sense."""
        if self.list_shape not in LIST_SHAPES:
            raise ValueError(f"list_shape must be one of {', '.join(LIST_SHAPES)}")
        if self.retry_after not in RETRY_AFTER_STYLES:
            raise ValueError(f"retry_after must be one of {', '.join(RETRY_AFTER_STYLES)}")
        if self.timestamp_style not in TIMESTAMP_STYLES:
            raise ValueError(f"timestamp_style must be one of {', '.join(TIMESTAMP_STYLES)}")
        if self.rate_limit is not None and (self.rate_limit[0] < 1 or self.rate_limit[1] <= 0):
            raise ValueError("rate_limit must be (requests >= 1, window seconds > 0)")
        if self.queue_seconds < 0 or self.build_seconds < 0 or self.artifact_size < 0:
            raise ValueError("durations and sizes must not be negative")
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ValueError("default_page_size must be between 1 and max_page_size")
        for name in self.platforms:
            if name not in PLATFORMS:
                raise ValueError(f"unknown platform {name!r} in platforms")

    def plan_for(self, platform: str) -> BuildPlan:
        """The timings and outcome a new build of ``platform`` gets."""
        over = self.platforms.get(platform, PlatformConfig())
        return BuildPlan(
            queue_seconds=_pick(over.queue_seconds, self.queue_seconds),
            build_seconds=_pick(over.build_seconds, self.build_seconds),
            outcome=over.outcome if over.outcome is not None else self.outcome,
            failure_message=(
                over.failure_message if over.failure_message is not None else self.failure_message
            ),
        )


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value
