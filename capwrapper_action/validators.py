"""One parser per kind of input value.

Each parser takes the text of one input (already stripped by ``inputs.read_inputs``) and
returns the typed value, or raises ``ConfigError(input, problem, example)``: the problem
quotes the bad value (shortened, control characters escaped) and the example is a right
value. The values of the secret inputs are never quoted.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import SplitResult, urlsplit

from capwrapper_action.errors import ConfigError
from capwrapper_action.inputs import input_error, show, workspace_path
from capwrapper_action.models import PLATFORMS, Platform
from capwrapper_action.semver import BUMPS, Version
from capwrapper_action.strict_yaml import YamlProblem, json_safe, load_yaml

EXAMPLES: Mapping[str, str] = {
    "api-key": "${{ secrets.CAPWRAPPER_API_KEY }}",
    "api-url": "https://api.capwrapper.com/v1",
    "app-url": "https://shop.example.com",
    "app-name": "Example Shop",
    "bundle-id": "com.example.shop",
    "version": "1.4.0 (or auto)",
    "version-bump": "patch (or minor, major)",
    "platforms": "android, ios",
    "permissions": "camera, gps, notifications",
    "build-options": '{"field": "value"} (or field: value lines)',
    "build-id": "bld_abc123 (or android:bld_abc123, ios:bld_def456)",
    "wait": "true (or false)",
    "timeout": "30m (or 1800, 90s, 1h30m)",
    "queue-timeout": "10m (or empty for no separate limit)",
    "poll-interval": "auto (or 15)",
    "github-token": "${{ github.token }}",
    "deploy": "false (or true)",
    "deploy-labels": "deploy, release",
    "deploy-options": '{"track": "internal"}',
    "download": "false (or true)",
    "download-path": "capwrapper-artifacts",
    "summary": "true (or false)",
    "summary-download-links": "false (or true)",
    "config-file": ".github/capwrapper.yml",
    "dry-run": "false (or true)",
}

MAX_DURATION = 6 * 3600.0  # GitHub-hosted runners stop a job after 6 hours
MAX_MAPPING_BYTES = 64 * 1024
MAX_APP_NAME = 100
MAX_BUNDLE_ID = 155
MAX_URL = 2048
MAX_LABEL = 50  # GitHub's own limit for a label name
MAX_ITEMS = 64
UNEVALUATED_TOKEN = "${{ github.token }}"  # noqa: S105 - the default when not evaluated

_CONTROL = frozenset({"Cc", "Cs", "Zl", "Zp"})
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]{1,63}\.?")
_BUNDLE_PART = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_BUILD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PLAIN_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_UNITS = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_PLATFORM_BY_NAME: Mapping[str, Platform] = {p: p for p in PLATFORMS}


def _error(name: str, problem: str) -> ConfigError:
    return input_error(name, problem, EXAMPLES.get(name, ""))


def check_text(name: str, value: str, *, limit: int, multiline: bool, secret: bool) -> str:
    """Refuse absurd sizes and control characters (tabs and line breaks are allowed only
    where the input takes several lines). Runs on every input before its own parser."""
    if len(value) > limit:
        raise _error(name, f"is {len(value):,} characters long; the limit is {limit:,}")
    allowed = "\t\n\r" if multiline else ""
    for index, ch in enumerate(value):
        category = unicodedata.category(ch)
        if ch in allowed or category not in _CONTROL:
            continue
        if ch in "\n\r\x85\u2028\u2029":
            kind, rule = "a line break", "; it must be a single line"
        elif category == "Cs":
            kind, rule = "a byte that is not UTF-8", ""
        else:
            kind, rule = "a control character", ""
        where = "" if secret else f" in {show(value)}"
        at = f"U+{ord(ch):04X} at position {index + 1}"
        raise _error(name, f"contains {kind} ({at}){where}{rule}")
    return value


# --- secrets ---------------------------------------------------------------------------------


def api_key(value: str, *, empty_problem: str) -> str:
    """The key is never quoted: only what is wrong with it is said."""
    if not value:
        raise _error("api-key", empty_problem)
    if value.lower().startswith("bearer "):
        raise _error("api-key", "starts with 'Bearer '; give the key alone, the action adds it")
    if not _HEADER_SAFE.fullmatch(value):
        raise _error(
            "api-key",
            "contains white space or a character that cannot be sent in an HTTP "
            "header (the value is not shown); copy the key again into the secret",
        )
    return value


def github_token(value: str) -> str:
    """Free text that may be empty (labels then come from the event payload)."""
    if value == UNEVALUATED_TOKEN:
        return ""
    if value and not _HEADER_SAFE.fullmatch(value):
        raise _error(
            "github-token",
            "contains white space or a character that cannot be sent in an "
            "HTTP header (the value is not shown)",
        )
    return value


# --- URLs --------------------------------------------------------------------------------------


def _hide_credentials(value: str) -> str:
    return re.sub(r"//[^/?#]*@", "//***@", value)


def _split_url(name: str, value: str) -> SplitResult:
    shown = show(_hide_credentials(value))
    if not value:
        raise _error(name, "is empty")
    if len(value) > MAX_URL:
        raise _error(name, f"is {len(value):,} characters long; the limit is {MAX_URL:,}")
    if re.search(r"[\s\\]", value):
        raise _error(name, f"{shown} contains white space or a backslash")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise _error(name, f"{shown} is not a valid URL ({exc})") from None
    if "@" in parts.netloc:
        raise _error(
            name,
            f"{shown} contains credentials; remove them "
            "(the API key goes in 'api-key', never in a URL)",
        )
    if not _valid_host(parts.hostname or ""):
        raise _error(name, f"{shown} has no valid host name; write it as https://host/path")
    return parts


def _valid_host(host: str) -> bool:
    """A DNS name (international ones through IDNA) or an IP address."""
    if _ip(host) is not None:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return bool(_HOST.fullmatch(ascii_host))


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    address = _ip(host)
    return host.lower() == "localhost" or (address is not None and address.is_loopback)


def api_url(value: str) -> str:
    """``https://``, or ``http://`` for a loopback host; no query, no fragment; trailing
    slashes removed."""
    parts = _split_url("api-url", value)
    shown = show(value)
    host = parts.hostname or ""
    if parts.scheme == "http" and not _is_loopback(host):
        raise _error(
            "api-url",
            f"{shown} uses http:// on a host that is not this machine; only "
            "https:// is accepted (http:// only for 127.0.0.1, ::1 or localhost)",
        )
    if parts.scheme not in ("http", "https"):
        raise _error("api-url", f"{shown} must start with https://")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise _error("api-url", f"{shown} has a query or fragment; give the base URL only")
    return value.rstrip("/")


def app_url(value: str) -> str:
    """A public ``https://`` URL: Capwrapper's servers fetch it at build time."""
    parts = _split_url("app-url", value)
    shown = show(value)
    if parts.scheme != "https":
        raise _error("app-url", f"{shown} must start with https:// (Capwrapper needs HTTPS)")
    address = _ip(parts.hostname or "")
    if _is_loopback(parts.hostname or "") or (address is not None and address.is_private):
        raise _error(
            "app-url",
            f"{shown} points at a private address; Capwrapper fetches the app "
            "from its own servers, so the URL must be public",
        )
    return value


