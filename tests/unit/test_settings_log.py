"""The Settings group lists every input from the input table, as understood, secrets hidden."""

from __future__ import annotations

import io
from pathlib import Path

from capwrapper_action.config.inputs import INPUT_NAMES, read_inputs
from capwrapper_action.config.settings import parse_config
from capwrapper_action.ghio import ActionIO
from capwrapper_action.report.settings import describe_settings

KEY = "sk_live_TOPSECRETKEY"


def test_every_input_is_listed_once_with_secrets_hidden_and_the_file_named(
    tmp_path: Path,
) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/capwrapper.yml").write_text(
        "bundle-id: com.example.shop\nbuild-id: [android:bld_a]\ndeploy-options: {track: beta}\n"
    )
    env = {
        "GITHUB_WORKSPACE": str(tmp_path),
        "INPUT_API-KEY": KEY,
        "INPUT_TIMEOUT": "1h30m",
        "INPUT_DEPLOY": "true",
    }
    config = parse_config(read_inputs(env), env=env)
    out = io.StringIO()
    describe_settings(config, ActionIO(out))
    lines = out.getvalue().splitlines()
    named = [line.split(":", 1)[0] for line in lines if not line.startswith(("::", "##"))]
    assert [n for n in named if n in INPUT_NAMES] == list(INPUT_NAMES)
    text = out.getvalue()
    assert KEY not in text
    assert "api-key: ***\n" in text
    assert "github-token: (empty)\n" in text
    assert "timeout: 1h 30m\n" in text
    assert "deploy: true\n" in text
    assert "build-id: android:bld_a  (from .github/capwrapper.yml)\n" in text
    assert 'deploy-options: {"track": "beta"}  (from .github/capwrapper.yml)\n' in text
    assert "download-path: capwrapper-artifacts\n" in text
    assert "version: auto\n" in text
    assert "poll-interval: auto\n" in text
    assert "app-url: (empty)\n" in text
