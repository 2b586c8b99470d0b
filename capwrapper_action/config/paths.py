"""Parsers of the inputs that name a path in the workspace: ``config-file`` and
``download-path``. Errors as in ``values``; a path may never lead outside the workspace
(symbolic links included)."""

from __future__ import annotations

import re
from pathlib import Path

from capwrapper_action.config.values import invalid, show

DEFAULT_CONFIG_FILE = ".github/capwrapper.yml"


def config_file(value: str, *, workspace: Path) -> Path | None:
    """The config file: the one named, or ``.github/capwrapper.yml`` when that exists
    (None when it does not)."""
    if not value and not _is_file(workspace / DEFAULT_CONFIG_FILE):
        return None
    named = value or DEFAULT_CONFIG_FILE
    path = workspace_path("config-file", named, workspace=workspace)
    if not _is_file(path):
        raise invalid(
            "config-file",
            f"{show(named)} is not a file in the workspace (does the job check "
            "out the repository before this step?)",
        )
    return path


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, and the like
        return False


def workspace_path(name: str, value: str, *, workspace: Path) -> Path:
    """``value`` resolved against the workspace (``download-path``, ``config-file``); refused
    when absolute or outside it (symbolic links included)."""
    if not value:
        raise invalid(name, "is empty; give a path relative to the workspace")
    if value.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", value):
        raise invalid(
            name,
            f"{show(value)} is not relative to the workspace (in the container the "
            "workspace is /github/workspace, not the runner's path)",
        )
    root = workspace.resolve()
    try:
        target = (root / value).resolve()
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long, a loop of links
        raise invalid(name, f"{show(value)} is not a usable path ({exc})") from None
    if not target.is_relative_to(root):
        raise invalid(name, f"{show(value)} leads outside the workspace")
    return target
