"""Run the action as its Docker image would, on a machine without a Docker engine.

The Dockerfile is replayed, not copied by hand: `docker_mirror_spec.py` reads its steps, and the
mirror runs each RUN command and COPY in order against a temporary root standing for the image's
`/`. Image paths in a command's arguments and assignments are mapped onto that root, a bind
mount's target onto its build-context file; `python` and `pip` are the base image's interpreter
and its pip, for which the mirror takes the Python running the tests; an absolute program path is
the mirrored file. COPY takes only what `.dockerignore` lets into the build context. Anything the
mirror cannot replay fails loudly, so the two cannot drift apart silently.

The dependency layer (every RUN before the first COPY) is cached under `.cache/docker-mirror/`,
keyed by those steps, the files they mount and the Python running the tests, so local re-runs are
fast; CI starts clean. Parallel workers build it once: the first to take its lock
(tests/cache_lock.py). That layer may write only into the image's virtualenv.

What the mirror cannot reproduce: the base image's own files (standard-library bytecode that a
step writes lands in the cache of the Python running the tests) and the process being PID 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tests.cache_lock import building
from tests.end_to_end.docker_mirror_spec import (
    Command,
    CopyStep,
    DockerfileError,
    DockerfileSpec,
    RunStep,
    parse_dockerfile,
)
from tests.end_to_end.dockerignore import DockerIgnore, copied_files

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "docker-mirror"

# Environment the base image (python:*-slim) sets that matters to a Python program.
BASE_IMAGE_ENV = {"LANG": "C.UTF-8"}


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


def _map_word(image: ActionImage, mounts: Mapping[str, Path], word: str) -> str:
    """An argument with its image paths mapped: `/x`, `--opt=/x` and `A:B` path lists."""
    option, sep, value = word.partition("=") if word.startswith("--") else ("", "", word)
    if not value.startswith("/"):
        return word
    parts = [str(mounts[p]) if p in mounts else str(image.path(p)) for p in value.split(":")]
    return option + sep + ":".join(parts)


def _program(image: ActionImage, word: str) -> list[str]:
    if word in {"python", "python3"}:
        return [sys.executable]
    if word in {"pip", "pip3"}:
        return [sys.executable, "-m", "pip"]
    if word.startswith("/"):
        return [str(image.path(word))]
    raise DockerfileError(f"the Docker mirror does not know the program {word!r}")


def _build_env(step: RunStep) -> dict[str, str]:
    """Docker gives a RUN the image's environment; the mirror keeps this process's PATH and
    package-index settings and drops its Python settings (PYTHONPATH and the like)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return {**inherited, **BASE_IMAGE_ENV, **step.env}


def _run_command(
    image: ActionImage, step: RunStep, command: Command, context: Path, extra: Mapping[str, str]
) -> None:
    mounts = {m.target: context / m.source for m in step.mounts}
    argv = _program(image, command.argv[0])
    argv += [_map_word(image, mounts, word) for word in command.argv[1:]]
    env = {**_build_env(step), **extra}
    env.update({k: _map_word(image, mounts, v) for k, v in command.assignments.items()})
    image.root.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        argv, env=env, cwd=image.root, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"RUN {step.text}\nmirrored as {argv} failed:\n{done.stdout}\n{done.stderr}"
        )


def replay(
    image: ActionImage,
    step: RunStep,
    context: Path = REPO_ROOT,
    extra: Mapping[str, str] | None = None,
) -> None:
    """Run one RUN step against the mirror; `extra` is added to its environment (tests use it
    to watch a step, e.g. with PYTHONPYCACHEPREFIX)."""
    for command in step.commands:
        _run_command(image, step, command, context, extra or {})


def _copy(image: ActionImage, step: CopyStep, context: Path, ignore: DockerIgnore) -> None:
    top = step.source.rstrip("/")
    for rel in copied_files(context, top, ignore):
        if (context / top).is_dir():
            target = image.path(step.dest).joinpath(PurePosixPath(rel).relative_to(top))
        elif step.dest.endswith("/"):
            target = image.path(step.dest) / PurePosixPath(rel).name
        else:
            target = image.path(step.dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(context / rel, target)


def _dependency_steps(spec: DockerfileSpec) -> list[RunStep]:
    """The RUN steps before the first COPY: the layer the mirror caches."""
    steps: list[RunStep] = []
    for step in spec.steps:
        if isinstance(step, CopyStep):
            break
        steps.append(step)
    return steps


def _layer_key(steps: list[RunStep], context: Path) -> str:
    digest = hashlib.sha256()
    parts = [sys.version, platform.machine()]
    parts.append(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    for step in steps:
        parts += [step.text, json.dumps(step.env, sort_keys=True)]
        parts += [(context / m.source).read_text(encoding="utf-8") for m in step.mounts]
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def _outside_venv(root: Path, venv: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if not p.is_dir() and not p.is_relative_to(venv)
    )


def build_dependency_layer(
    spec: DockerfileSpec, context: Path, cache_dir: Path = CACHE_DIR
) -> Path:
    """The image's virtualenv after the RUN steps before the first COPY (cached)."""
    steps = _dependency_steps(spec)
    layer = cache_dir / f"deps-{_layer_key(steps, context)}"
    venv_parts = PurePosixPath(spec.venv).parts[1:]
    if not layer.is_dir():
        with building(layer):  # parallel workers: one builds, the others wait and reuse it
            if not layer.is_dir():
                _build_layer(spec, steps, context, layer)
    return layer.joinpath(*venv_parts)


def _build_layer(spec: DockerfileSpec, steps: list[RunStep], context: Path, layer: Path) -> None:
    venv_parts = PurePosixPath(spec.venv).parts[1:]
    work = layer.with_name(f"{layer.name}.tmp-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    image = ActionImage(spec=spec, root=work, venv=work.joinpath(*venv_parts))
    try:
        for step in steps:
            replay(image, step, context)
        if stray := _outside_venv(work, image.venv):
            raise DockerfileError(f"the dependency layer writes outside {spec.venv}: {stray[:5]}")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    work.rename(layer)  # complete or absent; a venv runs from any path (its scripts would not)


def build_action_image(root: Path, context: Path = REPO_ROOT) -> ActionImage:
    """Mirror the image into `root` (an empty directory) from the build context."""
    spec = parse_dockerfile(context / "Dockerfile")
    ignore = DockerIgnore.read(context / ".dockerignore")
    for mount in spec.mounts:
        copied_files(context, mount.source, ignore)  # a mounted file must be in the context
    image = ActionImage(spec=spec, root=root, venv=build_dependency_layer(spec, context))
    for step in spec.steps[len(_dependency_steps(spec)) :]:
        if isinstance(step, CopyStep):
            _copy(image, step, context, ignore)
        else:
            replay(image, step, context)
    return image
