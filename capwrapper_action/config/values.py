"""The parsers of single values (secrets, names, versions, booleans, durations) and the checks
every input goes through.

Each parser takes the text of one input (already stripped by ``inputs.normalize``; a config
file's YAML value where the input takes a boolean, list or mapping) and returns the typed
value, or raises ``ConfigError``: the problem quotes the bad value (shortened, control
characters escaped); the table adds the input's example of a right value. The values of the
secret inputs are never quoted.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import TypeVar

from capwrapper_action.errors import ConfigError
from capwrapper_action.release.semver import AUTO, Auto, Version

MAX_DURATION = 6 * 3600.0  # GitHub-hosted runners stop a job after 6 hours
MAX_APP_NAME = 100
MAX_BUNDLE_ID = 155
UNEVALUATED_TOKEN = "${{ github.token }}"  # noqa: S105 - the default when not evaluated

_CONTROL = frozenset({"Cc", "Cs", "Zl", "Zp"})
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
_BUNDLE_PART = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_ANDROID_PART = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_IOS_ID = re.compile(r"[A-Za-z0-9.-]+")
_PLAIN_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_UNITS = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_SHOWN_AS_ESCAPE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}
_NOT_HEADER_SAFE = (
    "contains white space or a character that cannot be sent in an HTTP header "
    "(the value is not shown)"
)
E = TypeVar("E", bound=StrEnum)


def invalid(name: str, problem: str, example: str = "") -> ConfigError:
    """The ``ConfigError`` for input ``name``; its problem ends in a full stop (the example
    follows it). Without an example, the input table adds the input's own."""
    problem = problem if problem.endswith((".", "?", "!")) else problem + "."
    return ConfigError(name, problem, example)


def show(value: str, limit: int = 60) -> str:
    """``value`` quoted for a message: at most ``limit`` characters, control characters
    (and bidi or zero-width ones) escaped so that the message stays one readable line."""
    out = []
    for ch in value[:limit]:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in _SHOWN_AS_ESCAPE:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"' + ("…" if len(value) > limit else "")


def check_text(name: str, value: str, *, limit: int, multiline: bool, secret: bool) -> str:
    """Refuse absurd sizes and control characters (tabs and line breaks are allowed only
    where the input takes several lines). Runs on every input before its own parser."""
    if len(value) > limit:
        raise invalid(name, f"is {len(value):,} characters long; the limit is {limit:,}")
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
        raise invalid(name, f"contains {kind} ({at}){where}{rule}")
    return value


# --- secrets ---------------------------------------------------------------------------------


def api_key(value: str, *, empty_problem: str) -> str:
    """The key is never quoted: only what is wrong with it is said."""
    if not value:
        raise invalid("api-key", empty_problem)
    if value.lower().startswith("bearer "):
        raise invalid("api-key", "starts with 'Bearer '; give the key alone, the action adds it")
    if not _HEADER_SAFE.fullmatch(value):
        raise invalid("api-key", f"{_NOT_HEADER_SAFE}; copy the key again into the secret")
    return value


def github_token(value: str) -> str:
    """Free text that may be empty (labels then come from the event payload)."""
    if value == UNEVALUATED_TOKEN:
        return ""
    if value and not _HEADER_SAFE.fullmatch(value):
        raise invalid("github-token", _NOT_HEADER_SAFE)
    return value


# --- names and versions ----------------------------------------------------------------------


def app_name(value: str) -> str:
    if not value:
        raise invalid("app-name", "is empty")
    if len(value) > MAX_APP_NAME:
        raise invalid(
            "app-name",
            f"{show(value)} is {len(value)} characters long; "
            f"the limit is {MAX_APP_NAME} (stores show about 30)",
        )
    return value


def bundle_id(value: str) -> str:
    """Reverse-domain id valid for both stores' rules, loosely: two or more dot-separated
    parts, each a letter followed by letters, digits, ``_`` or ``-``."""
    if not value:
        raise invalid("bundle-id", "is empty")
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
        raise invalid("bundle-id", f"{show(value)} is not a reverse-domain id: {reason}")
    return value