# --- names and versions ----------------------------------------------------------------------


def app_name(value: str) -> str:
    if not value:
        raise _error("app-name", "is empty")
    if len(value) > MAX_APP_NAME:
        raise _error(
            "app-name",
            f"{show(value)} is {len(value)} characters long; "
            f"the limit is {MAX_APP_NAME} (stores show about 30)",
        )
    return value


def bundle_id(value: str) -> str:
    """Reverse-domain id valid for both stores' rules, loosely: two or more dot-separated
    parts, each a letter followed by letters, digits, ``_`` or ``-``."""
    if not value:
        raise _error("bundle-id", "is empty")
    reason = ""
    parts = value.split(".")
    if len(value) > MAX_BUNDLE_ID:
        reason = f"it is {len(value)} characters long; the limit is {MAX_BUNDLE_ID}"
    elif len(parts) < 2:  # noqa: PLR2004
        reason = "it needs at least two parts separated by dots"
    elif "" in parts:
        reason = "it has an empty part (two dots in a row, or a dot at an end)"
    elif bad := [p for p in parts if not _BUNDLE_PART.fullmatch(p)]:
        reason = (
            f"part {show(bad[0], 30)} must start with a letter and hold only letters, digits, "
            "'_' or '-'"
        )
    if reason:
        raise _error("bundle-id", f"{show(value)} is not a reverse-domain id: {reason}")
    return value


