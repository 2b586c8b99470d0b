"""What a deploy is, in words that claim no more than the API said.

``POST /deploys`` answers with a status such as ``queued``: the store has the submission, it has
not published anything. So a deploy reads "submitted to the store, queued", with the store,
track and rollout from the API's answer, else from ``deploy-options`` (the request), and one
made by an earlier run says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from capwrapper_action.api.models import Deploy

# Keys read for each detail, in the answer first, then in `deploy-options`.
DETAIL_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("store", ("store", "storeName")),
    ("track", ("track", "channel", "releaseTrack")),
    ("rollout", ("rollout", "rolloutPercentage", "rolloutPercent", "userFraction")),
)
DONE_STATUSES = frozenset({"success", "succeeded", "completed", "complete", "published", "live",
                           "released", "done"})
FAILED_STATUSES = frozenset({"failed", "failure", "error", "rejected", "cancelled", "canceled"})
MAX_VALUE = 60


def deploy_status_text(deploy: Deploy) -> str:
    """``submitted to the store, queued``; a finished or failed status is named as given."""
    if deploy.status is None:
        if "recorded" in deploy.raw:
            return "made by an earlier run (recorded on the commit)"
        return "submitted to the store (Capwrapper gave no status)"
    status = _clean(deploy.status)
    if status.lower() in DONE_STATUSES:
        return f"accepted by the store ({status})"
    if status.lower() in FAILED_STATUSES:
        return f"not accepted: Capwrapper says {status}"
    return f"submitted to the store, {status}"


def deploys_state(deploys: Iterable[Deploy]) -> str:
    """What the deploys together allow a heading to claim: ``accepted`` only when the API
    said so for every one, ``failed`` when it refused any, else ``submitted``."""
    statuses = [(d.status or "").lower() for d in deploys]
    if any(_clean(s) in FAILED_STATUSES for s in statuses):
        return "failed"
    if statuses and all(_clean(s) in DONE_STATUSES for s in statuses):
        return "accepted"
    return "submitted"


def deploy_details(deploy: Deploy, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``[("track", "beta"), …]``: each detail from the answer, else from ``options``."""
    found = ((name, _first((deploy.raw, options), keys)) for name, keys in DETAIL_KEYS)
    return [(name, value) for name, value in found if value is not None]


def describe_deploy(deploy: Deploy, options: Mapping[str, Any]) -> str:
    """``dep_x: submitted to the store, queued (track: beta, rollout: 10%)``."""
    details = ", ".join(f"{k}: {v}" for k, v in deploy_details(deploy, options))
    return f"{deploy.id}: {deploy_status_text(deploy)}" + (f" ({details})" if details else "")


def _first(sources: tuple[Mapping[str, Any], ...], keys: tuple[str, ...]) -> str | None:
    for source, key in itertools.product(sources, keys):
        value = source.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != "":
            text = _clean(str(value))
            if key in ("rolloutPercentage", "rolloutPercent") and not text.endswith("%"):
                text += "%"
            return text
    return None


def _clean(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_VALUE else flat[: MAX_VALUE - 1] + "…"
