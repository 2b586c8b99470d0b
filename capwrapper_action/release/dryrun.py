"""``dry-run``: validate everything, show the settings as understood and the requests that
would be sent, sending none."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path

from capwrapper_action.config.inputs import INPUTS
from capwrapper_action.config.lists import ResumeRef
from capwrapper_action.config.settings import Config
from capwrapper_action.ghio import ActionIO
from capwrapper_action.release.pipeline import build_body
from capwrapper_action.release.semver import AUTO

AUTO_NOTE = "auto (resolved from GET /builds at run time)"


def describe_settings(config: Config, io: ActionIO) -> None:
    """Every input as the action understood it (secrets only as set or empty), and where the
    config file gave it."""
    file = config.config_file
    source = file.relative_to(config.workspace).as_posix() if file else ""
    with io.group("Dry run: settings"):
        for spec in INPUTS:
            value = getattr(config, spec.attribute)
            shown = ("***" if value else "(empty)") if spec.secret else _shown(value, config)
            origin = f"  (from {source})" if spec.name in config.from_file else ""
            io.info(f"{spec.name}: {shown}{origin}")


def _shown(value: object, config: Config) -> str:
    if value is None or value in ((), {}):
        return "(empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g} seconds"
    if isinstance(value, Path):
        return value.relative_to(config.workspace).as_posix() or "."
    if isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False)
    if isinstance(value, tuple):
        return ", ".join(_shown(item, config) for item in value)
    if isinstance(value, ResumeRef):
        return f"{value.platform}:{value.build_id}" if value.platform else value.build_id
    return str(value.value if isinstance(value, Enum) else value)


def describe_requests(config: Config, io: ActionIO) -> None:
    describe_settings(config, io)
    headers = "Authorization: Bearer ***  (api-key redacted)"
    with io.group("Dry run: requests that would be sent"):
        if config.resume:
            for ref in config.resume:
                io.info(f"GET {config.api_url}/builds/{ref.build_id}\n  {headers}")
        else:
            io.info(f"GET {config.api_url}/builds?limit=100  (until the newest build of each "
                    f"platform is found: the version checks)\n  {headers}")
            version = AUTO_NOTE if config.version is AUTO else str(config.version)
            for platform in config.platforms:
                body = json.dumps(build_body(config, platform, version), indent=2)
                io.info(f"POST {config.api_url}/builds\n  {headers}\n{body}")
        if config.deploy:
            body = json.dumps({**config.deploy_options, "buildId": "<id of each build>"}, indent=2)
            io.info(f"POST {config.api_url}/deploys (when the gate allows)\n  {headers}\n{body}")
        io.info("dry-run: nothing was sent.")
