"""The Docker mirror reproduces the image: only the locked packages, only the copied files."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from capwrapper_simulator import SimConfig, Simulator
from tests.end_to_end.docker_mirror import REPO_ROOT, ActionImage, replay
from tests.end_to_end.docker_mirror_spec import RunStep
from tests.end_to_end.dockerignore import DockerIgnore, copied_files
from tests.github_standin import GitHubStandin
from tests.runner_files import DEFAULT_REPOSITORY, DEFAULT_SHA, RunnerEnv

GITHUB_TOKEN = "ghs_runner-test-token"  # the default github-token of tests.runner_files

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
    # Not even pip or setuptools: the venv is created without pip.
    assert installed == locked_names(REPO_ROOT / "requirements.txt")


def _copied(action_image: ActionImage) -> dict[str, Path]:
    """Image-root-relative path -> build-context file, for every file a COPY puts in the image."""
    ignore = DockerIgnore.read(REPO_ROOT / ".dockerignore")
    copied: dict[str, Path] = {}
    for src, dest in action_image.spec.copies:
        top = src.rstrip("/")
        for rel in copied_files(REPO_ROOT, top, ignore):
            inside = dest + rel.removeprefix(top) if (REPO_ROOT / top).is_dir() else dest
            copied[action_image.path(inside).relative_to(action_image.root).as_posix()] = (
                REPO_ROOT / rel
            )
    return copied


def _pyc_is_current(source: Path, pyc: Path) -> bool:
    """What the import system checks before it uses a timestamp-based .pyc."""
    header = pyc.read_bytes()[:16]
    stat = source.stat()
    return (
        header[:4] == importlib.util.MAGIC_NUMBER
        and int.from_bytes(header[4:8], "little") == 0  # timestamp-based
        and int.from_bytes(header[8:12], "little") == int(stat.st_mtime) & 0xFFFFFFFF
        and int.from_bytes(header[12:16], "little") == stat.st_size & 0xFFFFFFFF
    )


def test_root_holds_only_the_copied_files_and_the_applications_bytecode(
    action_image: ActionImage,
) -> None:
    copied = _copied(action_image)
    root = action_image.root
    bytecode = {
        Path(importlib.util.cache_from_source(str(root / rel))).relative_to(root).as_posix(): rel
        for rel in copied
        if rel.endswith(".py") and "/capwrapper_action/" in rel
    }
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert present == set(copied) | set(bytecode)
    for rel, source in copied.items():
        assert (root / rel).read_bytes() == source.read_bytes(), rel
    stale = [pyc for pyc, rel in bytecode.items() if not _pyc_is_current(root / rel, root / pyc)]
    assert not stale


def test_image_holds_no_simulator_and_cannot_import_one(action_image: ActionImage) -> None:
    everything = [p.relative_to(action_image.root).as_posix() for p in action_image.root.rglob("*")]
    assert not [p for p in everything if "simulator" in p]
    app_dir = str(action_image.path(action_image.spec.entrypoint[-1]).parent)
    probe = "import importlib.util as u; print(u.find_spec('capwrapper_simulator'))"
    found = subprocess.run(
        [action_image.argv[0], "-c", probe],
        env=action_image.environ({"PYTHONPATH": app_dir}),
        cwd=action_image.root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "None"


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


def _pyc_files(prefix: Path) -> set[str]:
    return {p.relative_to(prefix).as_posix() for p in prefix.rglob("*.pyc")}


def test_runs_of_the_action_compile_nothing_the_image_did_not(
    action_image: ActionImage, tmp_path: Path
) -> None:
    """The image's last step compiles the application and, by importing all of it, every module
    it uses (the base image ships the standard library without bytecode). Replayed with every
    .pyc sent to one folder, it must leave nothing for a real run to compile: a full release run
    and a failing one write no .pyc there."""
    prefix = tmp_path / "pycache"
    last = action_image.spec.steps[-1]
    assert isinstance(last, RunStep)
    replay(action_image, last, extra={"PYTHONPYCACHEPREFIX": str(prefix)})
    compiled = _pyc_files(prefix)
    assert any("/capwrapper_action/" in p for p in compiled)
    assert any("/github/" in p for p in compiled)

    watch = {"PYTHONPYCACHEPREFIX": str(prefix), "PYTHONDONTWRITEBYTECODE": ""}
    with Simulator(SimConfig(queue_seconds=0.1, build_seconds=0.3)) as sim, GitHubStandin(
        repository=DEFAULT_REPOSITORY
    ) as github:
        github.add_token(GITHUB_TOKEN)
        github.add_pull(3, ["release"], head_sha="4" * 40, merge_commit_sha=DEFAULT_SHA)
        given = {
            "api-key": "sim-key", "api-url": sim.base_url, "app-url": "https://shop.example.com",
            "app-name": "Shop", "bundle-id": "com.example.shop", "poll-interval": "1",
            "deploy": "true", "deploy-labels": "release", "deploy-options": "track: beta",
            "download": "true",
        }  # fmt: skip
        for api_key, want in ((given["api-key"], 0), ("wrong-key", 1)):
            runner = RunnerEnv(tmp_path / f"runner-{want}")
            runner.env["GITHUB_API_URL"] = github.url
            env = {**runner.with_inputs({**given, "api-key": api_key}), **watch}
            done = action_image.run(env, cwd=runner.workspace, timeout=60)
            assert done.returncode == want, done.stdout + done.stderr
    late = sorted(_pyc_files(prefix) - compiled)
    assert not late, f"compiled at run time, not in the image (Dockerfile's last RUN): {late}"
