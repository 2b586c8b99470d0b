"""What the config tests share: the inputs of a minimal valid run, and parsing them as the
action does (``read_inputs`` then ``parse_config``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from capwrapper_action.config.inputs import read_inputs
from capwrapper_action.config.settings import Config, parse_config
from capwrapper_action.errors import ConfigError

KEY = "sk_live_TOPSECRETKEY"


def minimal_env(workspace: Path) -> dict[str, str]:
    return {
        "GITHUB_WORKSPACE": str(workspace),
        "INPUT_API-KEY": KEY,
        "INPUT_APP-URL": "https://shop.example.com",
        "INPUT_APP-NAME": "Example Shop",
        "INPUT_BUNDLE-ID": "com.example.shop",
    }


def parse(env: dict[str, str]) -> Config:
    return parse_config(read_inputs(env), env=env)


def config_error(env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(env)
    return caught.value
