"""Download the binaries of successful builds into a folder.

One file per platform, named ``<app>-<platform>-<version><extension>``; ``fetching`` moves
the bytes (a temporary file renamed once complete, retries, the signed URL kept out of logs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from capwrapper_action.api.models import BuildStatus, Platform
from capwrapper_action.errors import DownloadError
from capwrapper_action.release.fetching import Fetcher, FetchJob
from capwrapper_action.result import PlatformState

NO_LINK_HINT = (
    "Resume with `build-id` to ask for the build again; if it still has no link, download it "
    "from the Capwrapper dashboard."
)


def download_artifacts(
    fetcher: Fetcher,
    states: Mapping[Platform, PlatformState],
    *,
    dest_dir: Path,
    app_name: str,
    version: str,
    workspace: Path | None = None,
) -> None:
    """Download every successful build with a ``download_url``; set ``artifact_path``
    (relative to ``workspace`` when the file is inside it: later steps run outside the
    container, where only the relative path holds).

    All platforms are tried; a DownloadError after that names every one that failed."""
    jobs, missing = _jobs(states, dest_dir, app_name, version)
    if not jobs and not missing:
        fetcher.log.info("No successful build: nothing to download.")
        return
    if not jobs:
        raise DownloadError(" ".join(missing), hint=NO_LINK_HINT)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadError(f"Cannot create the folder {dest_dir}: {err.strerror}.") from None
    failures = _fetch_all(fetcher, jobs, states, workspace)
    if failures or missing:
        raise DownloadError(
            " ".join([*failures, *missing]),
            hint=NO_LINK_HINT if not failures else
            "Signed links expire: re-run the job, or resume with `build-id` for fresh links.",
        )


def _fetch_all(
    fetcher: Fetcher,
    jobs: list[FetchJob],
    states: Mapping[Platform, PlatformState],
    workspace: Path | None,
) -> list[str]:
    failures: list[str] = []
    for job in jobs:
        try:
            path = fetcher.fetch(job)
        except DownloadError as err:
            fetcher.log.info(f"{job.platform}: {err.message}")
            failures.append(err.message)
            continue
        if workspace is not None and path.is_relative_to(workspace):
            path = path.relative_to(workspace)
        states[job.platform].artifact_path = str(path)
    return failures


def _jobs(
    states: Mapping[Platform, PlatformState], dest_dir: Path, app_name: str, version: str
) -> tuple[list[FetchJob], list[str]]:
    """A job per successful build with a ``downloadUrl``; a message per one without."""
    jobs, missing = [], []
    for platform, state in states.items():
        build = state.build
        if build is None or build.status != BuildStatus.SUCCESS:
            continue
        if not build.download_url:
            missing.append(f"The {platform} build {build.id} succeeded but Capwrapper gave no "
                           "downloadUrl for it, so there is nothing to download.")
            continue
        name = f"{slug(app_name, 'app')}-{platform}-{slug(build.version or version, 'unknown')}"
        jobs.append(FetchJob(platform, build.download_url, dest_dir / name))
    return jobs, missing


def slug(text: str, fallback: str) -> str:
    """A file-name-safe piece: ASCII letters, digits, `.`, `+`; other runs become `-`."""
    cleaned = re.sub(r"[^A-Za-z0-9.+]+", "-", text.lower()).strip("-.")
    return re.sub(r"\.{2,}", ".", cleaned)[:60].strip("-.") or fallback
