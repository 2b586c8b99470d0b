"""The portable (composite) action as the runner runs it on Linux: its `run:` scripts executed
with bash in a copy of the action's checkout, its install step creating a real virtualenv with
the runner's Python and installing the lock and the package, its run step against the API
simulator; outputs read by the runner's rules and mapped through the action's `value:` lines.

The install (a venv plus two `pip install`s, some seconds) runs once and is cached under
`.cache/portable-action/`, keyed by the files of the checkout and the Python, as the Docker
mirror caches the image's venv; the cached step's outputs stand in for a fresh run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from capwrapper_simulator import PlatformConfig, SimConfig, Simulator
from tests import cache_lock
from tests.end_to_end.composite import CompositeRun, StepResult, run_composite
from tests.runner_files import RunnerEnv

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "portable-action"
# What the install step needs from the action's checkout (the whole repository on a runner).
CHECKOUT = ("pyproject.toml", "requirements.txt", "README.md", "portable", "capwrapper_action")
KEEP_CACHED = 2  # installs kept in the cache: every change to the package makes a new one
# A cold install (after any change to the package) builds a virtualenv with every dependency:
# on a busy 2-core machine that takes longer than the suite's 60 s per test.
pytestmark = pytest.mark.timeout(330)
KEY = "sk_live_PORTABLESECRET"
TOKEN = "ghs_runner-test-token"
# Of this machine's environment only what pip needs to reach its index (proxies, certificates).
PASSED_THROUGH = ("HOME", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "http_proxy", "https_proxy",
                  "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")  # fmt: skip


@dataclass(frozen=True)
class PortableAction:
    action_yml: Path
    install: StepResult  # the install step's result, fresh or from the cache


def copy_checkout(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    dest.mkdir(parents=True, exist_ok=True)
    for name in CHECKOUT:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, dest / name)
    return dest / "portable" / "action.yml"


def python_bin(dest: Path) -> Path:
    """A folder holding only `python3`: the interpreter behind the one running the tests."""
    dest.mkdir(parents=True, exist_ok=True)
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    (dest / "python3").unlink(missing_ok=True)
    (dest / "python3").symlink_to(base)
    return dest


def install_python(target: Path) -> Path:
    """The `python3` folder of the cached install `target`, next to it in the cache: the venv's
    interpreter links to the `python3` it was made with, so that one must last as long as the
    venv (a test's tmp_path is deleted after three more sessions)."""
    return target.with_name(f"{target.name}-python")


def host_env(runner: RunnerEnv, bin_dir: Path) -> dict[str, str]:
    """A composite step runs on the host: the runner's variables, the host's PATH (with the
    test's Python first), HOME and pip's settings."""
    env = dict(runner.env)
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    for name, value in os.environ.items():
        if name in PASSED_THROUGH or name.startswith("PIP_"):
            env[name] = value
    return env


def checkout_key(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    for part in (sys.version, platform.machine(), os.path.realpath(sys.executable)):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:20]


def install(action_yml: Path, work: Path) -> StepResult:
    """Run the install step with RUNNER_TEMP in the cache, unless a finished one is there
    (parallel workers: the first to take the lock installs, the others wait and reuse it)."""
    target = CACHE_DIR / checkout_key(action_yml.parent.parent)
    if (cached := finished_install(target)) is None:
        with cache_lock.building(target):
            if (cached := finished_install(target)) is None:
                shutil.rmtree(target, ignore_errors=True)
                shutil.rmtree(install_python(target), ignore_errors=True)
                install_into(target, action_yml, work)
                cached = finished_install(target)
    assert cached is not None, f"no usable install in {target}"
    return cached


def finished_install(target: Path) -> StepResult | None:
    """The cached install step's result, if it finished and its venv's interpreter still runs
    (caches made before the interpreter was kept next to them link into a deleted tmp_path)."""
    marker = target / "install-step.json"
    if not marker.is_file():
        return None
    step = StepResult(**json.loads(marker.read_text(encoding="utf-8")))
    return step if Path(step.outputs.get("python", "")).is_file() else None


def install_into(target: Path, action_yml: Path, work: Path) -> None:
    """Run the install step in a temporary folder of the cache, renamed to `target` once done."""
    building = CACHE_DIR / f"{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    runner = RunnerEnv(work / "runner")
    env = host_env(runner, python_bin(install_python(target)))
    env["RUNNER_TEMP"] = str(building)
    run = run_composite(action_yml, {}, env, workspace=runner.workspace, scratch=work / "steps",
                        only=("install",), timeout=300)  # fmt: skip
    step = run.steps["install"]
    if step.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        pytest.fail(f"the portable action's install step failed:\n{step.log}")
    step.outputs = {k: v.replace(str(building), str(target)) for k, v in step.outputs.items()}
    (building / "install-step.json").write_text(json.dumps(asdict(step)), encoding="utf-8")
    building.rename(target)  # the venv runs from any path with `python -m`
    prune(keep=KEEP_CACHED)


def prune(keep: int) -> None:
    """Remove all but the `keep` newest finished installs (each key is a whole venv)."""
    finished = [p for p in CACHE_DIR.iterdir() if (p / "install-step.json").is_file()]
    finished.sort(key=lambda p: (p / "install-step.json").stat().st_mtime, reverse=True)
    for old in finished[keep:]:
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(install_python(old), ignore_errors=True)


@pytest.fixture(scope="session")
def portable(tmp_path_factory: pytest.TempPathFactory) -> PortableAction:
    action_yml = copy_checkout(tmp_path_factory.mktemp("action-checkout"))
    return PortableAction(action_yml, install(action_yml, tmp_path_factory.mktemp("install")))


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimConfig(api_keys=frozenset({KEY}), queue_seconds=0.1, build_seconds=0.3)
    with Simulator(config) as server:
        yield server


def given(sim: Simulator, **extra: str) -> dict[str, str]:
    inputs = {
        "api-key": KEY, "api-url": sim.base_url, "app-url": "https://shop.example.com",
        "app-name": "Example Shop", "bundle-id": "com.example.shop", "version": "1.4.0",
        "poll-interval": "1",
    }  # fmt: skip
    inputs.update({k.replace("_", "-"): v for k, v in extra.items()})
    return inputs


def run_portable(
    portable: PortableAction, runner: RunnerEnv, inputs: dict[str, str], tmp_path: Path
) -> CompositeRun:
    env = host_env(runner, python_bin(tmp_path / "bin"))
    run = run_composite(
        portable.action_yml, inputs, env, workspace=runner.workspace, scratch=tmp_path / "steps",
        done={"install": portable.install}, timeout=60, token=TOKEN,
    )
    assert "Traceback" not in run.log, run.log
    return run


def test_install_step_leaves_a_working_virtualenv(portable: PortableAction) -> None:
    python = portable.install.outputs["python"]
    assert Path(python).is_file()
    check = subprocess.run(
        [python, "-m", "pip", "check"], capture_output=True, text=True, check=False,
        env={"PATH": os.environ.get("PATH", ""), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert check.returncode == 0, check.stdout + check.stderr  # the lock satisfies the package
    version = subprocess.run(
        [python, "-m", "capwrapper_action.cli", "--version-info"], capture_output=True,
        text=True, check=False,
    )
    assert version.stdout.startswith("capwrapper-action "), version.stderr
    assert not any(portable.install.files[name] for name in ("GITHUB_ENV", "GITHUB_PATH"))


def test_a_run_maps_every_output_through_the_steps(
    portable: PortableAction, runner_env: RunnerEnv, sim: Simulator, tmp_path: Path
) -> None:
    run = run_portable(portable, runner_env, given(sim), tmp_path)
    assert run.returncode == 0, run.log
    step = run.steps["run"]
    assert run.outputs == step.outputs  # every output the code writes, mapped one to one
    assert run.outputs["status"] == "success"
    assert run.outputs["version"] == "1.4.0"
    assert run.outputs["android-status"] == run.outputs["ios-status"] == "success"
    assert run.outputs["commit-sha"] == runner_env.sha
    assert sim.created_count() == 2
    assert run.outputs["android-build-id"] in run.summary
    assert "::group::Wait for builds" in run.log
    assert [ln for ln in run.log.splitlines() if KEY in ln] == [f"::add-mask::{KEY}"]
    assert f"::add-mask::{TOKEN}" in run.log  # the github.token default reached the code
    assert not any(step.files[name] for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"))


def test_a_failed_build_fails_the_step_with_outputs_mapped(
    portable: PortableAction, runner_env: RunnerEnv, tmp_path: Path
) -> None:
    failing = PlatformConfig(outcome="failed", failure_message="Manifest icon missing")
    config = SimConfig(api_keys=frozenset({KEY}), queue_seconds=0.1, build_seconds=0.3,
                       platforms={"ios": failing})  # fmt: skip
    with Simulator(config) as sim:
        run = run_portable(portable, runner_env, given(sim), tmp_path)
    assert run.returncode == 1
    assert run.outputs["status"] == "failed"
    assert run.outputs["ios-status"] == "failed"
    assert run.outputs["android-status"] == "success"
    assert "::error title=iOS build failed::" in run.log
    assert "Manifest icon missing" in run.summary


def test_input_values_reach_the_code_verbatim_and_never_the_shell(
    portable: PortableAction, runner_env: RunnerEnv, sim: Simulator, tmp_path: Path
) -> None:
    hostile = 'Shop "$(touch pwned1)" `touch pwned2` ${HOME}; touch pwned3 #'
    inputs = given(sim, app_name=hostile, platforms="android", wait="false")
    run = run_portable(portable, runner_env, inputs, tmp_path)
    assert run.returncode == 0, run.log
    assert run.outputs["status"] == "created"
    [build] = sim.builds()
    assert build.payload["appName"] == hostile
    assert not list(tmp_path.rglob("pwned*"))  # the workspace (cwd) is under tmp_path


def fake_program(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)


# A Windows-like runner: `python3` too old (or the store stub), `python` fine, and a venv whose
# interpreter is Scripts/python.exe. The fakes record how they were called.
OLD_PYTHON3 = 'echo "python3 $*" >> "$CALLS"\nexit 1\n'
WINDOWS_PYTHON = """\
echo "python $*" >> "$CALLS"
if [ "$1 $2" = "-m venv" ]; then
  /bin/mkdir -p "$4/Scripts"
  printf '#!/bin/sh\\necho "venv-python $*" >> "$CALLS"\\n' > "$4/Scripts/python.exe"
  /bin/chmod +x "$4/Scripts/python.exe"
fi
"""


def run_install_with(programs: dict[str, str], tmp_path: Path) -> tuple[StepResult, list[str]]:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    for name, body in programs.items():
        fake_program(bin_dir / name, body)
    checkout = copy_checkout(tmp_path / "checkout")
    runner = RunnerEnv(tmp_path / "runner")
    env = {**runner.env, "PATH": str(bin_dir), "CALLS": str(tmp_path / "calls")}
    run = run_composite(checkout, {}, env, workspace=runner.workspace, scratch=tmp_path / "steps",
                        only=("install",), timeout=30)  # fmt: skip
    calls = tmp_path / "calls"
    return run.steps["install"], calls.read_text().splitlines() if calls.exists() else []


def test_install_falls_back_to_python_and_the_windows_venv_layout(tmp_path: Path) -> None:
    step, calls = run_install_with({"python3": OLD_PYTHON3, "python": WINDOWS_PYTHON}, tmp_path)
    assert step.returncode == 0, step.log
    venv = tmp_path / "runner" / "runner_temp" / "capwrapper-action-venv"
    assert step.outputs["python"] == f"{venv}/Scripts/python.exe"
    action_dir = tmp_path / "checkout" / "portable"
    pip = "venv-python -m pip install --disable-pip-version-check --no-input --quiet"
    assert calls[0].startswith("python3 -c ")
    assert calls[1].startswith("python -c ")
    assert calls[2:] == [
        f"python -m venv --clear {venv}",
        f"{pip} --require-hashes --no-deps -r {action_dir}/../requirements.txt",
        f"{pip} --no-deps {action_dir}/..",
    ]


def test_install_fails_with_an_annotation_without_a_recent_python(tmp_path: Path) -> None:
    step, calls = run_install_with({"python3": OLD_PYTHON3}, tmp_path)
    assert step.returncode == 1
    assert "::error title=Python 3.11 or newer needed::" in step.log
    assert "actions/setup-python" in step.log
    assert step.outputs == {}
    assert len(calls) == 1
