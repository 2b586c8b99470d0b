"""Safe Markdown building blocks for the job summary.

Everything that came from outside (the API, the event, inputs) goes through ``text`` (inline),
``code_block`` (preformatted) or ``link`` before it reaches the summary, so that it renders as
the literal characters it holds: no HTML, no emphasis, no links, no table breakage, no
autolinks, mentions of emoji or math. Every helper caps the length of what it is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlsplit

from capwrapper_action.result import RunStatus

CELL_LIMIT = 500  # characters of outside text in one table cell or inline field
BLOCK_LIMIT = 4096  # characters of outside text in one code block
URL_LIMIT = 8192
ELLIPSIS = "…"
PLATFORM_LABELS = {"android": "Android", "ios": "iOS"}
# The heading of the job summary and the pull request comment: a symbol and words per status.
HEADINGS = {
    RunStatus.SUCCESS: ("✅", "builds succeeded"),
    RunStatus.FAILED: ("❌", "failed"),
    RunStatus.TIMED_OUT: ("⌛", "timed out"),
    RunStatus.CANCELLED: ("⏹️", "cancelled"),
    RunStatus.CREATED: ("⏳", "builds created"),
    RunStatus.DRY_RUN: ("📝", "dry run: nothing was sent"),
}

# C0/C1 controls (tab and line breaks handled separately), lone surrogates, and the bidi
# controls that can make text display in another order than it reads ("Trojan source").
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")
# ASCII punctuation with a meaning somewhere in GitHub Markdown (CommonMark allows a backslash
# before any ASCII punctuation). `:` and `@` stop URL, e-mail and emoji autolinks; `$` math.
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-!|~:@$^])")
_WWW = re.compile(r"(www)\.", re.IGNORECASE)
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ORDERED_START = re.compile(r"^(\d+)([.)])")


def clean(value: object) -> str:
    """``value`` as text with controls, lone surrogates and bidi overrides replaced."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return _INVISIBLE.sub("\ufffd", text.replace("\t", " "))


def cap(text: str, limit: int) -> str:
    """At most ``limit`` (> 0) characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def text(value: object, limit: int = CELL_LIMIT, *, line_start: bool = False) -> str:
    """Inline Markdown showing ``value`` literally, on one line (fit for a table cell).

    ``line_start``: the text begins a line or a list item, where `1.` starts a list and `=`
    may underline a heading, so those are escaped too."""
    raw = cap(" ".join(_LINE_BREAKS.split(clean(value))), limit)
    escaped = _PUNCT.sub(r"\\\1", raw)
    escaped = "".join(_ENTITIES.get(ch, ch) for ch in escaped)
    escaped = _WWW.sub(r"\1\\.", escaped)
    if line_start:
        escaped = _ORDERED_START.sub(r"\1\\\2", escaped)
        escaped = "\\" + escaped if escaped.startswith("=") else escaped
    return escaped


def _backticks(body: str, at_least: int) -> str:
    """More backticks than any run of them in ``body``, so that nothing inside closes them."""
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    return "`" * max(at_least, longest + 1)


def code_block(value: object, limit: int = BLOCK_LIMIT, info: str = "") -> str:
    """A fenced code block holding ``value`` verbatim (capped); nothing inside can close it."""
    body = cap("\n".join(_LINE_BREAKS.split(clean(value))), limit).rstrip("\n")
    fence = _backticks(body, 3)
    info = re.sub(r"[^A-Za-z0-9_-]", "", info)[:20]
    return f"{fence}{info}\n{body}\n{fence}"


def code(value: object, limit: int = CELL_LIMIT) -> str:
    """Inline code for short outside text (ids, versions), safe in a table cell."""
    raw = cap(" ".join(_LINE_BREAKS.split(clean(value))), limit)
    if not raw.strip():
        return text(raw, limit)
    # `|` splits a table row even inside a code span; `\|` is shown as `|` there.
    body = raw.replace("|", "\\|")
    fence = _backticks(body, 1)
    pad = " " if body[0] in "` " or body[-1] in "` " else ""  # a space pair is stripped
    return f"{fence}{pad}{body}{pad}{fence}"


def safe_url(url: object) -> str | None:
    """``url`` fit for a link destination, or None when it is not plain http(s)."""
    raw = clean(url)
    if not raw or len(raw) > URL_LIMIT or _LINE_BREAKS.search(raw) or "\ufffd" in raw:
        return None
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return quote(raw, safe="/:?=&%#@!$*+,;~.-_")


def link(label: object, url: object) -> str:
    """``[label](url)`` with the label escaped; the bare label when the URL is unsafe."""
    target = safe_url(url)
    return text(label) if target is None else f"[{text(label)}]({target})"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub table; ``headers`` and cells must already be Markdown made by this module."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        cells = [cell if cell.strip() else "—" for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def heading(
    status: RunStatus, headings: Mapping[RunStatus, tuple[str, str]] = HEADINGS
) -> tuple[str, str]:
    """The symbol and words for a run status; an unknown one escaped."""
    return headings.get(status, ("❔", text(status, 40)))


def platform_label(platform: str) -> str:
    """A platform as readers know it ("iOS"); an unknown one escaped."""
    return PLATFORM_LABELS.get(platform) or text(platform, 20)
