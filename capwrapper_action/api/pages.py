"""One page of ``GET /builds``, in any shape the docs leave open: a bare array, or an object
holding the array under ``data``, ``builds`` or ``items``, with a cursor (``nextCursor``,
``next``, ``cursor``) and maybe ``hasMore``; or a ``Link: <…>; rel="next"`` header (RFC 8288),
which wins over the body when both are there. Entries that are not builds are skipped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from capwrapper_action.api.models import Build
from capwrapper_action.errors import UnexpectedResponseError

ARRAY_KEYS = ("data", "builds", "items")
CURSOR_KEYS = ("nextCursor", "next", "cursor")
_MAX_CURSOR = 2048


class DebugLog(Protocol):
    def debug(self, message: str) -> None: ...


@dataclass(frozen=True)
class Page:
    builds: list[Build]
    next_params: dict[str, str] | None  # query parameters of the next page; None: last page


def parse_page(data: Any, base_url: str, log: DebugLog, *, link: str | None = None) -> Page:
    """The builds of one page and how to ask for the next."""
    page = _parse_body(data, base_url, log)
    linked = next_link(link, base_url, log) if link else None
    if linked is not None and page.builds:
        return Page(page.builds, linked)
    return page


def next_page_params(
    params: Mapping[str, str], page: Page, seen: set[tuple[tuple[str, str], ...]],
    log: DebugLog,
) -> dict[str, str] | None:
    """The query of the page after ``page`` (asked for with ``params``), or None at the end,
    after an empty page, or when the server hands back a cursor it gave before (a loop)."""
    if page.next_params is None or not page.builds:
        return None
    following = {"limit": params.get("limit", ""), **page.next_params}
    if not following["limit"]:
        del following["limit"]
    marker = tuple(sorted(following.items()))
    if marker in seen:
        log.debug("GET /builds: the cursor repeats; stopping there")
        return None
    seen.add(marker)
    return following


_LINK_PART = re.compile(r"<(?P<url>[^>]*)>(?P<params>[^,<]*)")
_REL = re.compile(r"""(?:^|;)\s*rel\s*=\s*"?(?P<rel>[^";]+)"?""", re.IGNORECASE)


def next_link(header: str, base_url: str, log: DebugLog) -> dict[str, str] | None:
    """The query of the ``rel="next"`` target of a ``Link`` header, on the API's host only."""
    for match in _LINK_PART.finditer(header[:_MAX_CURSOR * 4]):
        rel = _REL.search(match.group("params"))
        if rel and "next" in rel.group("rel").lower().split():
            return _params_of_link(match.group("url").strip(), base_url, log)
    return None


def _parse_body(data: Any, base_url: str, log: DebugLog) -> Page:
    if isinstance(data, list):
        return Page(_builds(data, log), None)
    if not isinstance(data, Mapping):
        raise UnexpectedResponseError(
            f"GET /builds answered {type(data).__name__} JSON; expected a list of builds.",
            method="GET", path="/builds",
        )
    items = next((data[k] for k in ARRAY_KEYS if isinstance(data.get(k), list)), None)
    if items is None:
        raise UnexpectedResponseError(
            "GET /builds answered a JSON object without a list of builds under "
            f"{', '.join(repr(k) for k in ARRAY_KEYS)}.",
            method="GET", path="/builds",
        )
    more = data.get("hasMore") is not False
    return Page(_builds(items, log), _next_params(data, base_url, log) if more else None)


def _builds(items: list[Any], log: DebugLog) -> list[Build]:
    builds: list[Build] = []
    for index, item in enumerate(items):
        try:
            builds.append(Build.from_api(item))
        except UnexpectedResponseError as exc:
            log.debug(f"GET /builds: skipped entry {index}: {exc.message}")
    return builds


def _next_params(data: Mapping[str, Any], base_url: str, log: DebugLog) -> dict[str, str] | None:
    for key in CURSOR_KEYS:
        value = data.get(key)
        if isinstance(value, bool) or value is None or value == "":
            continue
        if isinstance(value, int):
            return {"cursor": str(value)}
        if not isinstance(value, str) or len(value) > _MAX_CURSOR:
            log.debug(f"GET /builds: ignored an unusable '{key}' value")
            continue
        if key == "next" and ("/" in value or "?" in value):
            return _params_of_link(value, base_url, log)
        return {"cursor": value}
    return None


def _params_of_link(link: str, base_url: str, log: DebugLog) -> dict[str, str] | None:
    """The query of a next-page link on the API's own host; never follow another host."""
    parts = urlsplit(link)
    base = urlsplit(base_url)
    if parts.netloc and (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        log.debug("GET /builds: the next-page link points to another host; not following it")
        return None
    params = dict(parse_qsl(parts.query, keep_blank_values=False))
    if not params:
        log.debug("GET /builds: the next-page link has no query; stopping there")
        return None
    return params
