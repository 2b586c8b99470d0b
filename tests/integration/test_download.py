"""Downloading the binaries from the simulator's signed URLs, over real HTTP on 127.0.0.1.

Waits between attempts run on a virtual clock, so retries cost no real time.
"""

from __future__ import annotations

import io
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from capwrapper_action.api.models import Build, Platform
from capwrapper_action.errors import CancelledError, DownloadError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.release.download import download_artifacts, slug
from capwrapper_action.release.fetching import Fetcher, extension_for, redact_url
from capwrapper_action.result import PlatformState
from capwrapper_action.retry import Retrier, RetryPolicy
from capwrapper_simulator import Fault, ManualClock, SimConfig, Simulator
from tests.virtual_clock import VirtualClock

APP = "Example Shop!"


class SteppingClock(VirtualClock):
    """Moves ``step`` seconds each time it is read, as a slow transfer would."""

    def __init__(self, step: float) -> None:
        super().__init__()
        self.step = step

    def now(self) -> float:
        self.t += self.step
        return self.t


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(artifact_size=300 * 1024), clock=ManualClock()) as running:
        yield running


@pytest.fixture
def session() -> Iterator[requests.Session]:
    """A session set up like the API client's: it must not lend its credentials."""
    with requests.Session() as http:
        http.headers["Authorization"] = "Bearer sim-key"
        http.auth = ("user", "password")
        yield http


def _states(sim: Simulator, *platforms: Platform) -> dict[Platform, PlatformState]:
    states: dict[Platform, PlatformState] = {}
    for platform in platforms:
        seeded = sim.seed_build(platform=platform, bundle_id="com.example.shop", version="1.4.0")
        states[platform] = PlatformState(platform, build=Build.from_api(seeded.payload))
    return states


class _HookedIO(ActionIO):
    def __init__(self, out: io.StringIO, hook: Callable[[str], None]) -> None:
        super().__init__(out)
        self.hook = hook

    def info(self, message: str) -> None:
        super().info(message)
        self.hook(message)


def _download(
    session: requests.Session,
    states: dict[Platform, PlatformState],
    dest: Path,
    *,
    clock: VirtualClock | None = None,
    cancel: threading.Event | None = None,
    workspace: Path | None = None,
    policy: RetryPolicy | None = None,
    on_line: Callable[[str], None] | None = None,
) -> tuple[str, VirtualClock]:
    out = io.StringIO()
    clock = clock or VirtualClock()
    cancel = cancel or threading.Event()
    hooked = _HookedIO(out, on_line or (lambda line: None))
    retrier = Retrier(clock, cancel, hooked, policy=policy, rng=random.Random(0))
    try:
        download_artifacts(
            Fetcher(session, clock, cancel, hooked, retrier, timeout=(2, 5)), states,
            dest_dir=dest, app_name=APP, version="9.9.9", workspace=workspace,
        )  # fmt: skip
    finally:
        log = out.getvalue()
        assert "signature=" not in log
        assert "expires=" not in log
    return log, clock


def test_complete_files_named_by_app_platform_and_version(
    sim: Simulator, session: requests.Session, tmp_path: Path
) -> None:
    states = _states(sim, "android", "ios")
    dest = tmp_path / "capwrapper-artifacts"
    log, clock = _download(session, states, dest, workspace=tmp_path)
    assert sorted(p.name for p in dest.iterdir()) == [
        "example-shop-android-1.4.0.apk",
        "example-shop-ios-1.4.0.ipa",
    ]
    for state in states.values():
        assert state.build is not None
        assert state.artifact_path is not None
        assert state.artifact_path.startswith("capwrapper-artifacts/example-shop-")
        saved = tmp_path / state.artifact_path
        assert saved.read_bytes() == sim.artifact_bytes(state.build.id)
    assert clock.sleeps == []
    assert "android: saved" in log
    assert "300.0 KiB" in log
    assert sim.request_count("download", status=200) == 2


def test_no_credentials_go_to_the_download_host(
    sim: Simulator, session: requests.Session, tmp_path: Path
) -> None:
    sent: list[str | None] = []

    def record(resp: requests.Response, *args: object, **kwargs: object) -> None:
        sent.append(resp.request.headers.get("Authorization"))

    session.hooks["response"].append(record)
    _download(session, _states(sim, "android"), tmp_path)
    assert sent == [None]
    records = sim.requests("download")
    assert len(records) == 1
    assert records[0].key_fingerprint is None


def test_interrupted_transfer_is_retried(
    sim: Simulator, session: requests.Session, tmp_path: Path
) -> None:
    states = _states(sim, "android")
    sim.faults.add(Fault(endpoint="download", kind="truncate", times=1))
    log, clock = _download(session, states, tmp_path)
    build = states["android"].build
    assert build is not None
    assert Path(str(states["android"].artifact_path)).read_bytes() == sim.artifact_bytes(build.id)
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] <= 1.0  # the first backoff of the one retry policy
    assert "Retrying the android download in " in log
    assert "; it failed: " in log
    assert [p.name for p in tmp_path.iterdir()] == ["example-shop-android-1.4.0.apk"]


