"""What the benchmarks share: the action's image, the runner's files, a child process's costs.

The action runs as GitHub runs it: ``entrypoint.py`` in the container image, mirrored without a
Docker engine by ``tests/end_to_end/docker_mirror.py`` (the image's own virtualenv, built from
``requirements.txt`` with the Dockerfile's pip flags, and the files its COPY lines copy), under
the environment the runner gives a Docker action (``tests/runner_files.RunnerEnv``). The
Capwrapper API is the simulator and the GitHub API a loopback stand-in
(``tests/github_standin.py``), so nothing leaves the machine.
"""

from __future__ import annotations

import atexit
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.end_to_end.docker_mirror import ActionImage, build_action_image
from tests.github_standin import GitHubStandin
from tests.runner_files import DEFAULT_REPOSITORY, DEFAULT_SHA, RunnerEnv

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
GITHUB_TOKEN = "ghs_runner-test-token"  # noqa: S105 - the default github-token of tests.runner_files
API_KEY = "sim-key"


def _scratch_root() -> Path:
    path = Path(tempfile.mkdtemp(prefix="capwrapper-bench-"))
    atexit.register(shutil.rmtree, path, True)
    return path


@cache
def scratch() -> Path:
    """A temporary folder for this benchmark process, removed when it exits."""
    return _scratch_root()


@cache
def action_image(precompiled: bool = False) -> ActionImage:
    """The image, mirrored once per process. ``precompiled``: with the application's bytecode
    compiled once more (``python -m compileall``); the image itself compiles it when built."""
    root = scratch() / ("image-precompiled" if precompiled else "image")
    root.mkdir()
    image = build_action_image(root)
    if precompiled:
        app = image.path("/opt/capwrapper")
        subprocess.run([image.argv[0], "-m", "compileall", "-q", str(app)], check=True)
    return image


def runner(name: str) -> RunnerEnv:
    """A fresh set of runner files (workspace, GITHUB_OUTPUT, event…) in the scratch folder."""
    return RunnerEnv(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch())))


def action_inputs(base_url: str, **extra: str) -> dict[str, str]:
    """The ``with:`` of a step creating one app's builds against the simulator."""
    given = {
        "api-key": API_KEY,
        "api-url": base_url,
        "app-url": "https://shop.example.com",
        "app-name": "Example Shop",
        "bundle-id": "com.example.shop",
        "version": "1.0.0",
    }
    given.update({k.replace("_", "-"): v for k, v in extra.items()})
    return given


@contextmanager
def github_standin() -> Iterator[GitHubStandin]:
    """The GitHub API on loopback: the commit of the push event belongs to a merged pull request
    with one label, so the action's pull request lookup does its usual requests."""
    with GitHubStandin(repository=DEFAULT_REPOSITORY) as gh:
        gh.add_token(GITHUB_TOKEN)
        gh.add_pull(7, ["release"], head_sha="f" * 40, merge_commit_sha=DEFAULT_SHA, merged=True)
        yield gh


def runner_env(
    image: ActionImage, run: RunnerEnv, given: Mapping[str, str], gh: GitHubStandin | None
) -> dict[str, str]:
    """The container's environment for a step with inputs ``given``."""
    env = run.with_inputs(given)
    if gh is not None:
        env["GITHUB_API_URL"] = gh.url
    return image.environ(env)


@dataclass(frozen=True)
class Finished:
    """A child process that ran to its end: what it printed and what it cost."""

    returncode: int
    output: str  # stdout and stderr, interleaved
    started: float  # time.time() just before the spawn
    ended: float  # time.time() just after it was reaped
    max_rss_kib: int | None  # peak resident set size (ru_maxrss, KiB); None: not measured
    cpu_seconds: float  # user + system

    @property
    def wall(self) -> float:
        return self.ended - self.started


# A child's ru_maxrss counts the memory of the process that forked it: the kernel carries the
# old address space's high-water mark across exec, and subprocess forks (vfork) from this
# benchmark process, which may be large. So a process whose peak RSS is wanted is started by
# a small launcher that forks it and reports its rusage into a file.
_LAUNCHER = """
import os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write(f"{ru.ru_maxrss} {ru.ru_utime + ru.ru_stime}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


class Child:
    """A process started now. ``finish()`` reaps it; with ``rss=True`` it is started by a
    small launcher so that its own peak RSS (and CPU time) can be read."""

    def __init__(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, *, rss: bool = False
    ) -> None:
        self._usage: Path | None = None
        if rss:
            self._usage = Path(tempfile.mkstemp(prefix="rusage-", dir=scratch())[1])
            argv = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(self._usage), *argv]
        self.started = time.time()
        self.proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            self._chunks.append(chunk)

    def running(self) -> bool:
        return self.proc.poll() is None

    def finish(self, timeout: float = 600.0) -> Finished:
        self._reader.join(timeout)
        _, status, usage = os.wait4(self.proc.pid, 0)
        ended = time.time()
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        max_rss, cpu = None, usage.ru_utime + usage.ru_stime
        if self._usage is not None:
            rss_text, cpu_text = self._usage.read_text(encoding="utf-8").split()
            max_rss, cpu = int(rss_text), float(cpu_text)
        return Finished(
            returncode=self.proc.returncode,
            output=b"".join(self._chunks).decode("utf-8", "replace"),
            started=self.started,
            ended=ended,
            max_rss_kib=max_rss,
            cpu_seconds=cpu,
        )

    def kill(self) -> None:
        if self.running():
            self.proc.kill()


def run_child(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, *, rss: bool = False
) -> Finished:
    return Child(argv, env, cwd, rss=rss).finish()


def rss_mib(done: Finished) -> float:
    if done.max_rss_kib is None:
        raise ValueError("this child was not started to measure its RSS")
    return done.max_rss_kib / 1024


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os_name() -> str:
    try:
        release = platform.freedesktop_os_release()
        name = release.get("PRETTY_NAME", "")
    except OSError:
        name = ""
    return f"{name or platform.system()} (kernel {platform.release()}, {platform.machine()})"


def machine() -> dict[str, str]:
    """The machine the figures come from."""
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count() or 0),
        "memory": _memory_gib(),
        "os": _os_name(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def python_version_of(executable: str) -> str:
    done = subprocess.run(
        [executable, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def command(module: str, args: Sequence[str] = ()) -> str:
    """How to rerun one part: ``python -m bench <module> [args]`` from the repository root."""
    return " ".join(["python -m bench", module, *args])


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median of nothing")
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def interpreter() -> str:
    return sys.executable
