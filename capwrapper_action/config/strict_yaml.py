"""YAML (JSON included) read strictly, and YAML values turned into plain JSON data.

Used for the inputs that take a list or a mapping and for the config file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from datetime import date
from typing import Any

import yaml


class YamlProblem(ValueError):
    """The text is not YAML this action accepts; the message says where and why."""


_BOOL_TAG = "tag:yaml.org,2002:bool"


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML without aliases (a few lines could expand to gigabytes once serialized)
    and without repeated keys (the second one would silently win). Booleans follow YAML 1.2,
    as GitHub's workflow files do: only ``true``/``false`` (``True``, ``TRUE``…); ``yes``,
    ``no``, ``on`` and ``off`` stay text, so a config file and a workflow input agree."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class attribute, copied
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not accepted", mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key_node.value!r} appears twice", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


_StrictLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str) -> object:
    """Parse YAML (JSON included) strictly; raises ``YamlProblem`` with line and column."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise YamlProblem(f"{exc.problem or exc.context or 'syntax error'}{where}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(str(exc).splitlines()[0] if str(exc) else "syntax error") from None
    except RecursionError:
        raise YamlProblem("nested too deeply") from None


def json_safe(value: object, depth: int = 0) -> Any:
    """``value`` as plain JSON data: dates become ISO text; other YAML types are refused."""
    if depth > 32:  # noqa: PLR2004
        raise YamlProblem("nested more than 32 levels deep")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise YamlProblem("holds .nan or .inf, which JSON cannot carry")
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_safe(item, depth + 1) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise YamlProblem("has a key that is not text (quote keys such as 1 or true)")
        return {key: json_safe(item, depth + 1) for key, item in value.items()}
    raise YamlProblem(f"holds a {type(value).__name__}, which JSON cannot carry")
