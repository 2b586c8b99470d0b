"""The Dockerfile read into the steps that tests/end_to_end/docker_mirror.py replays.

Only what the mirror can reproduce is accepted: FROM, ENV, COPY <src> <dest>, exec-form
ENTRYPOINT, and RUN made of simple commands joined by `&&`, each optionally led by NAME=VALUE
assignments, with bind mounts of build-context files. Anything else (another instruction, a
pipe, `;`, another mount type) fails loudly, so that the image and its mirror cannot drift apart.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

# Programs a RUN may start: the base image's Python and its pip, or a file in the image.
PROGRAMS = frozenset({"python", "python3", "pip", "pip3"})
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class DockerfileError(ValueError):
    """The Dockerfile uses something the mirror cannot reproduce."""


@dataclass(frozen=True)
class Mount:
    """`RUN --mount=type=bind,source=…,target=…`: a build-context file seen only by that step."""

    source: str  # build-context path
    target: str  # image path


@dataclass(frozen=True)
class Command:
    """One simple command of a RUN: `NAME=VALUE … program arg …`."""

    assignments: dict[str, str]
    argv: list[str]


@dataclass(frozen=True)
class RunStep:
    text: str  # the instruction as written (continuations joined), for cache keys
    env: dict[str, str]  # the Dockerfile's ENV in force for this step
    mounts: tuple[Mount, ...]
    commands: tuple[Command, ...]


@dataclass(frozen=True)
class CopyStep:
    source: str  # build-context path
    dest: str  # image path


@dataclass(frozen=True)
class DockerfileSpec:
    """What the mirror needs from the Dockerfile, in order."""

    base: str
    env: dict[str, str]  # ENV at the end: what the container starts with
    steps: tuple[RunStep | CopyStep, ...]
    entrypoint: list[str]

    @property
    def runs(self) -> list[RunStep]:
        return [step for step in self.steps if isinstance(step, RunStep)]

    @property
    def copies(self) -> list[tuple[str, str]]:
        """(build-context source, image destination) of every COPY, in order."""
        return [(s.source, s.dest) for s in self.steps if isinstance(s, CopyStep)]

    @property
    def mounts(self) -> list[Mount]:
        return [mount for run in self.runs for mount in run.mounts]

    @property
    def commands(self) -> list[Command]:
        return [command for run in self.runs for command in run.commands]

    @property
    def venv(self) -> str:
        """Image path of the virtualenv `python -m venv` creates."""
        found = [c.argv[-1] for c in self.commands if c.argv[1:3] == ["-m", "venv"]]
        if len(found) != 1:
            raise DockerfileError(f"expected one `python -m venv`, found {len(found)}")
        return found[0]

    @property
    def pip_install(self) -> Command:
        """The one `pip … install …` command."""
        found = [c for c in self.commands if c.argv[0] == "pip" and "install" in c.argv]
        if len(found) != 1:
            raise DockerfileError(f"expected one `pip install`, found {len(found)}")
        return found[0]

    @property
    def pip_args(self) -> list[str]:
        """What follows `install` in the pip command."""
        argv = self.pip_install.argv
        return argv[argv.index("install") + 1 :]

    @property
    def requirements(self) -> str:
        """Build-context path of the requirements file pip's `-r` names (mounted or copied)."""
        args = self.pip_args
        if "-r" not in args:
            raise DockerfileError("pip install must name its requirements file with -r")
        named = args[args.index("-r") + 1]
        sources = [m.source for m in self.mounts if m.target == named]
        sources += [src for src, dest in self.copies if dest == named]
        if not sources:
            raise DockerfileError(f"no mount or COPY puts {named} into the image")
        return sources[0]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
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


