"""Checks that a run of the action let no secret out: the assertions of the secrets tests.

A secret counts as leaked when it, or any run of ``WINDOW`` of its characters, shows up
anywhere but in its own ``::add-mask::`` line, as written or escaped (Markdown backslashes,
HTML entities, %-encoding): a prefix cut off by some length limit, or a key shown as
``sk\\_live\\_…`` in the summary, is as useful to a reader of a public log as the key.
Pick secrets whose every ``WINDOW``-long piece is unlikely to occur in ordinary text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import unquote

from tests.runner_files import FILE_COMMANDS, RunnerEnv

WINDOW = 8


def pieces(secret: str) -> set[str]:
    """The secret's substrings of ``WINDOW`` characters (the secret itself when shorter)."""
    if len(secret) <= WINDOW:
        return {secret}
    return {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}


def plain(text: str) -> str:
    """``text`` with the escapes the summary, JSON outputs and links use undone (backslashes
    dropped, HTML entities and %-escapes decoded), so an escaped secret shows as itself."""
    return html.unescape(unquote(text.replace("\\", "")))


def leaked(text: str, secret: str) -> list[str]:
    """The pieces of ``secret`` found in ``text``, as written or escaped, with some context."""
    found = []
    for haystack, needles in ((text, pieces(secret)), (plain(text), pieces(plain(secret)))):
        for piece in sorted(needles):
            at = haystack.find(piece)
            if at >= 0:
                found.append(f"{piece!r} in …{haystack[max(0, at - 60) : at + 60]!r}…")
    return found


def _command_data(text: str) -> str:
    """``text`` as a workflow command's data (the runner undoes this before masking)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def assert_masked_first(stdout: str, secrets: Sequence[str]) -> str:
    """The first lines of ``stdout`` mask ``secrets`` (empty ones skipped), in that order, before
    anything else is printed; returns the rest of stdout."""
    expected = [f"::add-mask::{_command_data(s)}" for s in secrets if s]
    lines = stdout.splitlines()
    assert lines[: len(expected)] == expected, stdout[:2000]
    return "\n".join(lines[len(expected) :])


def assert_no_leaks(
    stdout: str, stderr: str, runner: RunnerEnv, secrets: Sequence[str], *, debug: bool
) -> str:
    """All of this module's checks on one run; returns stdout after the mask lines."""
    rest = assert_masked_first(stdout, secrets)
    places = {"stdout": rest, "stderr": stderr}
    for variable in FILE_COMMANDS:
        places[variable] = runner.path(variable).read_text(encoding="utf-8", errors="replace")
    for secret in filter(None, secrets):
        for place, text in places.items():
            found = leaked(text, secret)
            assert not found, f"a secret leaked into {place}: {found}"
    if not debug:
        assert "Traceback" not in stdout + stderr, stdout + stderr
        assert "::debug::" not in stdout
    return rest
