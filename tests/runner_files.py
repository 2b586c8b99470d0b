"""How the GitHub Actions runner reads what a step leaves behind, for tests to check against.

These follow the runner's own rules (see github-runner-facts.md in the shared notes), not what
the action's own writer produces, so a test that parses with them sees what a workflow would.

- `parse_output_file` reads `GITHUB_OUTPUT` (and `GITHUB_ENV` / `GITHUB_STATE`, same format).
- `read_file_command` reads such a file from disk the way the runner does (UTF-8, BOM dropped).
- `input_env` turns workflow `with:` inputs into the `INPUT_*` variables the runner passes,
  filling in the defaults declared in action.yml.
- `RunnerEnv` lays out what the runner gives a Docker action: a workspace, fresh file-command
  files, an event file and the GITHUB_*/RUNNER_* variables, and nothing else of this process's
  environment but PATH.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
ACTION_YML = REPO_ROOT / "action.yml"

GITHUB_TOKEN_EXPRESSION = "${{ github.token }}"


class FileCommandError(ValueError):
    """The runner would fail the step: "Unable to process file command 'output' successfully."

    `applied` holds the pairs read before the bad line; the runner has already applied them.
    """

    def __init__(self, message: str, applied: dict[str, str]) -> None:
        super().__init__(message)
        self.applied = applied


def _read_line(text: str, index: int) -> tuple[str | None, int, bool]:
    """One line from `index`: (line or None at the end, next index, whether `\\n` ended it).

    Only `\\n` ends a line (Linux runner); a `\\r` before it stays part of the line.
    """
    if index >= len(text):
        return None, index, False
    end = text.find("\n", index)
    if end < 0:
        return text[index:], len(text), False
    return text[index:end], end + 1, True


def _heredoc_value(text: str, index: int, delimiter: str) -> tuple[str, int]:
    """The value after a `NAME<<DELIM` line starting at `index`, and the index after DELIM."""
    start = end = index
    line, index, had_newline = _read_line(text, index)
    while line != delimiter:
        if line is None:
            raise ValueError(f"Invalid value. Matching delimiter not found '{delimiter}'")
        if not had_newline:
            raise ValueError("Invalid value. EOF marker missing new line.")
        end = index - 1  # the line break before the next line is not part of the value
        line, index, had_newline = _read_line(text, index)
    return text[start:end], index


def _split_pair(line: str) -> tuple[str, str | None]:
    """(name, value) for `NAME=VALUE`, or (name, None) with the delimiter pending for heredocs."""
    equals = line.find("=")
    heredoc = line.find("<<")
    if equals >= 0 and (heredoc < 0 or equals < heredoc):
        name, value = line.split("=", 1)
        if not name:
            raise ValueError(f"Invalid format '{line}'. Name must not be empty")
        return name, value
    if heredoc >= 0:
        return line.split("<<", 1)[0], None
    raise ValueError(f"Invalid format '{line}'")


def parse_output_file(text: str) -> dict[str, str]:
    """Pairs in a `GITHUB_OUTPUT`-format text, keyed by lower-cased name, the last value winning.

    Raises FileCommandError (with the pairs read so far) where the runner fails the step.
    """
    pairs: dict[str, str] = {}
    index = 0
    while True:
        line, index, _ = _read_line(text, index)
        if line is None:
            return pairs
        if line == "":
            continue
        try:
            name, value = _split_pair(line)
            if value is None:
                delimiter = line.split("<<", 1)[1]
                if not name or not delimiter:
                    raise ValueError(
                        f"Invalid format '{line}'. Name must not be empty and delimiter must not"
                        " be empty"
                    )
                value, index = _heredoc_value(text, index, delimiter)
        except ValueError as exc:
            raise FileCommandError(str(exc), dict(pairs)) from exc
        pairs[name.lower()] = value


def read_file_command(path: Path) -> dict[str, str]:
    """Parse a file-command file as the runner reads it: UTF-8, a leading BOM dropped."""
    return parse_output_file(path.read_text(encoding="utf-8-sig", errors="replace"))


def input_env_name(name: str) -> str:
    """`api-key` -> `INPUT_API-KEY`: upper-cased, spaces to `_`, hyphens kept."""
    return "INPUT_" + name.replace(" ", "_").upper()


def declared_inputs(action_yml: Path = ACTION_YML) -> dict[str, dict[str, Any]]:
    """The `inputs:` mapping of action.yml."""
    import yaml  # here, so that CI scripts can use the rest of this module with no packages

    data = yaml.safe_load(action_yml.read_text(encoding="utf-8"))
    inputs: dict[str, dict[str, Any]] = data.get("inputs") or {}
    return inputs


def input_env(
    given: Mapping[str, str],
    *,
    github_token: str = "ghs_runner-test-token",
    action_yml: Path = ACTION_YML,
) -> dict[str, str]:
    """The `INPUT_*` variables for a step whose `with:` is `given`.

    Declared inputs that were not given get their default (`${{ github.token }}` evaluates to
    `github_token`; no default means the empty string). Undeclared inputs are passed as well,
    as the runner does.
    """
    env: dict[str, str] = {}
    for name, spec in declared_inputs(action_yml).items():
        default = str((spec or {}).get("default", ""))
        if default == GITHUB_TOKEN_EXPRESSION:
            default = github_token
        elif "${{" in default:
            raise ValueError(f"input {name!r}: cannot evaluate default {default!r} here")
        env[input_env_name(name)] = default
    for name, value in given.items():
        env[input_env_name(name)] = value
    return env


DEFAULT_SHA = "8a1f0c3e5b7d9f2a4c6e8b0d1f3a5c7e9b2d4f6a"
DEFAULT_REPOSITORY = "octo-org/shop-app"
# Nothing listens there: a test that forgets to start a fake GitHub API fails fast on loopback
# instead of reaching out. Pass `api_url=` to point the action at a fake.
UNREACHABLE_API_URL = "http://127.0.0.1:9"


def push_event(sha: str = DEFAULT_SHA, repository: str = DEFAULT_REPOSITORY) -> dict[str, Any]:
    """A `push` event payload for refs/heads/main."""
    owner, name = repository.split("/", 1)
    return {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": sha,
        "repository": {
            "full_name": repository,
            "name": name,
            "owner": {"login": owner},
            "default_branch": "main",
        },
        "head_commit": {
            "id": sha,
            "message": "Update the shop",
            "timestamp": "2026-11-02T10:00:00Z",
        },
        "pusher": {"name": "octocat"},
        "sender": {"login": "octocat"},
    }


# Where the runner puts each path, under its root: /github inside the container.
LAYOUT = {
    "GITHUB_WORKSPACE": "workspace",
    "HOME": "home",
    "RUNNER_TEMP": "runner_temp",
    "GITHUB_EVENT_PATH": "workflow/event.json",
    "GITHUB_OUTPUT": "file_commands/set_output",
    "GITHUB_STEP_SUMMARY": "file_commands/step_summary",
    "GITHUB_ENV": "file_commands/set_env",
    "GITHUB_STATE": "file_commands/save_state",
    "GITHUB_PATH": "file_commands/add_path",
}
FOLDERS = ("GITHUB_WORKSPACE", "HOME", "RUNNER_TEMP")
FILE_COMMANDS = (
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_ENV",
    "GITHUB_STATE",
    "GITHUB_PATH",
)


def runner_variables(
    root: PurePath,
    *,
    sha: str = DEFAULT_SHA,
    repository: str = DEFAULT_REPOSITORY,
    api_url: str = UNREACHABLE_API_URL,
) -> dict[str, str]:
    """The variables the runner sets for a container step of a push to main, paths under root."""
    owner = repository.split("/", 1)[0]
    return {
        "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": "push",
        "GITHUB_SHA": sha, "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
        "GITHUB_REF_TYPE": "branch", "GITHUB_REPOSITORY": repository,
        "GITHUB_REPOSITORY_OWNER": owner, "GITHUB_RUN_ID": "7301234567",
        "GITHUB_RUN_NUMBER": "42", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_ACTOR": "octocat",
        "GITHUB_WORKFLOW": "Build apps", "GITHUB_JOB": "build", "GITHUB_ACTION": "capwrapper",
        "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": api_url,
        "GITHUB_GRAPHQL_URL": f"{api_url}/graphql",
        "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_NAME": "GitHub Actions 2",
        "RUNNER_ENVIRONMENT": "github-hosted",
        **{name: str(root / relative) for name, relative in LAYOUT.items()},
    }  # fmt: skip


@dataclass
class RunnerEnv:
    """What the runner hands a Docker action, laid out under `root` as under /github.

    `env` is the whole environment to start the action with (of this process's own environment
    only PATH); `with_inputs` adds `INPUT_*`. Other paths: `path("RUNNER_TEMP")` and so on.
    """

    root: Path
    sha: str = DEFAULT_SHA
    repository: str = DEFAULT_REPOSITORY
    api_url: str = UNREACHABLE_API_URL
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.env = runner_variables(
            self.root, sha=self.sha, repository=self.repository, api_url=self.api_url
        )
        self.env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        for name in FOLDERS:
            self.path(name).mkdir(parents=True, exist_ok=True)
        for name in FILE_COMMANDS:
            self.path(name).parent.mkdir(parents=True, exist_ok=True)
            self.path(name).write_bytes(b"")
        self.set_event("push", push_event(self.sha, self.repository))

    def path(self, variable: str) -> Path:
        """The file or folder that runner variable names, e.g. `path("GITHUB_OUTPUT")`."""
        return self.root / LAYOUT[variable]

    @property
    def workspace(self) -> Path:
        return self.path("GITHUB_WORKSPACE")

    @property
    def output(self) -> Path:
        return self.path("GITHUB_OUTPUT")

    @property
    def summary(self) -> Path:
        return self.path("GITHUB_STEP_SUMMARY")

    @property
    def env_file(self) -> Path:
        return self.path("GITHUB_ENV")

    @property
    def event_path(self) -> Path:
        return self.path("GITHUB_EVENT_PATH")

    def set_event(self, name: str, payload: Mapping[str, Any]) -> None:
        """Make the step run for event `name` with this payload."""
        self.event_path.parent.mkdir(parents=True, exist_ok=True)
        self.event_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        self.env["GITHUB_EVENT_NAME"] = name

    def with_inputs(self, given: Mapping[str, str]) -> dict[str, str]:
        """The environment plus `INPUT_*` for these `with:` inputs (defaults filled in)."""
        return {**self.env, **input_env(given)}

    def outputs(self) -> dict[str, str]:
        """The step outputs as the runner would read them (names lower-cased)."""
        return read_file_command(self.output)

    def summary_text(self) -> str:
        return self.summary.read_text(encoding="utf-8")
