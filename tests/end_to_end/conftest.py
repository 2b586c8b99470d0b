"""Fixtures for running the action as GitHub runs it: its container image and the runner's files.

- `action_image` (session): the Docker image mirrored without a Docker engine
  (tests/end_to_end/docker_mirror.py): `.argv`, `.run(env, cwd, timeout)`, `.popen(env, cwd)`.
- `runner_env`: a fresh `RunnerEnv` (tests/runner_files.py) under the test's tmp_path:
  `.env`, `.with_inputs({...})`, `.workspace` (the cwd), `.outputs()`, `.summary_text()`.
- `sim`: a fast API simulator (builds take 0.3 s); a module may define its own.
- `github`: the GitHub API stand-in, accepting the token the runner files pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capwrapper_simulator import SimConfig, Simulator
from tests.end_to_end.docker_mirror import ActionImage, build_action_image
from tests.github_standin import GitHubStandin
from tests.runner_files import DEFAULT_REPOSITORY, RunnerEnv

TOKEN = "ghs_runner-test-token"  # what tests.runner_files passes as github-token


@pytest.fixture(scope="session")
def action_image(tmp_path_factory: pytest.TempPathFactory) -> ActionImage:
    return build_action_image(tmp_path_factory.mktemp("image-root"))


@pytest.fixture
def runner_env(tmp_path: Path) -> RunnerEnv:
    return RunnerEnv(tmp_path / "runner")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(queue_seconds=0.1, build_seconds=0.3)) as server:
        yield server


@pytest.fixture
def github() -> Iterator[GitHubStandin]:
    with GitHubStandin(repository=DEFAULT_REPOSITORY) as standin:
        standin.add_token(TOKEN)
        yield standin
