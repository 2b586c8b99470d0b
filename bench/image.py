"""Image benchmark: the layers the Dockerfile adds, and what a job pays before the first request.

* **Layers**, for linux/amd64 and linux/arm64: each layer the Dockerfile adds over the base
  image, rebuilt here as the files it holds and archived as a layer is pushed (tar, gzip level
  6): the pip-less virtualenv; the dependencies, i.e. the locked wheels for that platform
  (``pip download`` of requirements.txt, checked against its hashes) installed with the
  Dockerfile's pip flags, bytecode included; the two COPY layers; the bytecode step (the
  application's .pyc, and the standard-library modules it imports, found by replaying the
  Dockerfile's last RUN against the mirrored image with ``PYTHONPYCACHEPREFIX``). For
  comparison, what the previous Dockerfile added instead: a virtualenv made with ensurepip (pip
  and setuptools) and a copy of requirements.txt, no bytecode. The base image cannot be pulled
  here; its compressed size is the published one (``BASE_IMAGE``).
* **Build steps**, timed here (median of ``--runs``): what ``image: Dockerfile`` makes every job
  run after pulling the base image; with ``docker://`` the job pulls the layers instead.

Needs the package index (or a local mirror of it) for the arm64 wheels, unlike the other
benchmarks. ``python -m bench.image`` prints the tables.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import harness as H
from tests.end_to_end.docker_mirror import replay
from tests.end_to_end.docker_mirror_spec import RunStep
from tests.end_to_end.dockerignore import DockerIgnore, copied_files

RUNS = 3
PLATFORMS = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
# Docker Hub's tag page for python:3.11-slim-bookworm, linux/amd64, as quoted in issue 15.
BASE_IMAGE = {"name": "python:3.11-slim-bookworm", "compressed_mb": 47.8, "platform": "linux/amd64"}
MB = 1_000_000


def archive(paths: list[tuple[Path, str]]) -> dict[str, int]:
    """Files (and symlinks) under each (folder, name in the layer), as a gzip-6 tar: sizes."""
    raw = io.BytesIO()
    files = unpacked = 0
    with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
        for folder, name in paths:
            for path in sorted([folder, *folder.rglob("*")]) if folder.is_dir() else [folder]:
                arcname = f"{name}/{path.relative_to(folder).as_posix()}".rstrip("/.")
                tar.add(path, arcname=arcname, recursive=False)
                if path.is_file() and not path.is_symlink():
                    files += 1
                    unpacked += path.stat().st_size
    return {"files": files, "unpacked": unpacked, "compressed": len(raw.getvalue())}


def pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args)} failed:\n{done.stderr}")


def platform_args(arch: str) -> list[str]:
    tags = [f"manylinux_2_{minor}_{arch}" for minor in (36, 34, 28, 17)]
    tags += [f"manylinux2014_{arch}", f"linux_{arch}"]
    return [*(f"--platform={t}" for t in tags), "--python-version=3.11",
            "--implementation=cp", "--abi=cp311", "--only-binary=:all:"]  # fmt: skip


def dependencies(arch: str, work: Path) -> tuple[Path, Path]:
    """(downloaded wheels, their installed files) for one architecture."""
    wheels, target = work / f"wheels-{arch}", work / f"site-{arch}"
    lock = str(H.ROOT / "requirements.txt")
    common = ["--no-deps", "--require-hashes", *platform_args(arch), "-r", lock]
    pip("download", "--quiet", "--dest", str(wheels), *common)
    pip("install", "--quiet", "--no-index", "--find-links", str(wheels), "--target", str(target),
        *common)  # fmt: skip
    return wheels, target


def bytecode_paths(work: Path) -> tuple[Path, Path]:
    """(the application's __pycache__ tree, the standard library's) after the last RUN."""
    image = H.action_image()
    prefix = work / "pycache"
    last = image.spec.steps[-1]
    assert isinstance(last, RunStep)
    replay(image, last, extra={"PYTHONPYCACHEPREFIX": str(prefix)})
    stdlib = prefix.joinpath(*Path(sys.base_prefix).parts[1:])
    app = prefix.joinpath(*image.root.parts[1:])
    return app, stdlib


def venv_folder(work: Path, name: str, *flags: str) -> Path:
    target = work / name
    subprocess.run([sys.executable, "-m", "venv", *flags, str(target)], check=True)
    return target


def layers(work: Path) -> dict[str, Any]:
    app_pyc, stdlib_pyc = bytecode_paths(work)
    bare = venv_folder(work, "venv-without-pip", "--without-pip")
    seeded = venv_folder(work, "venv-ensurepip")
    ignore = DockerIgnore.read(H.ROOT / ".dockerignore")
    app = [
        (H.ROOT / rel, f"opt/capwrapper/{rel}")
        for rel in copied_files(H.ROOT, "capwrapper_action", ignore)
    ]
    shared = {
        "COPY entrypoint.py": archive([(H.ROOT / "entrypoint.py", "opt/capwrapper/entrypoint.py")]),
        "COPY capwrapper_action/": archive(app),
        "RUN compileall + imports (bytecode)": archive(
            [(app_pyc, "opt/capwrapper"), (stdlib_pyc, "usr/local/lib/python3.11")]
        ),
        "RUN python -m venv --without-pip": archive([(bare, "opt/venv")]),
        "previous: RUN python -m venv (pip, setuptools)": archive([(seeded, "opt/venv")]),
        "previous: COPY requirements.txt": archive(
            [(H.ROOT / "requirements.txt", "opt/capwrapper/requirements.txt")]
        ),
    }
    per_platform: dict[str, Any] = {}
    for platform, arch in PLATFORMS.items():
        wheels, site = dependencies(arch, work)
        per_platform[platform] = {
            "wheels": len(list(wheels.glob("*.whl"))),
            "wheel_bytes": sum(w.stat().st_size for w in wheels.glob("*.whl")),
            "deps": archive([(site, "opt/venv/lib/python3.11/site-packages")]),
        }
    return {"shared": shared, "platforms": per_platform}


def timed(call: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def build_steps(work: Path, runs: int) -> dict[str, float]:
    """Seconds of each build step a job runs under `image: Dockerfile` (wheels already here)."""
    wheels = work / "wheels-x86_64"
    lock = str(H.ROOT / "requirements.txt")

    def fresh(name: str, *flags: str) -> Path:
        target = work / name
        shutil.rmtree(target, ignore_errors=True)
        return venv_folder(work, name, *flags)

    def install() -> None:
        venv = fresh("timed-deps", "--without-pip")
        pip("--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-index",
            "--find-links", str(wheels), "--no-deps", "--require-hashes", "--only-binary=:all:",
            "-r", lock)  # fmt: skip

    def warm() -> None:
        app_pyc = work / "timed-pycache"
        shutil.rmtree(app_pyc, ignore_errors=True)
        image = H.action_image()
        last = image.spec.steps[-1]
        assert isinstance(last, RunStep)
        replay(image, last, extra={"PYTHONPYCACHEPREFIX": str(app_pyc)})

    return {
        "venv with ensurepip": timed(lambda: fresh("timed-seeded"), runs),
        "venv --without-pip": timed(lambda: fresh("timed-bare", "--without-pip"), runs),
        "pip install of the locked wheels": timed(install, runs),
        "bytecode step (upper bound: recompiles the dependencies too)": timed(warm, runs),
    }


def _child_cpu(argv: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def start_cost(work: Path, runs: int) -> dict[str, float]:
    """CPU seconds of importing what the action imports before its first request, with every
    module's bytecode at hand, and with none for the standard library (the base image's case
    when the image does not compile it): the difference is paid at every start."""
    image = H.action_image()
    all_pyc = work / "start-all"
    shutil.rmtree(all_pyc, ignore_errors=True)
    code = "import capwrapper_action.main"
    env = image.environ({"PYTHONPATH": str(image.path("/opt/capwrapper")),
                         "PYTHONPYCACHEPREFIX": str(all_pyc), "PYTHONDONTWRITEBYTECODE": ""})
    subprocess.run([image.argv[0], "-c", code], env=env, check=True)  # fill the prefix
    no_stdlib = work / "start-no-stdlib"
    shutil.rmtree(no_stdlib, ignore_errors=True)
    shutil.copytree(all_pyc, no_stdlib)
    shutil.rmtree(no_stdlib.joinpath(*Path(sys.base_prefix).parts[1:]))
    result = {}
    for name, prefix in (("all compiled", all_pyc), ("standard library not compiled", no_stdlib)):
        env = {**env, "PYTHONPYCACHEPREFIX": str(prefix), "PYTHONDONTWRITEBYTECODE": "1"}
        result[name] = statistics.median(
            _child_cpu([image.argv[0], "-c", code], env) for _ in range(max(runs, 5))
        )
    return result


def run(runs: int = RUNS) -> dict[str, Any]:
    work = H.scratch() / "image-layers"
    work.mkdir(exist_ok=True)
    measured = layers(work)
    return {
        "base": BASE_IMAGE,
        **measured,
        "steps": build_steps(work, runs),
        "start_cpu": start_cost(work, runs),
        "cpu": sys.version.split()[0],
        "machine": os.uname().machine,
    }


def _mb(n: float) -> str:
    return f"{n / MB:.2f} MB"


def _row(name: str, s: dict[str, int]) -> str:
    return f"| {name} | {s['files']} | {_mb(s['unpacked'])} | {_mb(s['compressed'])} |"


ADDED = ("RUN python -m venv --without-pip", "COPY entrypoint.py", "COPY capwrapper_action/",
         "RUN compileall + imports (bytecode)")  # fmt: skip
PREVIOUS = ("previous: RUN python -m venv (pip, setuptools)", "previous: COPY requirements.txt",
            "COPY entrypoint.py", "COPY capwrapper_action/")  # fmt: skip


def totals(data: dict[str, Any], platform: str) -> tuple[int, int]:
    """Compressed bytes the image adds over the base: (this Dockerfile, the previous one)."""
    shared, deps = data["shared"], data["platforms"][platform]["deps"]["compressed"]
    ours = sum(shared[n]["compressed"] for n in ADDED) + deps
    return ours, sum(shared[n]["compressed"] for n in PREVIOUS) + deps


def render(data: dict[str, Any]) -> str:
    shared, platforms, base = data["shared"], data["platforms"], data["base"]
    out = ["| layer | files | unpacked | compressed (gzip 6) |", "|---|---|---|---|"]
    out.append(f"| base `{base['name']}` ({base['platform']}, published size) | | | "
               f"{base['compressed_mb']:.1f} MB |")  # fmt: skip
    out.append(_row(f"`{ADDED[0]}`", shared[ADDED[0]]))
    for platform, p in platforms.items():
        name = f"`RUN pip --python … install` ({platform}: {p['wheels']} wheels, " + (
            f"{_mb(p['wheel_bytes'])})"
        )
        out.append(_row(name, p["deps"]))
    out += [_row(f"`{name}`", shared[name]) for name in ADDED[1:]]
    out += [_row(name, shared[name]) for name in PREVIOUS[:2]]
    sums = []
    for platform in platforms:
        ours, before = totals(data, platform)
        sums.append(f"{platform} **{_mb(ours)}** (previous Dockerfile {_mb(before)})")
    out += ["", "Compressed layers over the base image: " + "; ".join(sums) + ".", ""]
    out += ["| build step, in every job that uses `image: Dockerfile` | seconds (median) |",
            "|---|---|"]  # fmt: skip
    out += [f"| {name} | {secs:.2f} |" for name, secs in data["steps"].items()]
    cpu = data["start_cpu"]
    lost = cpu["standard library not compiled"] - cpu["all compiled"]
    out += [
        "",
        "| at every start: `import capwrapper_action.main` | CPU seconds (median) |",
        "|---|---|",
        *(f"| {name} | {secs:.2f} |" for name, secs in cpu.items()),
        "",
        f"Compiling the standard library at each start costs **{lost:.2f} s** of CPU here; "
        "the image now ships that bytecode.",
    ]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.image", description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    print(render(run(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
