"""``Simulator``: a Capwrapper API on 127.0.0.1 in a background thread, for tests and demos."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from capwrapper_simulator.api import Gate
from capwrapper_simulator.clock import ManualClock, RealClock, SimClock
from capwrapper_simulator.config import PLATFORMS, BuildPlan, SimConfig
from capwrapper_simulator.endpoints import Endpoints
from capwrapper_simulator.faults import FaultSet
from capwrapper_simulator.handler import Backend, SimServer
from capwrapper_simulator.signing import UrlSigner, artifact_bytes
from capwrapper_simulator.state import (
    BuildRecord,
    DeployRecord,
    RequestRecord,
    SimState,
)
from capwrapper_simulator.validation import semver_key


@dataclass(frozen=True)
class BuildSnapshot:
    """A build as a test sees it: the record, and its status and API object at snapshot time."""

    record: BuildRecord
    status: str
    payload: dict[str, Any]

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def platform(self) -> str:
        return self.record.platform

    @property
    def seeded(self) -> bool:
        return self.record.seeded


class Simulator:
    """Start with ``with Simulator(SimConfig(...)) as sim:`` or ``start()``/``stop()``."""

    def __init__(self, config: SimConfig | None = None, *, clock: SimClock | None = None) -> None:
        self._config = config or SimConfig()
        self._clock: SimClock = clock or RealClock()
        self.faults = FaultSet()
        self.state = SimState()
        self._signer = UrlSigner()
        self._endpoints = Endpoints(self._config, self.state, self._clock, self._signer)
        gate = Gate(self._config, self.state, self._clock, self._endpoints.handlers())
        self._stopping = threading.Event()
        self._backend = Backend(
            self.config, self.state, self.clock, self.faults, gate, self._stopping
        )
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def config(self) -> SimConfig:
        """The live settings: change its fields (not the object) to alter a running simulator."""
        return self._config

    @property
    def clock(self) -> SimClock:
        return self._clock

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Simulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = SimServer((self.config.host, self.config.port), self._backend)
        self._port = int(self._server.server_address[1])
        self._endpoints.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="capwrapper-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound port (kept after ``stop()``); an error before ``start()``."""
        if self._port is None:
            raise RuntimeError("the simulator has not been started")
        return self._port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host = self.config.host if self.config.host not in ("", "0.0.0.0") else "127.0.0.1"  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``: what a client takes as its API URL."""
        return f"{self.origin}/v1"

    @property
    def api_key(self) -> str:
        """One valid API key (the first in sorted order)."""
        return sorted(self.config.api_keys)[0]

    # -- seeding and introspection --------------------------------------------------------
    def seed_build(
        self,
        *,
        platform: str,
        bundle_id: str,
        version: str,
        duration: float = 60.0,
        status: str = "success",
        finished_ago: float = 3600.0,
        app_name: str = "Seeded App",
        url: str = "https://app.example.com",
        error: str | None = None,
        permissions: list[str] | None = None,
        **extra: Any,
    ) -> BuildSnapshot:
        """Add a build that finished ``finished_ago`` seconds ago after running ``duration``
        seconds (all of it counted as building). Seeds skip the "version must be higher" rule,
        so history may be seeded in any order."""
        if platform not in PLATFORMS or semver_key(version) is None:
            raise ValueError("seed_build needs platform android|ios and a semver version")
        fields: dict[str, Any] = {
            "url": url,
            "appName": app_name,
            "bundleId": bundle_id,
            "version": version,
            "platform": platform,
            "permissions": list(permissions or []),
            **extra,
        }
        message = error if error is not None else self.config.plan_for(platform).failure_message
        plan = BuildPlan(0.0, duration, status, message)
        created = self.clock.now() - finished_ago - duration
        record = self.state.add_build(fields, plan, created, seeded=True)
        return self._snapshot(record)

    def builds(
        self, *, platform: str | None = None, seeded: bool | None = None
    ) -> list[BuildSnapshot]:
        """Builds in creation order (seeded ones included unless ``seeded=False``)."""
        with self.state.lock:
            records = list(self.state.builds.values())
        return [
            self._snapshot(r)
            for r in records
            if (platform is None or r.platform == platform)
            and (seeded is None or r.seeded == seeded)
        ]

    def build(self, build_id: str) -> BuildSnapshot:
        record = self.state.build(build_id)
        if record is None:
            raise KeyError(build_id)
        return self._snapshot(record)

    def deploys(self) -> list[DeployRecord]:
        with self.state.lock:
            return list(self.state.deploys)

    def requests(self, endpoint: str | None = None) -> list[RequestRecord]:
        """The request log, oldest first (optionally one endpoint's requests)."""
        with self.state.lock:
            log = list(self.state.requests)
        return [r for r in log if endpoint is None or r.endpoint == endpoint]

    def request_count(
        self, endpoint: str | None = None, *, method: str | None = None, status: int | None = None
    ) -> int:
        return sum(
            1
            for r in self.requests(endpoint)
            if (method is None or r.method == method) and (status is None or r.status == status)
        )

    def created_count(self, platform: str | None = None) -> int:
        """How many builds clients created (seeded ones not counted)."""
        return len(self.builds(platform=platform, seeded=False))

    def artifact_bytes(self, build_id: str) -> bytes:
        """The exact bytes the download of ``build_id`` serves."""
        return artifact_bytes(build_id, self.config.artifact_size)

    def reset_rate_limits(self) -> None:
        self._backend.gate.limiter.reset()

    def advance(self, seconds: float) -> None:
        """Move a ``ManualClock`` forward (error with a real clock)."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a simulator built with clock=ManualClock()")
        self.clock.advance(seconds)

    def _snapshot(self, record: BuildRecord) -> BuildSnapshot:
        payload = self._endpoints.view(record.id) or {}
        return BuildSnapshot(record, str(payload.get("status", "")), payload)