def version(value: str) -> str:
    if not value:
        raise _error("version", "is empty; give a semantic version or auto")
    if value.lower() == "auto":
        return "auto"
    if Version.try_parse(value) is not None:
        return value
    hint = ""
    if value[:1] in ("v", "V") and Version.try_parse(value[1:]) is not None:
        hint = "; drop the leading 'v'"
    elif re.fullmatch(r"\d+(\.\d+)?", value):
        hint = "; give all three numbers, e.g. 1.4.0"
    raise _error("version", f"{show(value)} is not a semantic version (MAJOR.MINOR.PATCH){hint}")


def version_bump(value: str) -> str:
    if value.lower() not in BUMPS:
        raise _error("version-bump", f"{show(value)} is not one of {', '.join(BUMPS)}")
    return value.lower()


# --- lists -----------------------------------------------------------------------------------


def _items(name: str, value: str) -> list[str]:
    """Words separated by commas, spaces or new lines, or a YAML list (``[a, b]`` or a block
    list of ``- a`` lines)."""
    text = value.strip()
    if not (text.startswith("[") or text == "-" or text.startswith(("- ", "-\n", "-\t"))):
        return [item for item in re.split(r"[,\s]+", text) if item]
    try:
        data = load_yaml(value)
    except YamlProblem as exc:
        raise _error(name, f"is not a valid YAML list ({exc})") from None
    if not isinstance(data, list) or not all(
        isinstance(x, (str, int)) and not isinstance(x, bool) for x in data
    ):
        raise _error(name, "is YAML but not a list of plain words")
    return [str(x).strip() for x in data if str(x).strip()]


def platforms(value: str) -> tuple[Platform, ...]:
    items = _items("platforms", value)
    if not items:
        raise _error("platforms", "is empty; name at least one platform")
    found: list[Platform] = []
    for item in items:
        platform = _PLATFORM_BY_NAME.get(item.lower())
        if platform is None:
            raise _error("platforms", f"{show(item)} is not a platform; use android and/or ios")
        if platform in found:
            raise _error("platforms", f"names {platform} more than once")
        found.append(platform)
    return tuple(found)


def permissions(value: str) -> tuple[str, ...] | None:
    """None (omit from the request) when empty."""
    items = _items("permissions", value)
    if len(items) > MAX_ITEMS:
        raise _error("permissions", f"lists {len(items)} permissions; the limit is {MAX_ITEMS}")
    for index, item in enumerate(items):
        if not _WORD.fullmatch(item):
            raise _error(
                "permissions",
                f"{show(item)} is not a permission name "
                "(a letter, then letters, digits, '_' or '-', at most 64)",
            )
        if item in items[:index]:
            raise _error("permissions", f"names {show(item)} more than once")
    return tuple(items) or None


