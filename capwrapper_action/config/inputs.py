"""The action's inputs as the runner hands them over, and the helpers their messages share.

``INPUT_NAMES`` and ``INPUT_DEFAULTS`` mirror action.yml (a unit test keeps them in step), so
nothing parses action.yml at start-up. ``read_inputs`` reads the ``INPUT_*`` variables;
``config_file.merge_config_file`` lays the repository's config file under them.
"""

from __future__ import annotations

import os
import re
import textwrap
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from capwrapper_action.errors import ConfigError

INPUT_DEFAULTS: Mapping[str, str] = {
    "api-key": "",
    "api-url": "https://api.capwrapper.com/v1",
    "app-url": "",
    "app-name": "",
    "bundle-id": "",
    "version": "auto",
    "version-bump": "patch",
    "platforms": "android, ios",
    "permissions": "",
    "build-options": "",
    "build-id": "",
    "wait": "true",
    "timeout": "30m",
    "queue-timeout": "",
    "poll-interval": "auto",
    "github-token": "${{ github.token }}",
    "deploy": "false",
    "deploy-labels": "",
    "deploy-options": "",
    "download": "false",
    "download-path": "capwrapper-artifacts",
    "summary": "true",
    "summary-download-links": "false",
    "config-file": "",
    "dry-run": "false",
}
INPUT_NAMES: tuple[str, ...] = tuple(INPUT_DEFAULTS)
SECRET_INPUTS = frozenset({"api-key", "github-token"})
# Inputs whose text may span lines (lists, mappings); the YAML ones keep their indentation.
MULTILINE_INPUTS = frozenset(
    {"platforms", "permissions", "build-options", "deploy-options", "deploy-labels", "build-id"}
)
YAML_INPUTS = frozenset({"platforms", "permissions", "build-options", "deploy-options"})
LIST_INPUTS = frozenset({"platforms", "permissions", "deploy-labels", "build-id"})
MAPPING_INPUTS = frozenset({"build-options", "deploy-options"})



def input_error(name: str, problem: str, example: str) -> ConfigError:
    """A ``ConfigError`` whose problem ends in a full stop (the example follows it)."""
    problem = problem if problem.endswith((".", "?", "!")) else problem + "."
    return ConfigError(name, problem, example)


def normalize(name: str, value: str) -> str:
    """Surrounding white space removed; for YAML inputs only blank lines and the common
    indentation, so that a block list or mapping keeps its shape."""
    if name in MULTILINE_INPUTS:
        value = value.replace("\r\n", "\n")
    if name in YAML_INPUTS:
        return textwrap.dedent(value.lstrip("\n").rstrip()).strip("\n")
    return value.strip()


def read_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """Every declared input, normalized. The runner sets ``INPUT_API-KEY`` (hyphen kept);
    ``INPUT_API_KEY`` is read too, for people who run the image by hand. When both are set
    the hyphen form wins. An input that is not set gets its action.yml default, except an
    expression default (``${{ github.token }}``), which only the runner can evaluate: ""."""
    values: dict[str, str] = {}
    for name in INPUT_NAMES:
        hyphen = "INPUT_" + name.upper().replace(" ", "_")
        underscore = hyphen.replace("-", "_")
        raw = env.get(hyphen, env.get(underscore))
        if raw is None:
            default = INPUT_DEFAULTS[name]
            raw = "" if default.startswith("${{") else default
        values[name] = normalize(name, raw)
    return values


def workspace_of(env: Mapping[str, str]) -> Path:
    """``GITHUB_WORKSPACE`` (``/github/workspace`` in the container) or the current folder."""
    return Path(env.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()


_SHOWN_AS_ESCAPE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def show(value: str, limit: int = 60) -> str:
    """``value`` quoted for a message: at most ``limit`` characters, control characters
    (and bidi or zero-width ones) escaped so that the message stays one readable line."""
    head = value[:limit]
    out = []
    for ch in head:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in _SHOWN_AS_ESCAPE:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"' + ("…" if len(value) > limit else "")


def workspace_path(name: str, value: str, *, workspace: Path, example: str) -> Path:
    """``value`` resolved against the workspace; refused when absolute or outside it
    (symbolic links included)."""
    if not value:
        raise input_error(name, "is empty; give a path relative to the workspace", example)
    if value.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", value):
        raise input_error(
            name,
            f"{show(value)} is not relative to the workspace (in the container the "
            "workspace is /github/workspace, not the runner's path)",
            example,
        )
    root = workspace.resolve()
    try:
        target = (root / value).resolve()
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long, a loop of links
        raise input_error(name, f"{show(value)} is not a usable path ({exc})", example) from None
    if not target.is_relative_to(root):
        raise input_error(name, f"{show(value)} leads outside the workspace", example)
    return target