def test_server_errors_are_retried_with_backoff(
    sim: Simulator, session: requests.Session, tmp_path: Path
) -> None:
    states = _states(sim, "ios")
    sim.faults.add(Fault(endpoint="download", kind="http_error", status=503, times=2))
    log, clock = _download(session, states, tmp_path)
    assert len(clock.sleeps) == 2
    assert clock.sleeps[0] <= 1.0
    assert clock.sleeps[1] <= 2.0  # the ceiling doubles
    assert "HTTP 503" in log
    assert states["ios"].artifact_path == str(tmp_path / "example-shop-ios-1.4.0.ipa")


def test_final_failure_leaves_no_file_behind(
    sim: Simulator, session: requests.Session, tmp_path: Path
) -> None:
    states = _states(sim, "android", "ios")
    sim.faults.add(Fault(endpoint="download", kind="truncate", times=None))
    policy = RetryPolicy(budget_seconds=20.0)
    with pytest.raises(DownloadError) as caught:
        _download(session, states, tmp_path, policy=policy,
                  on_line=lambda line: sim.faults.clear() if "could not" in line else None)
    message = caught.value.message
    assert f"android binary could not be downloaded from {sim.origin}/v1/artifacts/" in message
    assert "(gave up after " in message
    assert " attempts in 20s)" in message  # bounded by time, not by a count
    assert "signature" not in message
    assert caught.value.hint
    assert states["android"].artifact_path is None
    # The other platform was still downloaded; nothing half-written is left.
    assert [p.name for p in tmp_path.iterdir()] == ["example-shop-ios-1.4.0.ipa"]


def test_expired_link_is_not_retried(
    sim: Simulator, session: requests.Session, tmp_path: Path
) -> None:
    states = _states(sim, "android")
    sim.advance(sim.config.download_url_ttl + 60)
    with pytest.raises(DownloadError) as caught:
        _download(session, states, tmp_path)
    assert "HTTP 403 (the signed link may have expired)" in caught.value.message
    assert "The download link has expired." in caught.value.message
    assert sim.request_count("download") == 1
    assert list(tmp_path.iterdir()) == []


def test_unreachable_host_fails_after_the_attempts(
    session: requests.Session, tmp_path: Path
) -> None:
    build = Build.from_api(
        {"id": "bld_1", "status": "success", "downloadUrl": "http://127.0.0.1:9/a.apk?sig=s3cret"}
    )
    states: dict[Platform, PlatformState] = {"android": PlatformState("android", build=build)}
    with pytest.raises(DownloadError) as caught:
        _download(session, states, tmp_path)
    assert "s3cret" not in caught.value.message
    assert "http://127.0.0.1:9/a.apk" in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_progress_lines_for_a_large_file(
    sim: Simulator, session: requests.Session, tmp_path: Path
) -> None:
    sim.config.artifact_size = 3 * 1024 * 1024
    log, _ = _download(session, _states(sim, "android"), tmp_path, clock=SteppingClock(2.0))
    progress = [line for line in log.splitlines() if line.endswith("downloaded")]
    assert progress
    assert "of 3.0 MiB (" in progress[0]


def test_cancel_stops_the_download_and_removes_the_part_file(
    sim: Simulator, session: requests.Session, tmp_path: Path
) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        _download(session, _states(sim, "android"), tmp_path, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_only_successful_builds_with_a_url_are_downloaded(
    sim: Simulator, session: requests.Session, tmp_path: Path
) -> None:
    failed = Build.from_api({"id": "bld_2", "status": "failed", "error": "x"})
    states: dict[Platform, PlatformState] = {
        "android": PlatformState("android", build=failed),
        "ios": PlatformState("ios"),
    }
    log, _ = _download(session, states, tmp_path / "never")
    assert "nothing to download" in log
    assert not (tmp_path / "never").exists()
    assert sim.request_count("download") == 0


@pytest.mark.parametrize(
    ("platform", "url", "disposition", "expected"),
    [
        ("android", "https://h/a/bld_1.apk?x=1", None, ".apk"),
        ("android", "https://h/a/bld_1.AAB", None, ".aab"),
        ("ios", "https://h/download?id=1", 'attachment; filename="App.ipa"', ".ipa"),
        ("ios", "https://h/x.zip", "attachment; filename*=UTF-8''My%20App.IPA", ".ipa"),
        ("android", "https://h/download", None, ".apk"),
        ("ios", "https://h/download", 'attachment; filename="../../etc/passwd"', ".ipa"),
        ("ios", "https://h/evil.sh%2F..%2Fx", 'attachment; filename="a.b c"', ".ipa"),
    ],
)
def test_extension_from_header_url_or_platform(
    platform: str, url: str, disposition: str | None, expected: str
) -> None:
    assert extension_for(platform, url, disposition) == expected


def test_names_are_slugs_and_urls_are_logged_without_query() -> None:
    assert slug("Example Shop!", "app") == "example-shop"
    assert slug("../../", "app") == "app"
    assert slug("1.4.0+build.7", "x") == "1.4.0+build.7"
    assert slug("Café Ünïcode", "app") == "caf-n-code"
    assert (
        redact_url("https://u:p@cdn.test:8443/a/b.apk?sig=1#frag")
        == "https://cdn.test:8443/a/b.apk"
    )
