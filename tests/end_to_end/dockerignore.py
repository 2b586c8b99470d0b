"""`.dockerignore` as Docker applies it, for the Docker mirror and the Dockerfile tests."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A `.dockerignore` pattern (Go filepath.Match plus `**`) as a regular expression."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


@dataclass(frozen=True)
class DockerIgnore:
    """`.dockerignore` rules: the last pattern matching a path or one of its parents decides."""

    rules: tuple[tuple[bool, re.Pattern[str]], ...]  # (is exclusion, pattern)

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        rules: list[tuple[bool, re.Pattern[str]]] = []
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            include = line.startswith("!")
            cleaned = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
            rules.append((not include, _pattern_regex(cleaned)))
        return cls(tuple(rules))

    def excluded(self, relpath: str) -> bool:
        parts = PurePosixPath(relpath).parts
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for exclude, regex in self.rules:
            if any(regex.match(candidate) for candidate in candidates):
                verdict = exclude
        return verdict


def copied_files(context: Path, source: str, ignore: DockerIgnore) -> list[str]:
    """Files under one COPY source that `.dockerignore` lets into the build (POSIX relpaths)."""
    top = context / source
    if top.is_file():
        candidates = [top]
    elif top.is_dir():
        candidates = [p for p in top.rglob("*") if p.is_file()]
    else:
        raise FileNotFoundError(f"COPY source {source!r} does not exist in {context}")
    rels = (p.relative_to(context).as_posix() for p in candidates)
    found = sorted(rel for rel in rels if not ignore.excluded(rel))
    if not found:
        raise FileNotFoundError(f"COPY source {source!r}: everything is excluded by .dockerignore")
    return found
