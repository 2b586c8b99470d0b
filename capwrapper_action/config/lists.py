"""Parsers of the inputs that hold several values: the lists (``platforms``, ``permissions``,
``deploy-labels``), the mappings (``build-options``, ``deploy-options``) and the build ids to
resume (``build-id``). Errors as in ``values``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from capwrapper_action.api.models import PLATFORMS, Platform
from capwrapper_action.config.strict_yaml import YamlProblem, json_safe, load_yaml
from capwrapper_action.config.values import invalid, show
from capwrapper_action.release.placeholders import EXAMPLE, problems

MAX_MAPPING_BYTES = 64 * 1024
MAX_LABEL = 50  # GitHub's own limit for a label name
MAX_ITEMS = 64

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_BUILD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PLATFORM_BY_NAME: Mapping[str, Platform] = {p: p for p in PLATFORMS}

Items = str | Sequence[str]  # an input's text, or the items of a config file's YAML list


@dataclass(frozen=True, slots=True)
class ResumeRef:
    build_id: str
    platform: Platform | None  # None when given as a bare id


# --- lists -----------------------------------------------------------------------------------


def _items(name: str, value: Items) -> list[str]:
    """Words separated by commas, spaces or new lines, or a YAML list (``[a, b]`` or a block
    list of ``- a`` lines)."""
    if not isinstance(value, str):
        return [item.strip() for item in value if item.strip()]
    text = value.strip()
    if not (text.startswith("[") or text == "-" or text.startswith(("- ", "-\n", "-\t"))):
        return [item for item in re.split(r"[,\s]+", text) if item]
    try:
        data = load_yaml(value)
    except YamlProblem as exc:
        raise invalid(name, f"is not a valid YAML list ({exc})") from None
    if not isinstance(data, list) or not all(
        isinstance(x, (str, int)) and not isinstance(x, bool) for x in data
    ):
        raise invalid(name, "is YAML but not a list of plain words")
    return [str(x).strip() for x in data if str(x).strip()]


def platforms(value: Items) -> tuple[Platform, ...]:
    items = _items("platforms", value)
    if not items:
        raise invalid("platforms", "is empty; name at least one platform")
    found: list[Platform] = []
    for item in items:
        platform = _PLATFORM_BY_NAME.get(item.lower())
        if platform is None:
            raise invalid("platforms", f"{show(item)} is not a platform; use android and/or ios")
        if platform in found:
            raise invalid("platforms", f"names {platform} more than once")
        found.append(platform)
    return tuple(found)


def permissions(value: Items) -> tuple[str, ...] | None:
    """None (omit from the request) when empty."""
    items = _items("permissions", value)
    if len(items) > MAX_ITEMS:
        raise invalid("permissions", f"lists {len(items)} permissions; the limit is {MAX_ITEMS}")
    for index, item in enumerate(items):
        if not _WORD.fullmatch(item):
            raise invalid(
                "permissions",
                f"{show(item)} is not a permission name "
                "(a letter, then letters, digits, '_' or '-', at most 64)",
            )
        if item in items[:index]:
            raise invalid("permissions", f"names {show(item)} more than once")
    return tuple(items) or None


def deploy_labels(value: Items) -> tuple[str, ...]:
    """Labels may hold spaces: split on commas and new lines only. Repeats are dropped."""
    parts = re.split(r"[,\n\r]+", value) if isinstance(value, str) else value
    labels = [label.strip() for label in parts if label.strip()]
    if len(labels) > MAX_ITEMS:
        raise invalid("deploy-labels", f"lists {len(labels)} labels; the limit is {MAX_ITEMS}")
    for label in labels:
        if len(label) > MAX_LABEL:
            raise invalid(
                "deploy-labels",
                f"label {show(label)} is {len(label)} characters long; "
                f"GitHub labels have at most {MAX_LABEL}",
            )
    return tuple(dict.fromkeys(labels))


# --- mappings --------------------------------------------------------------------------------

BUILD_RESERVED: Mapping[str, str] = {
    "url": "set it with the input 'app-url'",
    "appname": "set it with the input 'app-name'",
    "bundleid": "set it with the input 'bundle-id'",
    "version": "set it with the input 'version'",
    "platform": "choose platforms with the input 'platforms'",
    "permissions": "set them with the input 'permissions'",
}
DEPLOY_RESERVED: Mapping[str, str] = {
    "buildid": "the action sends the id of each build it deploys; to deploy existing builds, "
    "give their ids in the input 'build-id'",
}


def options(name: str, value: object, *, reserved: Mapping[str, str]) -> Mapping[str, Any]:
    """A YAML or JSON mapping (``{}`` when empty) of JSON-compatible values whose keys do not
    override what the action sets itself (``reserved``: lower-cased key -> what to do).
    ``value`` is the input's text, or the value a config file gave."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return MappingProxyType({})
    try:
        text = value if isinstance(value, str) else json.dumps(json_safe(value))
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_MAPPING_BYTES:
            raise invalid(name, f"is {size:,} bytes long; the limit is {MAX_MAPPING_BYTES:,}")
        data = json_safe(load_yaml(text) if isinstance(value, str) else value)
    except YamlProblem as exc:
        raise invalid(name, f"is not a valid YAML or JSON mapping ({exc})") from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the single value {show(str(data))}"
        raise invalid(name, f"must be a mapping of field names to values, not {kind}")
    for key in data:
        advice = reserved.get(key.lower())
        if advice is not None:
            raise invalid(name, f"sets {show(key)}, which the action sets itself; {advice}")
    for problem in problems(data)[:1]:  # before any request: a typo must not reach a store
        raise invalid(name, problem, EXAMPLE)
    return MappingProxyType(data)


# --- resume ids ------------------------------------------------------------------------------


def build_id(value: Items) -> tuple[ResumeRef, ...]:
    """``bld_x`` (platform learnt later from the API) or ``android:bld_x, ios:bld_y``."""
    text = value if isinstance(value, str) else ",".join(value)
    text = re.sub(r"\s*:\s*", ":", text.strip())
    tokens = [t for t in re.split(r"[,\s]+", text) if t]
    refs: list[ResumeRef] = []
    for token in tokens:
        head, colon, tail = token.partition(":")
        ident, platform = (tail, _PLATFORM_BY_NAME.get(head.lower())) if colon else (head, None)
        if colon and platform is None:
            raise invalid("build-id", f"{show(head)} is not a platform; use android:<id>, ios:<id>")
        if not _BUILD_ID.fullmatch(ident):
            raise invalid(
                "build-id",
                f"{show(ident)} is not a build id (letters, digits, '_' and '-' only, at most 128)",
            )
        refs.append(ResumeRef(ident, platform))
    if len(refs) > 1 and any(ref.platform is None for ref in refs):
        raise invalid(
            "build-id", "holds several ids; give one per platform: android:<id>, ios:<id>"
        )
    if len({ref.platform for ref in refs}) < len(refs):
        raise invalid("build-id", "names a platform more than once")
    if len({ref.build_id for ref in refs}) < len(refs):
        raise invalid("build-id", "gives the same build id for two platforms")
    return tuple(refs)
