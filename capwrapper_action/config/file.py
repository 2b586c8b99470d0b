"""The optional config file (``config-file``, or ``.github/capwrapper.yml`` when present),
laid under the workflow's inputs: an input left at its action.yml default takes the file's
value, as YAML gave it (the input table turns it into the input's type).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from capwrapper_action.config.input_spec import Context
from capwrapper_action.config.inputs import BY_NAME, INPUT_NAMES, at_default, normalize
from capwrapper_action.config.strict_yaml import YamlProblem, load_yaml
from capwrapper_action.config.values import invalid, show
from capwrapper_action.errors import ConfigError

MAX_CONFIG_FILE_BYTES = 256 * 1024
_EXAMPLE = "app-name: Example Shop"


@dataclass(frozen=True)
class MergedInputs:
    values: dict[str, object]  # the workflow's text, or the file's YAML value
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
    path = BY_NAME["config-file"].read(raw.get("config-file", ""), Context(workspace))
    if path is None:
        return MergedInputs(dict(raw), None, frozenset())
    shown = path.relative_to(workspace.resolve()).as_posix()
    values: dict[str, object] = dict(raw)
    taken: set[str] = set()
    for key, value in _read_mapping(path, shown).items():
        if not at_default(key, raw.get(key, "")):
            continue  # the workflow set it
        values[key] = normalize(key, value) if isinstance(value, str) else value
        taken.add(key)
    return MergedInputs(values, path, frozenset(taken))


def _read_mapping(path: Path, shown: str) -> dict[str, object]:
    try:
        if path.stat().st_size > MAX_CONFIG_FILE_BYTES:
            raise _bad(f"{shown} is larger than {MAX_CONFIG_FILE_BYTES // 1024} KiB")
        data = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _bad(f"{shown} cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise _bad(f"{shown} is not UTF-8 text") from None
    except YamlProblem as exc:
        raise _bad(f"{shown} is not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise _bad(f"{shown} must hold a mapping of input names to values, not a {kind}")
    for key in data:
        _check_key(key, shown)
    return data


def _check_key(key: object, shown: str) -> None:
    spec = BY_NAME.get(key) if isinstance(key, str) else None
    if spec is not None and spec.not_in_file:
        raise _bad(f"{shown} sets '{key}': {spec.not_in_file}")
    if spec is None:
        close = difflib.get_close_matches(str(key).replace("_", "-").lower(), INPUT_NAMES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        unknown = f"{shown} has an unknown key {show(str(key))}{hint}"
        raise _bad(f"{unknown}; its keys are the action's input names")


def _bad(problem: str) -> ConfigError:
    """An error of ``config-file``, with an example of what the file holds."""
    return invalid("config-file", problem, _EXAMPLE)
