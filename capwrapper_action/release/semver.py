"""Semantic versions (semver.org 2.0.0): parsing, precedence and bumping."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
MAX_LENGTH = 256


class Bump(StrEnum):
    """Which part ``version: auto`` raises."""

    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"


class Auto(StrEnum):
    """``version: auto``: the next version after the build history."""

    AUTO = "auto"


AUTO = Auto.AUTO


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = field(default=(), compare=False)
    build: str = field(default="", compare=False)  # never counts for precedence
    # What ranks versions of the same major.minor.patch: a release above its prereleases,
    # then the prerelease fields in turn, numeric ones below alphanumeric ones.
    _rank: tuple[int, tuple[tuple[int, int, str], ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        object.__setattr__(self, "_rank", (0 if self.prerelease else 1, pre))

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _SEMVER.match(text.strip())
        if not m or len(text) > MAX_LENGTH:
            raise ValueError(f"not a semantic version: {text!r}")
        major, minor, patch, pre, build = m.groups()
        prerelease = tuple(pre.split(".")) if pre else ()
        return cls(int(major), int(minor), int(patch), prerelease, build or "")

    @classmethod
    def try_parse(cls, text: object) -> Version | None:
        if not isinstance(text, str):
            return None
        try:
            return cls.parse(text)
        except ValueError:
            return None

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        return text + (f"+{self.build}" if self.build else "")

    def bump(self, part: Bump) -> Version:
        """The next release: ``1.2.3`` -> patch ``1.2.4``, minor ``1.3.0``, major ``2.0.0``.
        A prerelease bumps to its release (``1.3.0-rc.1`` -> patch ``1.3.0``)."""
        if part is Bump.MAJOR:
            return Version(self.major + 1, 0, 0)
        if part is Bump.MINOR:
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + (0 if self.prerelease else 1))