def _mount(option: str) -> Mount:
    fields = dict(item.partition("=")[::2] for item in option.split(","))
    if fields.pop("type", "") != "bind" or not {"source", "target"} <= set(fields):
        raise DockerfileError(f"the mirror knows only bind mounts of a source file: {option}")
    if set(fields) - {"source", "target"}:
        raise DockerfileError(f"the mirror does not know the mount options of {option}")
    return Mount(source=fields["source"], target=fields["target"])


def _command(words: list[str]) -> Command:
    assignments: dict[str, str] = {}
    while words and "=" in words[0] and set(words[0].partition("=")[0]) <= _NAME_CHARS:
        name, _, value = words.pop(0).partition("=")
        assignments[name] = value
    if not words:
        raise DockerfileError("a RUN command holds only assignments")
    if words[0] not in PROGRAMS and not words[0].startswith("/"):
        raise DockerfileError(f"the Docker mirror does not know the program {words[0]!r}")
    return Command(assignments=assignments, argv=words)


def _shell_words(text: str) -> list[str]:
    """Words as /bin/sh splits them, with operators (`;`, `|`, `&&`, …) as words of their own."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def parse_run(args: str, env: dict[str, str]) -> RunStep:
    words = _shell_words(args)
    mounts: list[Mount] = []
    while words and words[0].startswith("--"):
        option = words.pop(0)
        if not option.startswith("--mount="):
            raise DockerfileError(f"the mirror does not know RUN {option}")
        mounts.append(_mount(option.removeprefix("--mount=")))
    if bad := {w for w in words if w != "&&" and set(w) <= set("();<>|&")}:
        raise DockerfileError(f"the mirror runs only `&&`-joined commands, not {sorted(bad)}")
    if expanded := [w for w in words if "$" in w or "`" in w]:
        raise DockerfileError(f"the mirror does not expand variables or commands: {expanded}")
    commands: list[Command] = []
    current: list[str] = []
    for word in [*words, "&&"]:
        if word != "&&":
            current.append(word)
            continue
        commands.append(_command(current))
        current = []
    return RunStep(text=args, env=dict(env), mounts=tuple(mounts), commands=tuple(commands))


@dataclass
class _SpecBuilder:
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    steps: list[RunStep | CopyStep] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)

    def add(self, keyword: str, args: str) -> None:
        if keyword == "FROM":
            if self.base:
                raise DockerfileError("the mirror reproduces one stage: a single FROM")
            self.base = args
        elif keyword == "ENV":
            for item in shlex.split(args):
                name, sep, value = item.partition("=")
                if not sep:
                    raise DockerfileError(f"ENV needs NAME=VALUE, got {item!r}")
                self.env[name] = value
        elif keyword == "RUN":
            self.steps.append(parse_run(args, self.env))
        elif keyword == "COPY":
            parts = shlex.split(args)
            if len(parts) != 2 or parts[0].startswith("--"):
                raise DockerfileError(f"COPY must be `COPY <src> <dest>`, got {args!r}")
            self.steps.append(CopyStep(source=parts[0], dest=parts[1]))
        elif keyword == "ENTRYPOINT":
            value = json.loads(args)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DockerfileError("ENTRYPOINT must be exec form (a JSON list of strings)")
            self.entrypoint = value
        else:
            raise DockerfileError(f"the Docker mirror does not know {keyword} {args}")

    def build(self) -> DockerfileSpec:
        return DockerfileSpec(
            base=self.base,
            env=dict(self.env),
            steps=tuple(self.steps),
            entrypoint=list(self.entrypoint),
        )


def parse_dockerfile(path: Path) -> DockerfileSpec:
    """Read the parts of a Dockerfile the mirror reproduces; fail on anything else."""
    builder = _SpecBuilder()
    for keyword, args in instructions(path.read_text(encoding="utf-8")):
        try:
            builder.add(keyword, args)
        except json.JSONDecodeError as exc:
            raise DockerfileError(f"{keyword} {args}: {exc}") from None
    spec = builder.build()
    spec.requirements  # noqa: B018 - fails early when pip's requirements file has no source
    return spec
