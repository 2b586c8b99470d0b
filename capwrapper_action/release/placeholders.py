"""Placeholders in the values of ``build-options`` and ``deploy-options``: release notes and
the like from what the action knows, without a new release of the action.

``${version}``, ``${commit.sha}``, ``${commit.message}``, ``${pr.number}``, ``${pr.title}``,
``${pr.body}`` and ``${pr.labels}`` are replaced in every string value (nested mappings and
lists included; keys are left alone). ``$${`` writes a literal ``${``. ``${{ … }}`` (a
workflow expression the runner did not evaluate, e.g. from the config file) is left as it is.

Pure: no I/O. ``problems`` finds what ``fill`` could not handle (an unknown name, a ``${``
that is never closed) so the input can be refused before any request; ``fill`` returns the
filled value and the names that had nothing to fill them (no pull request, say), which become
empty. What is filled in stays plain text: the request body is JSON, so no quoting is needed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from capwrapper_action.github.event import GitHubContext

KNOWN: tuple[str, ...] = (
    "version",
    "commit.sha",
    "commit.message",
    "pr.number",
    "pr.title",
    "pr.body",
    "pr.labels",
)
PULL_NAMES = frozenset(name for name in KNOWN if name.startswith("pr."))
EXAMPLE = "releaseNotes: '${pr.title} (${version})'"

# In order: a literal `${`; a workflow expression; a placeholder; a `${` left open.
_TOKEN = re.compile(r"\$\$\{|\$\{\{.*?\}\}|\$\{\{|\$\{([^{}$]*)\}|\$\{")
MAX_SHOWN = 40
OPEN = "${"
LITERAL = "$${"


def _name(match: re.Match[str]) -> str | None:
    """The stripped name in a placeholder match; None for the other sequences."""
    inner = match.group(1)
    return inner.strip() if inner is not None else None


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def used(value: object) -> frozenset[str]:
    names = (_name(match) for text in _strings(value) for match in _TOKEN.finditer(text))
    return frozenset(name for name in names if name is not None and name in KNOWN)


def problems(value: object) -> list[str]:
    """What is wrong with the placeholders in ``value``, one sentence each (empty: fine)."""
    found: list[str] = []
    for text in _strings(value):
        for match in _TOKEN.finditer(text):
            problem = _problem(match.group(0), _name(match))
            if problem and problem not in found:
                found.append(problem)
    return found


def _problem(token: str, name: str | None) -> str:
    if name is None:
        return ("has a `${` that is not closed by `}`; write `$${` for a literal `${`"
                if token == OPEN else "")
    if name in KNOWN:
        return ""
    close = difflib.get_close_matches(name, KNOWN, n=1, cutoff=0.6)
    hint = f" (did you mean ${{{close[0]}}}?)" if close else ""
    shown = name if len(name) <= MAX_SHOWN else name[: MAX_SHOWN - 1] + "…"
    return (
        f"uses the unknown placeholder ${{{shown}}}{hint}; the known ones are "
        + ", ".join(f"${{{n}}}" for n in KNOWN)
    )


def fill(value: Any, values: Mapping[str, str | None]) -> tuple[Any, frozenset[str]]:
    """``value`` with every placeholder replaced by ``values[name]``, and the names that had
    no value (None or missing), which become empty strings. Call ``problems`` first: a
    sequence it would refuse is left as it is here."""
    empty: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        token, name = match.group(0), _name(match)
        if token == LITERAL:
            return OPEN
        if name is None or name not in KNOWN:
            return token
        filled = values.get(name)
        if filled is None:
            empty.add(name)
            return ""
        return filled

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return _TOKEN.sub(replace, item)
        if isinstance(item, Mapping):
            return {key: walk(sub) for key, sub in item.items()}
        if isinstance(item, list | tuple):
            return [walk(sub) for sub in item]
        return item

    return walk(value), frozenset(empty)


def empty_notice(names: frozenset[str], where: str) -> str:
    """The notice for placeholders that became empty in ``where`` (an input name)."""
    shown = ", ".join(f"${{{n}}}" for n in KNOWN if n in names)
    why = []
    if names & PULL_NAMES:
        why.append("the pull request ones need a run for a pull request, or for the merge of one")
    if "commit.message" in names:
        why.append("the commit message was not in the event and the GitHub API did not give it")
    if names - PULL_NAMES - {"commit.message"}:
        why.append("the run did not learn the others")
    return f"{shown} in `{where}` became empty: " + "; ".join(why) + "."


def values_for(ctx: GitHubContext, version: str | None) -> dict[str, str | None]:
    """What each placeholder holds in this run; None where the run does not know it."""
    number = ctx.pull_request
    pull = ctx.pull if number is not None else None
    return {
        "version": version,
        "commit.sha": ctx.commit_sha,
        "commit.message": ctx.commit_message,
        "pr.number": str(number) if number is not None else None,
        "pr.title": pull.title if pull else None,
        "pr.body": pull.body if pull else None,
        "pr.labels": ", ".join(ctx.labels) if number is not None else None,
    }


def fill_options(
    options: Mapping[str, Any], where: str, values: Mapping[str, str | None]
) -> tuple[Mapping[str, Any], str]:
    """``options`` (an input's mapping) filled, and the notice to show ("" when none)."""
    if not used(options):
        return options, ""
    filled, empty = fill(options, values)
    return filled, empty_notice(empty, where) if empty else ""
