"""``dry-run``: validate everything and show the requests that would be sent, sending none
(the settings as understood are in the log's Settings group, as in every run)."""

from __future__ import annotations

import json

from capwrapper_action.config.settings import Config
from capwrapper_action.ghio import ActionIO
from capwrapper_action.release.building import build_body
from capwrapper_action.release.semver import AUTO

AUTO_NOTE = "auto (resolved from GET /builds at run time)"


def describe_requests(config: Config, io: ActionIO) -> None:
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
