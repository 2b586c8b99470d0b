"""The action's inputs as the runner hands them over, and the optional config file.

``INPUT_NAMES`` and ``INPUT_DEFAULTS`` mirror action.yml (a unit test keeps them in step), so
nothing parses action.yml at start-up. ``read_inputs`` reads the ``INPUT_*`` variables;
``merge_config_file`` lays the repository's config file under them.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import textwrap
import unicodedata
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from capwrapper_action.errors import ConfigError

INPUT_DEFAULTS: Mapping[str, str] = {
    "api-key": "",
    "api-url": "https://api.capwrapper.com/v1",
    "app-url": "",
    "app-name": "",
    "bundle-id": "",
    "version": "auto",
    "version-bump": "patch",
    "platforms": "android, ios",
    "permissions": "",
    "build-options": "",
    "build-id": "",
    "wait": "true",
    "timeout": "30m",
    "queue-timeout": "",
    "poll-interval": "auto",
    "github-token": "${{ github.token }}",
    "deploy": "false",
    "deploy-labels": "",
    "deploy-options": "",
    "download": "false",
    "download-path": "capwrapper-artifacts",
    "summary": "true",
    "summary-download-links": "false",
    "config-file": "",
    "dry-run": "false",
}
INPUT_NAMES: tuple[str, ...] = tuple(INPUT_DEFAULTS)
SECRET_INPUTS = frozenset({"api-key", "github-token"})
# Inputs whose text may span lines (lists, mappings); the YAML ones keep their indentation.
MULTILINE_INPUTS = frozenset(
    {"platforms", "permissions", "build-options", "deploy-options", "deploy-labels", "build-id"}
)
YAML_INPUTS = frozenset({"platforms", "permissions", "build-options", "deploy-options"})
LIST_INPUTS = frozenset({"platforms", "permissions", "deploy-labels", "build-id"})
MAPPING_INPUTS = frozenset({"build-options", "deploy-options"})

DEFAULT_CONFIG_FILE = ".github/capwrapper.yml"
MAX_CONFIG_FILE_BYTES = 256 * 1024
_NOT_IN_FILE: Mapping[str, str] = {
    "api-key": "secrets do not belong in the repository; pass it in the workflow from a secret",
    "github-token": "secrets do not belong in the repository; pass it in the workflow",
    "config-file": "a config file cannot name another one",
}


def input_error(name: str, problem: str, example: str) -> ConfigError:
    """A ``ConfigError`` whose problem ends in a full stop (the example follows it)."""
    problem = problem if problem.endswith((".", "?", "!")) else problem + "."
    return ConfigError(name, problem, example)


def normalize(name: str, value: str) -> str:
    """Surrounding white space removed; for YAML inputs only blank lines and the common
    indentation, so that a block list or mapping keeps its shape."""
    if name in MULTILINE_INPUTS:
        value = value.replace("\r\n", "\n")
    if name in YAML_INPUTS:
        return textwrap.dedent(value.lstrip("\n").rstrip()).strip("\n")
    return value.strip()


def read_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """Every declared input, normalized. The runner sets ``INPUT_API-KEY`` (hyphen kept);
    ``INPUT_API_KEY`` is read too, for people who run the image by hand. When both are set
    the hyphen form wins. An input that is not set gets its action.yml default, except an
    expression default (``${{ github.token }}``), which only the runner can evaluate: ""."""
    values: dict[str, str] = {}
    for name in INPUT_NAMES:
        hyphen = "INPUT_" + name.upper().replace(" ", "_")
        underscore = hyphen.replace("-", "_")
        raw = env.get(hyphen, env.get(underscore))
        if raw is None:
            default = INPUT_DEFAULTS[name]
            raw = "" if default.startswith("${{") else default
        values[name] = normalize(name, raw)
    return values


def workspace_of(env: Mapping[str, str]) -> Path:
    """``GITHUB_WORKSPACE`` (``/github/workspace`` in the container) or the current folder."""
    return Path(env.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()


_SHOWN_AS_ESCAPE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def show(value: str, limit: int = 60) -> str:
    """``value`` quoted for a message: at most ``limit`` characters, control characters
    (and bidi or zero-width ones) escaped so that the message stays one readable line."""
    head = value[:limit]
    out = []
    for ch in head:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in _SHOWN_AS_ESCAPE:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"' + ("…" if len(value) > limit else "")


def workspace_path(name: str, value: str, *, workspace: Path, example: str) -> Path:
    """``value`` resolved against the workspace; refused when absolute or outside it
    (symbolic links included)."""
    if not value:
        raise input_error(name, "is empty; give a path relative to the workspace", example)
    if value.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", value):
        raise input_error(
            name,
            f"{show(value)} is not relative to the workspace (in the container the "
            "workspace is /github/workspace, not the runner's path)",
            example,
        )
    root = workspace.resolve()
    try:
        target = (root / value).resolve()
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long, a loop of links
        raise input_error(name, f"{show(value)} is not a usable path ({exc})", example) from None
    if not target.is_relative_to(root):
        raise input_error(name, f"{show(value)} leads outside the workspace", example)
    return target


# --- YAML, read strictly ---------------------------------------------------------------------


class YamlProblem(ValueError):
    """The text is not YAML this action accepts; the message says where and why."""


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML without aliases (a few lines could expand to gigabytes once serialized)
    and without repeated keys (the second one would silently win)."""

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


