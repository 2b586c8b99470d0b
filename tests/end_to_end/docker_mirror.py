"""Run the action as its Docker image would, on a machine without a Docker engine.

The Dockerfile is parsed, not copied by hand: the mirror builds a fresh virtualenv holding only
what the Dockerfile's `pip install` line installs (same requirements file, same flags), copies
only the files its COPY lines copy (after `.dockerignore`) into a temporary root standing for
the image's `/`, and maps the exec-form ENTRYPOINT onto that root. A Dockerfile instruction the
mirror does not know fails loudly, so the two cannot drift apart silently.

What the mirror cannot reproduce: the base image's own files and the process being PID 1.
The virtualenv is cached under `.cache/docker-mirror/`, keyed by the requirements file, the
pip flags and the Python running the tests, so local re-runs are fast; CI starts clean.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tests.end_to_end.dockerignore import DockerIgnore, copied_files

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "docker-mirror"

# Environment the base image (python:*-slim) sets that matters to a Python program.
BASE_IMAGE_ENV = {"LANG": "C.UTF-8"}

_VENV_RUN = re.compile(r"^python3? -m venv (?P<path>/\S+)$")
_PIP_RUN = re.compile(r"^(?P<venv>/\S+)/bin/pip install (?P<args>.+)$")


class DockerfileError(ValueError):
    """The Dockerfile uses something the mirror cannot reproduce."""


@dataclass(frozen=True)
class DockerfileSpec:
    """What the mirror needs from the Dockerfile."""

    base: str
    env: dict[str, str]
    venv: str  # image path of the virtualenv, e.g. /opt/venv
    pip_args: list[str]  # everything after `pip install`, paths as in the image
    requirements: str  # build-context path of the file `-r` names
    requirements_in_image: str  # the path `-r` names, inside the image
    copies: list[tuple[str, str]]  # (build-context source, image destination)
    entrypoint: list[str]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        result.append((keyword.upper(), args.strip()))
    if pending:
        raise DockerfileError("Dockerfile ends inside a continued line")
    return result


@dataclass
class _SpecBuilder:
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    venv: str = ""
    pip_args: list[str] = field(default_factory=list)
    pip_requirements: str = ""
    copies: list[tuple[str, str]] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)

    def add(self, keyword: str, args: str) -> None:
        if keyword == "FROM":
            self.base = args
        elif keyword == "ENV":
            for item in shlex.split(args):
                name, sep, value = item.partition("=")
                if not sep:
                    raise DockerfileError(f"ENV needs NAME=VALUE, got {item!r}")
                self.env[name] = value
        elif keyword == "RUN":
            self._run(args)
        elif keyword == "COPY":
            parts = shlex.split(args)
            if len(parts) != 2 or parts[0].startswith("--"):
                raise DockerfileError(f"COPY must be `COPY <src> <dest>`, got {args!r}")
            self.copies.append((parts[0], parts[1]))
        elif keyword == "ENTRYPOINT":
            value = json.loads(args)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DockerfileError("ENTRYPOINT must be exec form (a JSON list of strings)")
            self.entrypoint = value
        else:
            raise DockerfileError(f"the Docker mirror does not know {keyword} {args}")

    def _run(self, args: str) -> None:
        if match := _VENV_RUN.match(args):
            self.venv = match["path"]
            return
        match = _PIP_RUN.match(args)
        if not match or match["venv"] != self.venv:
            raise DockerfileError(f"the Docker mirror does not know RUN {args}")
        self.pip_args = shlex.split(match["args"])
        if "-r" not in self.pip_args:
            raise DockerfileError("pip install must name its requirements file with -r")
        self.pip_requirements = self.pip_args[self.pip_args.index("-r") + 1]

    def build(self) -> DockerfileSpec:
        sources = [src for src, dest in self.copies if dest == self.pip_requirements]
        if not sources:
            raise DockerfileError(f"no COPY puts {self.pip_requirements} into the image")
        return DockerfileSpec(
            base=self.base,
            env=dict(self.env),
            venv=self.venv,
            pip_args=list(self.pip_args),
            requirements=sources[0],
            requirements_in_image=self.pip_requirements,
            copies=list(self.copies),
            entrypoint=list(self.entrypoint),
        )


def parse_dockerfile(path: Path) -> DockerfileSpec:
    """Read the parts of a Dockerfile the mirror reproduces; fail on anything else."""
    builder = _SpecBuilder()
    for keyword, args in instructions(path.read_text(encoding="utf-8")):
        builder.add(keyword, args)
    return builder.build()


def _venv_key(spec: DockerfileSpec, requirements: bytes) -> str:
    digest = hashlib.sha256()
    for part in (
        requirements,
        json.dumps(spec.pip_args).encode(),
        sys.version.encode(),
        platform.machine().encode(),
        os.path.realpath(getattr(sys, "_base_executable", sys.executable)).encode(),
    ):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def build_venv(spec: DockerfileSpec, context: Path, cache_dir: Path = CACHE_DIR) -> Path:
    """The image's virtualenv: a fresh venv plus exactly the Dockerfile's `pip install`."""
    requirements = context / spec.requirements
    target = cache_dir / f"venv-{_venv_key(spec, requirements.read_bytes())}"
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = cache_dir / f"{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(work)], check=True)
    pip_args = [str(requirements) if a == spec.requirements_in_image else a for a in spec.pip_args]
    done = subprocess.run(
        [str(work / "bin" / "python"), "-m", "pip", "install", *pip_args],
        env={**os.environ, **spec.env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise RuntimeError(f"pip install {shlex.join(pip_args)} failed:\n{done.stderr}")
    try:
        work.rename(target)  # a venv runs from any path; only its console scripts would not
    except OSError:  # another test session finished the same venv first
        shutil.rmtree(work, ignore_errors=True)
    return target


@dataclass(frozen=True)
class ActionImage:
    """The action's image, mirrored: a root standing for `/` plus the image's virtualenv."""

    spec: DockerfileSpec
    root: Path
    venv: Path

    def path(self, image_path: str) -> Path:
        """Where an absolute image path lives in the mirror."""
        posix = PurePosixPath(image_path)
        if not posix.is_absolute():
            raise ValueError(f"{image_path!r} is not an absolute image path")
        if posix == PurePosixPath(self.spec.venv) or PurePosixPath(self.spec.venv) in posix.parents:
            return self.venv.joinpath(*posix.relative_to(self.spec.venv).parts)
        return self.root.joinpath(*posix.parts[1:])

    @property
    def argv(self) -> list[str]:
        """The ENTRYPOINT, with its image paths mapped onto the mirror."""
        return [str(self.path(a)) if a.startswith("/") else a for a in self.spec.entrypoint]

    def environ(self, env: Mapping[str, str]) -> dict[str, str]:
        """The container's environment: the image's ENV, overridden by what the runner passes."""
        return {**BASE_IMAGE_ENV, **self.spec.env, **env}

    def run(
        self, env: Mapping[str, str], cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """Run the entrypoint to completion; stdout and stderr captured as text."""
        return subprocess.run(
            self.argv,
            env=self.environ(env),
            cwd=cwd,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )

    def popen(self, env: Mapping[str, str], cwd: Path) -> subprocess.Popen[str]:
        """Start the entrypoint (for signal tests); stdout and stderr are pipes of text."""
        return subprocess.Popen(
            self.argv,
            env=self.environ(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def build_action_image(root: Path, context: Path = REPO_ROOT) -> ActionImage:
    """Mirror the image into `root` (an empty directory) from the build context."""
    spec = parse_dockerfile(context / "Dockerfile")
    ignore = DockerIgnore.read(context / ".dockerignore")
    venv = build_venv(spec, context)
    image = ActionImage(spec=spec, root=root, venv=venv)
    for source, dest in spec.copies:
        top = source.rstrip("/")
        for rel in copied_files(context, top, ignore):
            if (context / top).is_dir():
                target = image.path(dest).joinpath(PurePosixPath(rel).relative_to(top))
            elif dest.endswith("/"):
                target = image.path(dest) / PurePosixPath(rel).name
            else:
                target = image.path(dest)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(context / rel, target)
    return image
