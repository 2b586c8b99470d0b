"""The distribution as a user gets it: the wheel built from this tree and installed with pip into a
fresh virtualenv. `capwrapper-action`, `capwrapper-action simulator` and `python -m
capwrapper_simulator` work from it, and it holds the two packages and nothing of the tests.

Offline and quick: the wheel is built without build isolation (the dev environment's setuptools)
from a copy of the tree, so nothing is written into the checkout, and the fresh virtualenv sees
the locked runtime packages of the mirrored image's virtualenv through a .pth file instead of
installing them again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.end_to_end.docker_mirror import REPO_ROOT, ActionImage

# One parallel worker builds the wheel and its venv (module fixtures) and runs every test here.
pytestmark = pytest.mark.xdist_group("installed-wheel")

_NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "*_cache", ".hypothesis", "__pycache__", "build", "dist",
    "*.egg-info", "out", "capwrapper-artifacts",
)  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(REPO_ROOT, source, ignore=_NOT_SOURCES)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--quiet", "--wheel-dir", str(work / "dist"), str(source)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (found,) = (work / "dist").glob("capwrapper_action-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, action_image: ActionImage) -> Path:
    target = wheel.parent.parent / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    (site,) = target.glob("lib/python*/site-packages")
    (locked,) = action_image.venv.glob("lib/python*/site-packages")
    (site / "locked_runtime_packages.pth").write_text(f"{locked}\n", encoding="utf-8")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(target / "bin" / "python"), "install",
         "--no-deps", "--no-index", "--disable-pip-version-check", "--quiet", str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return target


def run(venv: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A command of the virtualenv, from a folder outside the checkout, in a clean environment."""
    return subprocess.run(
        [str(venv / "bin" / argv[0]), *argv[1:]],
        cwd=venv,
        env={"PATH": os.defpath, "LANG": "C.UTF-8", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_wheel_holds_the_two_packages_the_type_marker_and_the_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        commands = archive.read(entry_points).decode()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"capwrapper_action", "capwrapper_simulator"}
    assert "capwrapper_action/py.typed" in names
    assert "capwrapper_simulator/__main__.py" in names
    assert re.search(r"^capwrapper-action = capwrapper_action\.cli:main$", commands, re.M)


def test_packages_are_imported_from_the_install_not_the_checkout(venv: Path) -> None:
    probe = "import capwrapper_action, capwrapper_simulator as s; print(s.__file__)"
    done = run(venv, "python", "-c", probe)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(venv)


@pytest.mark.parametrize(
    "argv", [("capwrapper-action", "simulator", "--help"), ("python", "-m", "capwrapper_simulator",
                                                             "--help")]
)
def test_simulator_help(venv: Path, argv: tuple[str, ...]) -> None:
    done = run(venv, *argv)
    assert done.returncode == 0, done.stderr
    assert "usage: capwrapper-action simulator" in done.stdout
    assert "--queue-seconds" in done.stdout


@pytest.fixture
def simulator(venv: Path) -> Iterator[str]:
    """`capwrapper-action simulator` of the installed wheel, on a free loopback port."""
    proc = subprocess.Popen(
        [str(venv / "bin" / "capwrapper-action"), "simulator", "--port", "0",
         "--queue-seconds", "0", "--build-seconds", "0.2"],
        cwd=venv, env={"PATH": os.defpath, "LANG": "C.UTF-8"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.fullmatch(r"Capwrapper simulator: (http://127\.0\.0\.1:\d+/v1)\n", first)
    try:
        assert match, first + proc.stderr.read() if proc.stderr else first
        yield match[1]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Simulator stopped." in out


def test_installed_simulator_serves_the_installed_action(venv: Path, simulator: str) -> None:
    answer = requests.get(
        f"{simulator}/builds", headers={"Authorization": "Bearer sim-key"}, timeout=10
    )
    assert answer.status_code == 200
    done = run(
        venv, "capwrapper-action", "--api-url", simulator, "--app-url", "https://shop.example.com",
        "--app-name", "Shop", "--bundle-id", "com.example.shop", "--version", "1.0.0",
        "--platforms", "android", "--poll-interval", "1", "--timeout", "30s",
        CAPWRAPPER_API_KEY="sim-key",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    outputs = json.loads(done.stdout)
    assert outputs["status"] == "success"
    assert outputs["android-build-id"].startswith("bld_")
