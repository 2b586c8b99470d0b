"""Packaging metadata and the hash-pinned locks agree with each other.

What the built wheel holds and that its commands work after `pip install`:
tests/end_to_end/test_installed_wheel.py."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME = {"requests", "pyyaml", "actions-toolkit", "pygithub"}


def pins(lock: str) -> dict[str, set[str]]:
    """name -> pinned versions (a universal lock may pin two, under different markers)."""
    found: dict[str, set[str]] = {}
    for line in (REPO_ROOT / lock).read_text(encoding="utf-8").splitlines():
        if line and line[0] not in " #-":
            req = Requirement(line.rstrip(" \\"))
            (version,) = [spec.version for spec in req.specifier if spec.operator == "=="]
            found.setdefault(canonicalize_name(req.name), set()).add(version)
    return found


def test_runtime_dependencies_are_exactly_the_four_with_ranges() -> None:
    deps = [Requirement(d) for d in PYPROJECT["project"]["dependencies"]]
    assert {canonicalize_name(d.name) for d in deps} == RUNTIME
    for dep in deps:
        assert dep.specifier, f"{dep.name} needs a version range"
        assert any(s.operator == "<" for s in dep.specifier), f"{dep.name} needs an upper bound"


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_lock_is_hash_pinned_and_from_pypi_only(lock: str) -> None:
    text = (REPO_ROOT / lock).read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2])
    for entry in entries:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]
    assert not re.search(r"--(extra-)?index-url|--find-links|file://|/opt/", text)


def test_runtime_lock_satisfies_pyproject_and_holds_no_dev_tools() -> None:
    runtime = pins("requirements.txt")
    for dep in PYPROJECT["project"]["dependencies"]:
        req = Requirement(dep)
        for version in runtime[canonicalize_name(req.name)]:
            assert req.specifier.contains(version), f"{req.name}=={version} outside {req.specifier}"
    assert not {"pytest", "mypy", "ruff", "uv", "setuptools"} & set(runtime)


def test_dev_lock_pins_the_runtime_packages_at_the_same_versions() -> None:
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    for name, versions in runtime.items():
        assert dev.get(name) == versions, name
    for extra in PYPROJECT["project"]["optional-dependencies"]["dev"]:
        assert canonicalize_name(Requirement(extra).name) in dev


def test_the_editable_install_of_make_venv_prints_no_warning(tmp_path: Path) -> None:
    """`make venv` installs the checkout editable; setuptools' import-hook strategy would print
    an "Editable installation" warning banner a newcomer takes for a problem."""
    import subprocess
    import sys

    build = (
        "import setuptools.build_meta as b, sys; "
        f"print(b.build_editable({str(tmp_path)!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", build], cwd=REPO_ROOT, capture_output=True, text=True,
        check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "careful" not in output
    assert "Warning" not in output
