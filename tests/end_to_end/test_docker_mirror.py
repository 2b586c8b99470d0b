"""The Docker mirror reproduces the image: only the locked packages, only the copied files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.end_to_end.docker_mirror import REPO_ROOT, ActionImage, parse_dockerfile
from tests.end_to_end.dockerignore import DockerIgnore, copied_files
from tests.runner_files import RunnerEnv

# What `python -m venv` itself puts into a fresh virtualenv, in the image as here.
VENV_SEED = {"pip", "setuptools"}

_LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted(d.metadata['Name'] for d in m.distributions())))"
)


def locked_names(path: Path) -> set[str]:
    """Names in a hash-pinned requirements file whose markers apply to this Python."""
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in " #-":
            continue
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is None or requirement.marker.evaluate():
            names.add(canonicalize_name(requirement.name))
    return names


def test_venv_holds_exactly_the_locked_runtime_packages(action_image: ActionImage) -> None:
    python = action_image.path(action_image.spec.venv + "/bin/python")
    listing = subprocess.run(
        [str(python), "-c", _LIST_DISTRIBUTIONS], capture_output=True, text=True, check=True
    )
    installed = {canonicalize_name(n) for n in json.loads(listing.stdout)}
    assert installed - VENV_SEED == locked_names(REPO_ROOT / "requirements.txt")


def test_root_holds_only_the_copied_files(action_image: ActionImage) -> None:
    spec = parse_dockerfile(REPO_ROOT / "Dockerfile")
    ignore = DockerIgnore.read(REPO_ROOT / ".dockerignore")
    present = {p.relative_to(action_image.root).as_posix()
               for p in action_image.root.rglob("*") if p.is_file()}
    expected_count = sum(len(copied_files(REPO_ROOT, src, ignore)) for src, _ in spec.copies)
    assert len(present) == expected_count
    assert not any("__pycache__" in p or p.endswith(".pyc") for p in present)
    for src, dest in spec.copies:
        if (REPO_ROOT / src).is_file():
            assert action_image.path(dest).read_bytes() == (REPO_ROOT / src).read_bytes()


def test_entrypoint_runs_from_the_mirror(action_image: ActionImage) -> None:
    assert action_image.argv[0] == str(action_image.venv / "bin" / "python")
    assert Path(action_image.argv[-1]).is_file()
    assert Path(action_image.argv[-1]).is_relative_to(action_image.root)


def test_environment_is_the_runners_and_the_images(
    action_image: ActionImage, runner_env: RunnerEnv
) -> None:
    env = action_image.environ(runner_env.env)
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["LANG"] == "C.UTF-8"
    assert env["GITHUB_WORKSPACE"] == str(runner_env.workspace)


def test_runner_env_lays_out_fresh_files(runner_env: RunnerEnv) -> None:
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_STATE",
                 "GITHUB_PATH"):
        assert Path(runner_env.env[name]).read_bytes() == b""
    event = json.loads(Path(runner_env.env["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    assert event["after"] == runner_env.env["GITHUB_SHA"]
    assert runner_env.env["GITHUB_EVENT_NAME"] == "push"
    assert Path(runner_env.env["GITHUB_WORKSPACE"]) == runner_env.workspace
    assert runner_env.workspace.is_dir()


def test_runner_env_takes_nothing_from_this_process_but_path(
    runner_env: RunnerEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPWRAPPER_LEAK_CHECK", "x")
    fresh = RunnerEnv(runner_env.root.parent / "again")
    assert "CAPWRAPPER_LEAK_CHECK" not in fresh.env
    outside = {k for k in fresh.env if not k.startswith(("GITHUB_", "RUNNER_"))}
    assert outside == {"CI", "HOME", "PATH"}


@pytest.mark.skipif(not (REPO_ROOT / "entrypoint.py").exists(), reason="no entrypoint.py yet")
def test_entrypoint_starts_and_ends_without_a_traceback(
    action_image: ActionImage, runner_env: RunnerEnv
) -> None:
    env = runner_env.with_inputs({
        "api-key": "sim-key",
        "api-url": "http://127.0.0.1:9/v1",
        "app-url": "https://shop.example.com",
        "app-name": "Shop",
        "bundle-id": "com.example.shop",
        "version": "1.0.0",
        "dry-run": "true",
    })
    done = action_image.run(env, cwd=runner_env.workspace, timeout=30)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert done.returncode in {0, 1}
