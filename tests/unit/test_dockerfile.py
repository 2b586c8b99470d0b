"""The container image is built the lean, supply-chain-safe way; the build context is minimal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.end_to_end.docker_mirror import REPO_ROOT
from tests.end_to_end.docker_mirror_spec import (
    CopyStep,
    DockerfileError,
    DockerfileSpec,
    RunStep,
    instructions,
    parse_dockerfile,
)
from tests.end_to_end.dockerignore import DockerIgnore

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
APP_DIR = "/opt/capwrapper"


@pytest.fixture(scope="module")
def spec() -> DockerfileSpec:
    return parse_dockerfile(DOCKERFILE)


def keywords() -> list[str]:
    return [keyword for keyword, _ in instructions(DOCKERFILE.read_text(encoding="utf-8"))]


def test_base_image_is_python_311_slim_pinned_by_digest(spec: DockerfileSpec) -> None:
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-bookworm)?@sha256:[0-9a-f]{64}", spec.base)
    assert keywords().count("FROM") == 1


def test_venv_is_created_without_pip_and_filled_by_the_base_images_pip(
    spec: DockerfileSpec,
) -> None:
    (venv,) = [c.argv for c in spec.commands if c.argv[1:3] == ["-m", "venv"]]
    assert venv == ["python", "-m", "venv", "--without-pip", spec.venv]
    pip = spec.pip_install.argv
    assert pip[:4] == ["pip", "--python", f"{spec.venv}/bin/python", "install"]


def test_pip_checks_hashes_takes_only_wheels_and_installs_nothing_else(
    spec: DockerfileSpec,
) -> None:
    assert {"--require-hashes", "--no-deps", "--no-cache-dir", "--only-binary=:all:"} <= set(
        spec.pip_args
    )
    assert spec.requirements == "requirements.txt"


def test_the_lock_is_mounted_for_the_install_not_copied(spec: DockerfileSpec) -> None:
    (install,) = [run for run in spec.runs if spec.pip_install in run.commands]
    assert [m.source for m in install.mounts] == ["requirements.txt"]
    assert "requirements.txt" not in {src for src, _ in spec.copies}


def test_dependencies_are_installed_before_the_code_is_copied(spec: DockerfileSpec) -> None:
    first_copy = next(i for i, step in enumerate(spec.steps) if isinstance(step, CopyStep))
    installs_at = next(
        i for i, step in enumerate(spec.steps)
        if isinstance(step, RunStep) and spec.pip_install in step.commands
    )  # fmt: skip
    assert installs_at < first_copy


def test_image_holds_only_the_runtime_package_and_the_entry_point(spec: DockerfileSpec) -> None:
    assert spec.copies == [
        ("entrypoint.py", f"{APP_DIR}/entrypoint.py"),
        ("capwrapper_action/", f"{APP_DIR}/capwrapper_action/"),
    ]


def test_the_applications_bytecode_is_compiled_after_the_code_is_copied(
    spec: DockerfileSpec,
) -> None:
    last = spec.steps[-1]
    assert isinstance(last, RunStep)
    compile_app, warm = last.commands
    assert compile_app.argv == ["python", "-m", "compileall", "-q", f"{APP_DIR}/capwrapper_action"]
    # The standard library's bytecode: written while importing every module of the application.
    assert warm.assignments == {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPATH": APP_DIR}
    assert warm.argv[:2] == [f"{spec.venv}/bin/python", "-c"]
    assert "pkgutil.walk_packages" in warm.argv[2]


def test_runs_as_root_with_exec_form_entrypoint(spec: DockerfileSpec) -> None:
    assert "USER" not in keywords()
    assert "CMD" not in keywords()
    assert spec.entrypoint == [f"{spec.venv}/bin/python", f"{APP_DIR}/entrypoint.py"]


def test_python_environment(spec: DockerfileSpec) -> None:
    assert spec.env == {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def test_dockerignore_is_an_allow_list_of_exactly_the_copied_and_mounted_sources(
    spec: DockerfileSpec,
) -> None:
    lines = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    sources = {src.rstrip("/") for src, _ in spec.copies} | {m.source for m in spec.mounts}
    assert allowed == sources


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("requirements.txt", False),
        ("entrypoint.py", False),
        ("capwrapper_action/__init__.py", False),
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
    [
        "RUN apt-get update",
        "RUN python -m compileall /x; rm -rf /",
        "RUN python -m compileall /x | tee log",
        "RUN python -c pass $HOME",
        "RUN --mount=type=cache,target=/root/.cache python -c pass",
        "RUN --network=none python -c pass",
        "USER app",
        "WORKDIR /app",
        "ADD https://example.com/x /x",
        "COPY --chown=1 a b",
        "ENTRYPOINT python x",
        "FROM python:3.12-slim",
    ],
)
def test_mirror_refuses_what_it_cannot_reproduce(tmp_path: Path, line: str) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    with pytest.raises(DockerfileError):
        parse_dockerfile(dockerfile)


def test_mirror_reads_continued_lines_and_skips_comments_inside_them() -> None:
    text = "RUN a \\\n  # note\n  && b\nENV X=1\n"
    assert instructions(text) == [("RUN", "a && b"), ("ENV", "X=1")]
