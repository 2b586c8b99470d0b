"""The optional config file (``config-file``, or ``.github/capwrapper.yml`` when present),
laid under the workflow's inputs: an input left at its action.yml default takes the file's value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from capwrapper_action.config.inputs import (
    INPUT_DEFAULTS,
    INPUT_NAMES,
    LIST_INPUTS,
    MAPPING_INPUTS,
    input_error,
    normalize,
    show,
    workspace_path,
)

DEFAULT_CONFIG_FILE = ".github/capwrapper.yml"
MAX_CONFIG_FILE_BYTES = 256 * 1024
_NOT_IN_FILE: Mapping[str, str] = {
    "api-key": "secrets do not belong in the repository; pass it in the workflow from a secret",
    "github-token": "secrets do not belong in the repository; pass it in the workflow",
    "config-file": "a config file cannot name another one",
}


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
    from capwrapper_action.config.strict_yaml import YamlProblem, load_yaml

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
        import difflib

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
        from capwrapper_action.config.strict_yaml import YamlProblem, json_safe

        try:
            return json.dumps(json_safe(value), ensure_ascii=False, allow_nan=False)
        except YamlProblem as exc:
            raise input_error(key, f"in {shown} {exc}", "a YAML mapping") from None
    kind = "list" if isinstance(value, list) else "mapping" if isinstance(value, dict) else "value"
    raise input_error(key, f"in {shown} is a {kind}; it takes a single value", "see action.yml")