def deploy_labels(value: str) -> tuple[str, ...]:
    """Labels may hold spaces: split on commas and new lines only. Repeats are dropped."""
    labels = [label.strip() for label in re.split(r"[,\n\r]+", value) if label.strip()]
    if len(labels) > MAX_ITEMS:
        raise _error("deploy-labels", f"lists {len(labels)} labels; the limit is {MAX_ITEMS}")
    for label in labels:
        if len(label) > MAX_LABEL:
            raise _error(
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


def options(name: str, value: str, *, reserved: Mapping[str, str]) -> Mapping[str, Any]:
    """A YAML or JSON mapping (``{}`` when empty) of JSON-compatible values whose keys do not
    override what the action sets itself (``reserved``: lower-cased key -> what to do)."""
    if not value.strip():
        return MappingProxyType({})
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_MAPPING_BYTES:
        raise _error(name, f"is {size:,} bytes long; the limit is {MAX_MAPPING_BYTES:,}")
    try:
        data = json_safe(load_yaml(value))
    except YamlProblem as exc:
        raise _error(name, f"is not a valid YAML or JSON mapping ({exc})") from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the single value {show(str(data))}"
        raise _error(name, f"must be a mapping of field names to values, not {kind}")
    for key in data:
        advice = reserved.get(key.lower())
        if advice is not None:
            raise _error(name, f"sets {show(key)}, which the action sets itself; {advice}")
    return MappingProxyType(data)


# --- resume ids ------------------------------------------------------------------------------


def build_id(value: str) -> tuple[tuple[str, Platform | None], ...]:
    """``bld_x`` (platform learnt later from the API) or ``android:bld_x, ios:bld_y``."""
    text = re.sub(r"\s*:\s*", ":", value.strip())
    tokens = [t for t in re.split(r"[,\s]+", text) if t]
    refs: list[tuple[str, Platform | None]] = []
    for token in tokens:
        head, colon, tail = token.partition(":")
        ident, platform = (tail, _PLATFORM_BY_NAME.get(head.lower())) if colon else (head, None)
        if colon and platform is None:
            raise _error("build-id", f"{show(head)} is not a platform; use android:<id>, ios:<id>")
        if not _BUILD_ID.fullmatch(ident):
            raise _error(
                "build-id",
                f"{show(ident)} is not a build id (letters, digits, '_' and '-' only, at most 128)",
            )
        refs.append((ident, platform))
    if len(refs) > 1 and any(p is None for _, p in refs):
        raise _error("build-id", "holds several ids; give one per platform: android:<id>, ios:<id>")
    if len({p for _, p in refs}) < len(refs):
        raise _error("build-id", "names a platform more than once")
    if len({i for i, _ in refs}) < len(refs):
        raise _error("build-id", "gives the same build id for two platforms")
    return tuple(refs)


# --- booleans, durations, paths --------------------------------------------------------------


def boolean(name: str, value: str) -> bool:
    """YAML 1.2 core booleans only: ``yes``/``on``/``1`` are refused, not guessed."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _error(name, f"{show(value)} is not a boolean; use true or false")


def _seconds(name: str, value: str) -> float:
    compact = re.sub(r"\s+", "", value).lower()
    if compact.startswith("-"):
        raise _error(name, f"{show(value)} is negative; it must be more than 0")
    if _PLAIN_SECONDS.fullmatch(compact):
        return float(compact)
    match = _UNITS.fullmatch(compact)
    if compact and match and any(match.groups()):
        hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        return hours * 3600 + minutes * 60 + secs
    raise _error(
        name,
        f"{show(value)} is not a duration; give seconds (1800) or hours, minutes "
        "and seconds such as 90s, 45m, 1h30m",
    )


def duration(name: str, value: str) -> float:
    """Seconds: plain (``1800``, ``2.5``) or ``90s``, ``45m``, ``1h30m``, ``2h``; more than
    0 and at most 6 hours."""
    if not value:
        raise _error(name, "is empty; give a duration")
    seconds = _seconds(name, value)
    if seconds <= 0:
        raise _error(name, f"{show(value)} must be more than 0")
    if seconds > MAX_DURATION:
        raise _error(
            name,
            f"{show(value)} is more than 6h, the longest a job runs on GitHub-hosted runners",
        )
    return seconds


def poll_interval(value: str) -> float | None:
    """None for ``auto``; else seconds from 1 to 600."""
    if value.lower() == "auto":
        return None
    if not value:
        raise _error("poll-interval", "is empty; give auto or a number of seconds")
    seconds = _seconds("poll-interval", value)
    if not 1 <= seconds <= 600:  # noqa: PLR2004
        raise _error("poll-interval", f"{show(value)} must be from 1 to 600 seconds")
    return seconds


def download_path(value: str, *, workspace: Path) -> Path:
    example = EXAMPLES["download-path"]
    return workspace_path("download-path", value, workspace=workspace, example=example)
