"""The container image is built the supply-chain-safe way, and the build context is minimal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.end_to_end.docker_mirror import (
    REPO_ROOT,
    DockerfileError,
    DockerfileSpec,
    instructions,
    parse_dockerfile,
)
from tests.end_to_end.dockerignore import DockerIgnore

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


@pytest.fixture(scope="module")
def spec() -> DockerfileSpec:
    return parse_dockerfile(DOCKERFILE)


def keywords() -> list[str]:
    return [keyword for keyword, _ in instructions(DOCKERFILE.read_text(encoding="utf-8"))]


def test_base_image_is_python_311_slim_pinned_by_digest(spec: DockerfileSpec) -> None:
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-bookworm)?@sha256:[0-9a-f]{64}", spec.base)
    assert keywords().count("FROM") == 1


def test_dependencies_are_installed_before_the_code_is_copied(spec: DockerfileSpec) -> None:
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    pip_at = next(i for i, (kw, args) in enumerate(steps) if kw == "RUN" and "pip install" in args)
    copies_before = [args for kw, args in steps[:pip_at] if kw == "COPY"]
    assert copies_before == [f"{spec.requirements} {spec.requirements_in_image}"]
    code_sources = {src for src, _ in spec.copies} - {spec.requirements}
    assert code_sources == {"entrypoint.py", "capwrapper_action/"}


def test_pip_checks_hashes_and_installs_nothing_else(spec: DockerfileSpec) -> None:
    assert {"--require-hashes", "--no-deps", "--no-cache-dir"} <= set(spec.pip_args)
    assert spec.requirements == "requirements.txt"


def test_runs_as_root_with_exec_form_entrypoint(spec: DockerfileSpec) -> None:
    assert "USER" not in keywords()
    assert "CMD" not in keywords()
    assert spec.entrypoint[0] == f"{spec.venv}/bin/python"
    assert spec.entrypoint[1:] == [
        dest for src, dest in spec.copies if src == "entrypoint.py"
    ]


def test_python_environment(spec: DockerfileSpec) -> None:
    assert spec.env["PYTHONUNBUFFERED"] == "1"
    assert spec.env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert not any(re.search(r"TOKEN|KEY|SECRET|PASSWORD", name) for name in spec.env)


def test_dockerignore_is_an_allow_list_of_exactly_the_copied_sources(spec: DockerfileSpec) -> None:
    lines = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {src.rstrip("/") for src, _ in spec.copies}


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("requirements.txt", False),
        ("entrypoint.py", False),
        ("capwrapper_action/__init__.py", False),
        ("capwrapper_simulator/api.py", True),  # the simulator never enters the image
        ("capwrapper_action/__pycache__/main.cpython-311.pyc", True),
        ("capwrapper_action/api/__pycache__/x.pyc", True),
        ("tests/unit/test_dockerfile.py", True),
        (".venv/bin/python", True),
        ("requirements-dev.txt", True),
        (".git/config", True),
        ("README.md", True),
        ("Dockerfile", True),
    ],
)
def test_build_context_after_dockerignore(path: str, excluded: bool) -> None:
    assert DockerIgnore.read(DOCKERIGNORE).excluded(path) is excluded


def test_dockerignore_patterns_follow_docker_rules(tmp_path: Path) -> None:
    rules = tmp_path / ".dockerignore"
    rules.write_text("*\n!src\nsrc/**/*.log\n!src/keep.log\n", encoding="utf-8")
    ignore = DockerIgnore.read(rules)
    assert not ignore.excluded("src/a/b.py")
    assert ignore.excluded("src/a/b.log")
    assert ignore.excluded("src/b.log")  # `**/` also matches no directory
    assert not ignore.excluded("src/keep.log")
    assert ignore.excluded("other.py")


@pytest.mark.parametrize(
    "line",
    ["RUN apt-get update", "USER app", "WORKDIR /app", "COPY --chown=1 a b", 'ENTRYPOINT python x'],
)
def test_mirror_refuses_what_it_cannot_reproduce(tmp_path: Path, line: str) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    with pytest.raises((DockerfileError, ValueError)):
        parse_dockerfile(dockerfile)
