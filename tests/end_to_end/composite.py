"""Run a composite action's steps the way the runner does on Linux, as far as a test can.

For each `shell: bash` step: `${{ }}` expressions in `env:` are evaluated (dotted look-ups in
the `inputs`, `github`, `runner` and `steps` contexts only; anything else fails loudly), fresh
file-command files are made for the step, and the `run:` script is written to a file and run
with `bash --noprofile --norc -eo pipefail {0}` in the workspace, under the runner's variables
plus `GITHUB_ACTION_PATH`. The step's outputs are read from its `GITHUB_OUTPUT` by the runner's
rules (tests/runner_files.py); a failing step skips the rest. At the end the action's outputs
are evaluated from their `value:` expressions, as the runner maps them.

Not reproduced: `uses:` and `if:` steps, other shells, expression functions and operators, and
the runner's own masking of secrets in the log.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.runner_files import GITHUB_TOKEN_EXPRESSION, read_file_command

# Found once on this process's PATH, so that a step may run under a PATH without it.
BASH = [shutil.which("bash") or "/bin/bash", "--noprofile", "--norc", "-eo", "pipefail"]
FILE_COMMANDS = (
    "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE",
)
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_LOOKUP = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*")


class UnsupportedStep(ValueError):
    """The action uses something this emulation does not reproduce."""


def evaluate(text: str, contexts: Mapping[str, Any]) -> str:
    """`text` with each `${{ a.b.c }}` replaced by its value ('' when missing, as GitHub)."""

    def one(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if not _LOOKUP.fullmatch(expression):
            raise UnsupportedStep(f"expression {expression!r} is not a plain look-up")
        value: Any = contexts
        for part in expression.lower().split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return "" if value is None else str(value)

    return _EXPRESSION.sub(one, text)


@dataclass
class StepResult:
    id: str
    returncode: int
    log: str
    outputs: dict[str, str]
    summary: str
    files: dict[str, str]  # file-command name -> what the step wrote there


@dataclass
class CompositeRun:
    returncode: int
    steps: dict[str, StepResult] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def log(self) -> str:
        return "".join(step.log for step in self.steps.values())

    @property
    def summary(self) -> str:
        return "".join(step.summary for step in self.steps.values())


def load(action_yml: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(action_yml.read_text(encoding="utf-8"))
    if data.get("runs", {}).get("using") != "composite":
        raise UnsupportedStep(f"{action_yml} is not a composite action")
    return data


def input_context(
    action: Mapping[str, Any], given: Mapping[str, str], token: str
) -> dict[str, str]:
    """`inputs`: what `with:` gave, else the declared default (`${{ github.token }}` evaluated)."""
    values: dict[str, str] = {}
    for name, spec in (action.get("inputs") or {}).items():
        default = str((spec or {}).get("default", ""))
        values[name.lower()] = token if default == GITHUB_TOKEN_EXPRESSION else default
    values.update({name.lower(): value for name, value in given.items()})
    return values


def run_step(
    step: Mapping[str, Any], index: int, contexts: Mapping[str, Any], env: Mapping[str, str],
    *, workspace: Path, scratch: Path, timeout: float,
) -> StepResult:
    """Run one `shell: bash` step; `env` is the runner's environment for the step."""
    if "uses" in step or "if" in step or step.get("shell") != "bash":
        raise UnsupportedStep(f"step {index} is not a plain `shell: bash` step")
    folder = scratch / f"step-{index}"
    folder.mkdir(parents=True)
    files = {name: folder / name.lower() for name in FILE_COMMANDS}
    for path in files.values():
        path.write_bytes(b"")
    step_env = {str(k): evaluate(str(v), contexts) for k, v in (step.get("env") or {}).items()}
    script = folder / "script.sh"
    script.write_text(evaluate(step["run"], contexts), encoding="utf-8")
    done = subprocess.run(
        [*BASH, str(script)], cwd=workspace, timeout=timeout, stdin=subprocess.DEVNULL,
        env={**env, **step_env, **{name: str(path) for name, path in files.items()}},
        capture_output=True, text=True, check=False,
    )
    written = {name: path.read_text(encoding="utf-8") for name, path in files.items()}
    return StepResult(
        id=str(step.get("id") or f"__step{index}"), returncode=done.returncode,
        log=done.stdout + done.stderr, outputs=read_file_command(files["GITHUB_OUTPUT"]),
        summary=written["GITHUB_STEP_SUMMARY"], files=written,
    )  # fmt: skip


def run_composite(
    action_yml: Path, given: Mapping[str, str], env: Mapping[str, str], *, workspace: Path,
    scratch: Path, token: str = "ghs_runner-test-token",
    done: Mapping[str, StepResult] | None = None, only: tuple[str, ...] | None = None,
    timeout: float = 120,
) -> CompositeRun:
    """Run the action's steps in order. Steps whose id is in `done` are not run again: their
    earlier result stands (a cached install, say); with `only`, just those steps run."""
    action = load(action_yml)
    action_path = str(action_yml.parent)
    contexts: dict[str, Any] = {
        "inputs": input_context(action, given, token),
        "github": {"token": token, "action_path": action_path,
                   "workspace": env.get("GITHUB_WORKSPACE", "")},
        "runner": {"temp": env.get("RUNNER_TEMP", ""), "os": env.get("RUNNER_OS", "Linux")},
        "steps": {},
    }  # fmt: skip
    step_env = {**env, "GITHUB_ACTION_PATH": action_path}
    result = CompositeRun(returncode=0)
    for index, step in enumerate(action["runs"]["steps"]):
        step_id = str(step.get("id") or f"__step{index}")
        if done and step_id in done:
            outcome = done[step_id]
        elif only is not None and step_id not in only:
            continue
        else:
            outcome = run_step(step, index, contexts, step_env, workspace=workspace,
                               scratch=scratch, timeout=timeout)  # fmt: skip
        result.steps[step_id] = outcome
        contexts["steps"][step_id.lower()] = {"outputs": outcome.outputs}
        if outcome.returncode != 0:
            result.returncode = outcome.returncode
            break
    for name, spec in (action.get("outputs") or {}).items():
        result.outputs[name.lower()] = evaluate(str(spec.get("value", "")), contexts)
    return result
