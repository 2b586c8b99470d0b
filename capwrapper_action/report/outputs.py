"""The step outputs, computed from the ``RunResult``: every output of action.yml, always.

An output that is not known is the empty string, so that workflows can test it with ``!= ''``
whatever ended the run. The JSON outputs hold the objects as the API returned them; they are
capped so that the outputs stay far below the runner's 1 MB per job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from capwrapper_action.api.models import PLATFORMS, Build, BuildStatus
from capwrapper_action.result import OK_STATUSES, PlatformState, RunResult, RunStatus

PER_PLATFORM = ("build-id", "status", "download-url", "artifact-path")
OUTPUT_NAMES: tuple[str, ...] = (  # the order of action.yml
    "status",
    "error",
    "version",
    "builds",
    *(f"{p}-{name}" for name in PER_PLATFORM for p in PLATFORMS),
    "commit-sha",
    "pull-request",
    "deployed",
    "deploys",
    *(f"{p}-deploy-id" for p in PLATFORMS),
    "deploy-skipped-reason",
    *(f"{p}-reused" for p in PLATFORMS),
)
JSON_LIMIT = 200_000  # characters of one JSON output before its long strings are cut
TEXT_LIMIT = 8192  # characters of one text output (error, reasons)
_STRING_CUT = 1000  # characters each string keeps when a JSON output is over JSON_LIMIT
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BUILD_FIELDS = ("id", "status", "platform", "version", "bundle_id", "download_url", "error")
_API_NAMES = {"bundle_id": "bundleId", "download_url": "downloadUrl"}  # where they differ


def build_outputs(result: RunResult) -> dict[str, str]:
    """Every output named in action.yml, as text, in the order of ``OUTPUT_NAMES``."""
    deploys = [s.deploy for s in result.platforms.values() if s.deploy is not None]
    values: dict[str, str] = {
        "status": result.status,
        "error": _error(result)[:TEXT_LIMIT],
        "version": result.version or "",
        "builds": to_json([_build_object(b) for b in result.builds]),
        "commit-sha": result.commit_sha or "",
        "pull-request": "" if result.pull_request is None else str(result.pull_request),
        "deployed": "true" if result.deployed else "false",
        "deploys": to_json([dict(d.raw) or {"id": d.id, "buildId": d.build_id} for d in deploys]),
        "deploy-skipped-reason": skipped_reason(result)[:TEXT_LIMIT],
    }
    for platform in PLATFORMS:  # one the run did not build has an empty state
        values.update(_platform_outputs(result.platforms.get(platform) or PlatformState(platform)))
    return {name: _text(values.get(name, "")) for name in OUTPUT_NAMES}


def _platform_outputs(state: PlatformState) -> dict[str, str]:
    build, deploy, platform = state.build, state.deploy, state.platform
    url = build.download_url if build and build.status == BuildStatus.SUCCESS else None
    return {
        f"{platform}-build-id": build.id if build else "",
        f"{platform}-status": build.status if build else "",
        f"{platform}-download-url": url or "",
        f"{platform}-artifact-path": state.artifact_path or "",
        f"{platform}-deploy-id": deploy.id if deploy else "",
        f"{platform}-reused": "true" if state.reused_from else "false",
    }


def _error(result: RunResult) -> str:
    """The error that ended the run; for a run that did not succeed without one (a build
    failed, the wait timed out or was cancelled) what went wrong, never empty."""
    err = result.error
    if err is not None:
        return str(err)
    if result.status in OK_STATUSES:
        return ""
    failed = [
        f"The {s.platform} build {s.build.id} failed: {s.build.error or 'no reason given'}."
        for s in result.platforms.values()
        if s.build is not None and s.build.status == BuildStatus.FAILED
    ]
    if failed:
        return " ".join(failed)
    waiting = ", ".join(f"{s.platform} {s.status}" for s in result.platforms.values())
    if result.status == RunStatus.TIMED_OUT:
        return f"Timed out waiting for the builds ({waiting}); they keep running on Capwrapper."
    if result.status == RunStatus.CANCELLED:
        return f"Cancelled while waiting for the builds ({waiting})."
    return f"The run ended {result.status} ({waiting or 'no builds'})."


def skipped_reason(result: RunResult) -> str:
    """Why nothing was deployed; empty when every platform was deployed."""
    if result.deployed:
        return ""
    gate = result.gate
    if gate is None:
        return f"the run ended ({result.status}) before the deploy decision"
    if gate.allowed and result.deploy_attempted:
        err = result.error.message if result.error else "not every platform was deployed"
        return f"deploy failed: {err}"
    return gate.reason


def _build_object(build: Build) -> Mapping[str, Any]:
    if build.raw:
        return build.raw
    return {
        _API_NAMES.get(attr, attr): getattr(build, attr)
        for attr in _BUILD_FIELDS
        if getattr(build, attr) is not None
    }


def to_json(objects: Sequence[Mapping[str, Any]]) -> str:
    """Compact JSON; long strings are cut when the whole would exceed ``JSON_LIMIT``."""
    text = _dumps(objects)
    if len(text) > JSON_LIMIT:
        text = _dumps(_cut_strings(list(objects), _STRING_CUT))
    if len(text) > JSON_LIMIT:
        text = _dumps([{k: o[k] for k in ("id", "status") if k in o} for o in objects])
    return text


def _dumps(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    # A lone surrogate (from a `\ud800` escape in the answer) cannot be written as UTF-8;
    # as a JSON escape it stays valid JSON and means the same.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _cut_strings(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, Mapping):
        return {_cut_strings(k, limit): _cut_strings(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut_strings(v, limit) for v in value[:100]]
    return value


def _text(value: str) -> str:
    """Text that can be written as UTF-8, capped (JSON outputs are capped already)."""
    value = _SURROGATE.sub("\ufffd", value)
    return value if len(value) <= JSON_LIMIT else value[:JSON_LIMIT]
