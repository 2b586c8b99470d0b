"""One input's declaration (``Input``): its kind, parser, default, example and rules, and how
a value from ``INPUT_*`` or the config file is shaped and checked before it is parsed. The
table of every input is ``inputs.INPUTS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Generic, TypeVar

from capwrapper_action.config import lists as C
from capwrapper_action.config import values as V
from capwrapper_action.errors import ConfigError

T = TypeVar("T")
MAX_TEXT = 4096  # longest value of an ordinary input


class Kind(Enum):
    """What an input holds: how its text is tidied and what a config file may give for it."""

    TEXT = "text"  # one line; a file's number or date is taken as its text
    BOOLEAN = "boolean"  # true or false; a file's YAML boolean as it is
    LIST = "list"  # words separated by commas or white space, or a YAML list
    LINES = "lines"  # items separated by commas or new lines (items may hold spaces)
    MAPPING = "mapping"  # a YAML or JSON mapping

    @property
    def multiline(self) -> bool:
        return self in (Kind.LIST, Kind.LINES, Kind.MAPPING)


@dataclass(frozen=True)
class Context:
    """What some parsers need besides the value."""

    workspace: Path
    api_key_missing: str = "is empty"  # what to say when api-key is empty (depends on the event)


@dataclass(frozen=True)
class Input(Generic[T]):
    name: str
    kind: Kind
    parse: Callable[[Any, Context], T]  # text (or a file's list/mapping/boolean) -> value
    example: str  # a right value, shown in every message about this input
    help: str  # one line for `capwrapper-action --help`
    default: str = ""  # exactly as in action.yml
    required: bool = False
    secret: bool = False  # masked, never quoted, never from the config file
    not_in_file: str = ""  # why the config file may not set it; empty: it may
    field: str = ""  # the Config attribute; empty: the name with underscores
    # In place of a bad value while the other inputs are checked (the Config is then dropped).
    fallback: object = None

    @property
    def attribute(self) -> str:
        return self.field or self.name.replace("-", "_")

    def read(self, value: object, ctx: Context) -> T:
        """The typed value of ``value`` (an ``INPUT_*`` text or a config file's YAML value)."""
        try:
            return self.parse(self._shaped(value), ctx)
        except ConfigError as exc:
            raise self.explain(exc) from None

    def explain(self, exc: ConfigError) -> ConfigError:
        """``exc`` with this input's example when it gives none."""
        return exc if exc.example else ConfigError(exc.input_name, exc.problem, self.example)

    def _shaped(self, value: object) -> object:
        """Text checked for size and control characters; a file's value in the shape this
        kind takes (a YAML list's items as words, a number as text)."""
        if isinstance(value, list) and self.kind in (Kind.LIST, Kind.LINES):
            return [self._text(item) for item in _words(self.name, value)]
        if isinstance(value, dict | list) and self.kind is Kind.MAPPING:
            return value
        if isinstance(value, bool) and self.kind is Kind.BOOLEAN:
            return value
        if isinstance(value, dict | list):
            kind = "list" if isinstance(value, list) else "mapping"
            raise V.invalid(self.name, f"is a {kind}; it takes a single value")
        return self._text(_scalar_text(value))

    def _text(self, text: str) -> str:
        limit = C.MAX_MAPPING_BYTES if self.kind is Kind.MAPPING else MAX_TEXT
        multiline, secret = self.kind.multiline, self.secret
        return V.check_text(self.name, text, limit=limit, multiline=multiline, secret=secret)


def _scalar_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _words(name: str, items: list[object]) -> list[str]:
    """A config file's YAML list as text items: numbers are words, anything else is refused."""
    words = [x for x in items if isinstance(x, str | int | float) and not isinstance(x, bool)]
    if len(words) < len(items) or any("," in str(x) or "\n" in str(x) for x in words):
        problem = "holds a list item that is not a plain word (quote words such as yes or on)"
        raise V.invalid(name, problem)
    return [str(x) for x in words]