# --- the config file -------------------------------------------------------------------------


@dataclass(frozen=True)
class MergedInputs:
    values: dict[str, str]
    config_file: Path | None  # the file that was read
    from_file: frozenset[str]  # inputs whose value came from it


def merge_config_file(raw: Mapping[str, str], *, workspace: Path) -> MergedInputs:
    """Lay the config file under the workflow's inputs.

    The runner hands every declared input to the action, giving its action.yml default to
    the ones the workflow did not set, so "the workflow did not set it" cannot be seen;
    "it still holds its default" is the only signal. Hence an input whose value differs
    from its default wins over the file, and one left at its default (even when the
    workflow spelt the default out) takes the file's value.
    """
    path = _locate(raw.get("config-file", ""), workspace)
    if path is None:
        return MergedInputs(dict(raw), None, frozenset())
    shown = _relative(path, workspace)
    data = _read_mapping(path, shown)
    values = dict(raw)
    taken: set[str] = set()
    for key, value in data.items():
        if raw.get(key, "") != normalize(key, INPUT_DEFAULTS[key]):
            continue  # the workflow set it
        values[key] = normalize(key, _as_text(key, value, shown))
        taken.add(key)
    return MergedInputs(values, path, frozenset(taken))


def _relative(path: Path, workspace: Path) -> str:
    return path.relative_to(workspace.resolve()).as_posix()


def _locate(named: str, workspace: Path) -> Path | None:
    if not named and not _is_file(workspace / DEFAULT_CONFIG_FILE):
        return None
    named = named or DEFAULT_CONFIG_FILE
    path = workspace_path("config-file", named, workspace=workspace, example=DEFAULT_CONFIG_FILE)
    if not _is_file(path):
        raise input_error(
            "config-file",
            f"{show(named)} is not a file in the workspace (does the job check "
            "out the repository before this step?)",
            DEFAULT_CONFIG_FILE,
        )
    return path


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, and the like
        return False


def _read_mapping(path: Path, shown: str) -> dict[str, object]:
    example = "app-name: Example Shop"
    try:
        if path.stat().st_size > MAX_CONFIG_FILE_BYTES:
            raise input_error(
                "config-file",
                f"{shown} is larger than {MAX_CONFIG_FILE_BYTES // 1024} KiB",
                example,
            )
        data = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problem = f"{shown} cannot be read ({exc.strerror})"
        raise input_error("config-file", problem, example) from None
    except UnicodeDecodeError:
        raise input_error("config-file", f"{shown} is not UTF-8 text", example) from None
    except YamlProblem as exc:
        raise input_error("config-file", f"{shown} is not valid YAML ({exc})", example) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise input_error(
            "config-file",
            f"{shown} must hold a mapping of input names to values, not a {type(data).__name__}",
            example,
        )
    for key in data:
        _check_key(key, shown, example)
    return data


def _check_key(key: object, shown: str, example: str) -> None:
    if key in _NOT_IN_FILE:
        raise input_error("config-file", f"{shown} sets '{key}': {_NOT_IN_FILE[str(key)]}", example)
    if key not in INPUT_DEFAULTS:
        close = difflib.get_close_matches(str(key).replace("_", "-").lower(), INPUT_NAMES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise input_error(
            "config-file",
            f"{shown} has an unknown key {show(str(key))}{hint}; its keys are "
            "the action's input names",
            example,
        )


def _as_text(key: str, value: object, shown: str) -> str:
    """A file value as the text the same input would have in the workflow."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float, date)):
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, list) and key in LIST_INPUTS:
        words = [x for x in value if isinstance(x, (str, int, float)) and not isinstance(x, bool)]
        if len(words) < len(value) or any(re.search(r"[,\n]", str(x)) for x in words):
            raise input_error(
                key,
                f"in {shown} holds a list item that is not a plain word (quote words such "
                "as yes or on)",
                "a YAML list of words",
            )
        return "\n".join(str(x) for x in words)
    if isinstance(value, dict) and key in MAPPING_INPUTS:
        try:
            return json.dumps(json_safe(value), ensure_ascii=False, allow_nan=False)
        except YamlProblem as exc:
            raise input_error(key, f"in {shown} {exc}", "a YAML mapping") from None
    kind = "list" if isinstance(value, list) else "mapping" if isinstance(value, dict) else "value"
    raise input_error(key, f"in {shown} is a {kind}; it takes a single value", "see action.yml")
