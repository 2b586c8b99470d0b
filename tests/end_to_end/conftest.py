"""Fixtures for running the action as GitHub runs it: its container image and the runner's files.

- `action_image` (session): the Docker image mirrored without a Docker engine
  (tests/end_to_end/docker_mirror.py): `.argv`, `.run(env, cwd, timeout)`, `.popen(env, cwd)`.
- `runner_env`: a fresh `RunnerEnv` (tests/runner_files.py) under the test's tmp_path:
  `.env`, `.with_inputs({...})`, `.workspace` (the cwd), `.outputs()`, `.summary_text()`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.end_to_end.docker_mirror import ActionImage, build_action_image
from tests.runner_files import RunnerEnv


@pytest.fixture(scope="session")
def action_image(tmp_path_factory: pytest.TempPathFactory) -> ActionImage:
    return build_action_image(tmp_path_factory.mktemp("image-root"))


@pytest.fixture
def runner_env(tmp_path: Path) -> RunnerEnv:
    return RunnerEnv(tmp_path / "runner")
