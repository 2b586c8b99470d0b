"""Before creating: what this commit already has, and what to do with it, per platform.

A re-run keeps the commit, the event and (with ``2.0.${{ github.run_number }}``) the version,
and a later run may release what an earlier one built. So before any create we look for the
build this commit already has on each platform:

1. the record on the commit (``github.statuses``): the build id, version, deploy id and the
   fingerprint of the settings the build was made from;
2. for a pinned version, a build of this bundle id, platform and version in the Capwrapper
   history (the API never takes the same version twice, so there can be only one).

What is found is **adopted** (waited for, reported, and deployed only if no deploy was recorded
for it) when it was made from the same settings. A build that **failed** is built again: with
``version: auto`` at the next version; a pinned version cannot be built twice, so that fails
with what to change. Settings that **differ** from the found build's fail before any create,
naming each difference (``rebuild: true`` makes new builds instead).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from capwrapper_action.api.models import Build, BuildStatus, Platform
from capwrapper_action.errors import ActionError, NotFoundError
from capwrapper_action.github.statuses import Recorded
from capwrapper_action.release.history import History
from capwrapper_action.release.semver import Version

FROM_RECORD = "the record on the commit"
FROM_HISTORY = "the Capwrapper build history"
_COMPARED = (("url", "app-url"), ("appName", "app-name"))


class BuildGetter(Protocol):
    def get_build(self, build_id: str, *, deadline: float | None = None) -> Build: ...


@dataclass(frozen=True)
class Adoption:
    build: Build
    source: str  # FROM_RECORD or FROM_HISTORY
    deploy_id: str | None = None  # a deploy recorded for this build
    deploy_unknown: bool = False  # a deploy whose answer was lost was recorded

    def describe(self, platform: str) -> str:
        build = self.build
        deployed = f", deployed as {self.deploy_id}" if self.deploy_id and not \
            self.deploy_unknown else ""
        return (f"{platform}: adopting {build.id} (version {build.version or '?'}, "
                f"{build.status}{deployed}) found in {self.source}; not building it again")


@dataclass
class Plan:
    adopt: dict[Platform, Adoption] = field(default_factory=dict)
    create: list[Platform] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def settings_fingerprint(body: Mapping[str, Any]) -> str:
    """8 hex digits naming the settings of a create body, its version left out."""
    kept = {k: v for k, v in body.items() if k != "version"}
    if isinstance(kept.get("permissions"), list):
        kept["permissions"] = sorted(kept["permissions"])
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def plan_builds(
    client: BuildGetter,
    bodies: Mapping[Platform, Mapping[str, Any]],
    *,
    records: Mapping[Platform, Recorded],
    history: History,
    pinned: str | None,
    rebuild: bool,
) -> Plan:
    """Adopt or create, per platform; raises before any create when something is in the way.
    ``bodies`` are the create bodies this run would send (with the version it would use)."""
    plan = Plan()
    conflicts: list[str] = []
    for platform, body in bodies.items():
        found = None if rebuild else _found(client, platform, records.get(platform),
                                             history, pinned, plan)
        if found is None:
            plan.create.append(platform)
            continue
        differ = _differences(found, body, records.get(platform), pinned)
        if differ:
            conflicts.append(f"The {platform} build {found.build.id} found in {found.source} "
                             f"was made with other settings ({'; '.join(differ)}).")
        elif found.build.status == BuildStatus.FAILED:
            _rebuild_failed(platform, found, pinned, plan)
        else:
            plan.adopt[platform] = found
    if conflicts:
        raise ActionError(
            " ".join(conflicts) + " Nothing was created.",
            hint="Re-run with the settings of the earlier build, or set `rebuild: true` to make "
                 "new builds with these settings (with a pinned version, raise it too).",
            title="Settings differ from this commit's builds",
        )
    return plan


def _found(
    client: BuildGetter, platform: Platform, record: Recorded | None, history: History,
    pinned: str | None, plan: Plan,
) -> Adoption | None:
    if record is not None:
        try:
            build = client.get_build(record.build_id)
        except NotFoundError:
            plan.notes.append(f"{platform}: the commit's record names {record.build_id}, which "
                              "Capwrapper does not know; ignoring the record")
        else:
            return Adoption(build, FROM_RECORD, record.deploy_id, record.deploy_unknown)
    listed = None if pinned is None else history.find(platform, pinned)
    return None if listed is None else Adoption(listed, FROM_HISTORY)


def _differences(
    found: Adoption, body: Mapping[str, Any], record: Recorded | None, pinned: str | None
) -> list[str]:
    differ = differences(found.build, body)
    if found.source == FROM_RECORD and record is not None:
        now = settings_fingerprint(body)
        if record.settings and record.settings != now and not differ:
            differ.append("`build-options` or another setting Capwrapper does not show "
                          f"(settings fingerprint: the build has {record.settings}, now {now})")
        have = Version.try_parse(found.build.version)
        if pinned is not None and have is not None and have != Version.try_parse(pinned):
            differ.append(f"version: the build has {found.build.version}, now {pinned}")
    return differ


def _rebuild_failed(platform: Platform, adoption: Adoption, pinned: str | None,
                    plan: Plan) -> None:
    build = adoption.build
    if pinned is not None:
        raise ActionError(
            f"The {platform} build {build.id} of version {pinned} (found in {adoption.source}) "
            f"failed: {build.error or 'no reason given'}. Capwrapper never takes version "
            f"{pinned} again for this bundle id on {platform}, so it cannot be built again. "
            "Nothing was created.",
            hint="Raise `version` (or use `version: auto`) and re-run.",
            title="Failed build cannot be rebuilt at the same version",
        )
    plan.notes.append(f"{platform}: the earlier build {build.id} (version {build.version}) "
                      "failed; building it again at the next version")
    plan.create.append(platform)


def differences(build: Build, body: Mapping[str, Any]) -> list[str]:
    """The settings in ``body`` that the build (as the API shows it) was not made with. Only
    fields the API echoes are compared."""
    raw = build.raw
    found: list[str] = []
    for key, name in _COMPARED:
        if key in raw and key in body and str(raw[key]).rstrip("/") != str(body[key]).rstrip("/"):
            found.append(f"{name}: the build has {_short(raw[key])}, now {_short(body[key])}")
    if isinstance(raw.get("permissions"), list):
        had = sorted(str(p) for p in raw["permissions"])
        now = sorted(str(p) for p in body.get("permissions") or [])
        if had != now:
            found.append(f"permissions: the build has {had or 'none'}, now {now or 'none'}")
    return found


def _short(value: object, limit: int = 80) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
