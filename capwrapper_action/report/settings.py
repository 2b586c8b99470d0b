"""The log's Settings group: every input as the action understood it, from the input table.
Secrets show only as set (``***``) or empty; an input the config file set says so."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path

from capwrapper_action.config.inputs import INPUTS
from capwrapper_action.config.lists import ResumeRef
from capwrapper_action.config.settings import Config
from capwrapper_action.ghio import ActionIO
from capwrapper_action.timeutil import format_duration


def describe_settings(config: Config, io: ActionIO) -> None:
    """Every input as the action understood it (secrets only as set or empty), and where the
    config file gave it."""
    file = config.config_file
    source = file.relative_to(config.workspace).as_posix() if file else ""
    with io.group("Settings"):
        for spec in INPUTS:
            value = getattr(config, spec.attribute)
            if spec.secret:
                shown = "***" if value else "(empty)"
            elif value is None and spec.default:  # poll-interval: auto
                shown = spec.default
            else:
                shown = _shown(value, config)
            origin = f"  (from {source})" if spec.name in config.from_file else ""
            io.info(f"{spec.name}: {shown}{origin}")


def _shown(value: object, config: Config) -> str:
    if value is None or value in ((), {}):
        return "(empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_duration(value)
    if isinstance(value, Path):
        return value.relative_to(config.workspace).as_posix() or "."
    if isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False)
    if isinstance(value, tuple):
        return ", ".join(_shown(item, config) for item in value)
    if isinstance(value, ResumeRef):
        return f"{value.platform}:{value.build_id}" if value.platform else value.build_id
    return str(value.value if isinstance(value, Enum) else value)
