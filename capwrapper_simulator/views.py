"""How records look on the wire: build and deploy objects, timestamps and list pages."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from capwrapper_simulator.config import SimConfig
from capwrapper_simulator.signing import ARTIFACT_EXTENSIONS, UrlSigner
from capwrapper_simulator.state import BuildRecord, DeployRecord
from capwrapper_simulator.validation import InvalidRequest

_SERVER_FIELDS = ("id", "status", "createdAt", "completedAt", "downloadUrl", "error")
_ECHOED = ("url", "appName", "bundleId", "version")


def timestamp(epoch: float, style: str) -> str:
    """ISO 8601 in UTC: ``millis-z`` ``…T12:00:00.123Z``, ``micros-offset``
    ``…T12:00:00.123456+00:00`` or ``seconds-z`` ``…T12:00:00Z``."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    if style == "micros-offset":
        return moment.isoformat(timespec="microseconds")
    if style == "seconds-z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def build_view(
    build: BuildRecord,
    now: float,
    config: SimConfig,
    signer: UrlSigner,
    base_url: str,
    *,
    status: str | None = None,
) -> dict[str, Any]:
    """The build object as the API shows it at ``now`` (``status`` forces a status): the known
    fields first, then what the client sent beyond them, then the simulator's own extras."""
    shown = status or build.status_at(now)
    fields = build.fields
    view: dict[str, Any] = {
        "id": build.id,
        "status": shown,
        "platform": build.platform,
        **{name: fields[name] for name in _ECHOED if name in fields},
        "permissions": list(fields.get("permissions") or []),
        "createdAt": timestamp(build.created_at, config.timestamp_style),
    }
    if shown not in ("queued", "building"):
        view["completedAt"] = timestamp(build.completed_at, config.timestamp_style)
    if shown == "success":
        filename = f"{build.id}.{ARTIFACT_EXTENSIONS[build.platform]}"
        view["downloadUrl"] = signer.sign(base_url, filename, now, config.download_url_ttl)
    elif shown == "failed":
        view["error"] = build.plan.failure_message
    extras = {**config.extra_fields, **fields}
    view.update({k: v for k, v in extras.items() if k not in view and k not in _SERVER_FIELDS})
    return view


def deploy_view(deploy: DeployRecord, config: SimConfig) -> dict[str, Any]:
    view: dict[str, Any] = dict(deploy.fields)
    view.update(
        {
            "id": deploy.id,
            "buildId": deploy.build_id,
            "status": deploy.status,
            "createdAt": timestamp(deploy.created_at, config.timestamp_style),
        }
    )
    return view


def encode_cursor(build_id: str) -> str:
    return base64.urlsafe_b64encode(f"after:{build_id}".encode()).decode().rstrip("=")


def page_after(builds: list[BuildRecord], cursor: str | None) -> list[BuildRecord]:
    """The builds after the one ``cursor`` points at (all of them without a cursor)."""
    if not cursor:
        return builds
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    ids = [b.id for b in builds]
    after = text.removeprefix("after:")
    if not text.startswith("after:") or after not in ids:
        raise InvalidRequest("cursor is invalid or has expired")
    return builds[ids.index(after) + 1 :]


def list_body(items: list[dict[str, Any]], next_cursor: str | None, shape: str) -> Any:
    """Wrap one page of builds the way ``shape`` says."""
    if shape == "array":
        return items
    if shape == "builds":
        return {"builds": items, "hasMore": next_cursor is not None, "next": next_cursor}
    if shape == "items":
        return {"items": items}
    if shape == "cursor":
        return {"data": items, "cursor": next_cursor, "hasMore": next_cursor is not None}
    return {"data": items, "nextCursor": next_cursor}