def bundle_id_for(value: str, platform: str) -> None:
    """The stricter rule of one store: Android application ids allow no hyphen, iOS bundle
    ids no underscore."""
    if platform == "android":
        bad = next((p for p in value.split(".") if not _ANDROID_PART.fullmatch(p)), None)
        if bad is not None:
            raise invalid(
                "bundle-id",
                f"{show(value)} is not a valid Android application id: part {show(bad, 30)} "
                "breaks the rule (letters, digits and underscores, each part starting with a "
                "letter); leave android out of 'platforms' if it is for iOS only",
            )
    elif platform == "ios" and not _IOS_ID.fullmatch(value):
        raise invalid(
            "bundle-id",
            f"{show(value)} is not a valid iOS bundle id: iOS allows only letters, digits, "
            "hyphens and periods (no '_'); leave ios out of 'platforms' if it is for "
            "Android only",
        )


def version(value: str) -> Version | Auto:
    if not value:
        raise invalid("version", "is empty; give a semantic version or auto")
    if value.lower() == AUTO:
        return AUTO
    if (parsed := Version.try_parse(value)) is not None:
        return parsed
    hint = ""
    if value[:1] in ("v", "V") and Version.try_parse(value[1:]) is not None:
        hint = "; drop the leading 'v'"
    elif re.fullmatch(r"\d+(\.\d+)?", value):
        hint = "; give all three numbers, e.g. 1.4.0"
    raise invalid("version", f"{show(value)} is not a semantic version (MAJOR.MINOR.PATCH){hint}")


def one_of(name: str, choices: type[E], value: str) -> E:
    """A member of ``choices`` (``Bump``, ``PrComment``), in any case."""
    try:
        return choices(value.lower())
    except ValueError:
        names = ", ".join(choices)
        raise invalid(name, f"{show(value)} is not one of {names}") from None


class PrComment(StrEnum):
    """``pr-comment``: when the pull request gets a comment."""

    AUTO = "auto"  # when the token may; otherwise one warning
    ALWAYS = "always"  # failing to comment fails the step
    NEVER = "never"


# --- booleans, durations ---------------------------------------------------------------------


def boolean(name: str, value: str | bool) -> bool:
    """YAML 1.2 core booleans only: ``yes``/``on``/``1`` are refused, not guessed. A config
    file's YAML boolean is taken as it is."""
    if isinstance(value, bool):
        return value
    if value in _TRUE + _FALSE:
        return value in _TRUE
    raise invalid(name, f"{show(value)} is not a boolean; use true or false")


def _seconds(name: str, value: str) -> float:
    compact = re.sub(r"\s+", "", value).lower()
    if compact.startswith("-"):
        raise invalid(name, f"{show(value)} is negative; it must be more than 0")
    if _PLAIN_SECONDS.fullmatch(compact):
        return float(compact)
    match = _UNITS.fullmatch(compact)
    if compact and match and any(match.groups()):
        hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        return hours * 3600 + minutes * 60 + secs
    raise invalid(
        name,
        f"{show(value)} is not a duration; give seconds (1800) or hours, minutes "
        "and seconds such as 90s, 45m, 1h30m",
    )


def duration(name: str, value: str) -> float:
    """Seconds: plain (``1800``, ``2.5``) or ``90s``, ``45m``, ``1h30m``, ``2h``; more than
    0 and at most 6 hours."""
    if not value:
        raise invalid(name, "is empty; give a duration")
    seconds = _seconds(name, value)
    if seconds <= 0:
        raise invalid(name, f"{show(value)} must be more than 0")
    if seconds > MAX_DURATION:
        raise invalid(
            name,
            f"{show(value)} is more than 6h, the longest a job runs on GitHub-hosted runners",
        )
    return seconds


def unitless_warning(name: str, value: object) -> str:
    """A warning for a duration without a unit under a minute: it keeps meaning seconds, which
    users of ``timeout-minutes`` may not expect. Empty when there is nothing to say."""
    text = str(value).strip()
    if isinstance(value, bool) or not _PLAIN_SECONDS.fullmatch(text) or float(text) >= 60:  # noqa: PLR2004
        return ""
    return (
        f"'{name}' is {text} with no unit, so it means {text} seconds. For minutes write "
        f"{text}m; write {text}s to keep seconds without this warning."
    )


def poll_interval(value: str) -> float | None:
    """None for ``auto``; else seconds from 1 to 600."""
    if value.lower() == "auto":
        return None
    if not value:
        raise invalid("poll-interval", "is empty; give auto or a number of seconds")
    seconds = _seconds("poll-interval", value)
    if not 1 <= seconds <= 600:  # noqa: PLR2004
        raise invalid("poll-interval", f"{show(value)} must be from 1 to 600 seconds")
    return seconds
