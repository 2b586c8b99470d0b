"""Helpers for running the built image the way the GitHub runner runs a container action.

  container_check.py env-file OUT [NAME=VALUE ...]
      write a `docker run --env-file` file: the GITHUB_*/RUNNER_* variables with the runner's
      in-container paths, and INPUT_* for every input of action.yml (defaults filled in,
      `NAME=VALUE` arguments win)
  container_check.py event-file OUT
      write a push event payload for GITHUB_EVENT_PATH
  container_check.py outputs FILE [NAME=VALUE | NAME ...]
      read a GITHUB_OUTPUT file by the runner's rules and check each NAME has VALUE
      (a bare NAME: is not empty); prints every output
"""

from __future__ import annotations

import json
import sys
from pathlib import Path, PurePosixPath

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.runner_files import input_env, push_event, read_file_command, runner_variables

# The runner's in-container paths; GitHub's API is out of reach on purpose (loopback, closed).
CONTAINER_ENV = runner_variables(PurePosixPath("/github"))


def _pairs(args: list[str]) -> dict[str, str]:
    return dict(arg.split("=", 1) for arg in args)


def write_env_file(out: Path, args: list[str]) -> int:
    env = {**CONTAINER_ENV, **input_env(_pairs(args), github_token="")}
    bad = [name for name, value in env.items() if "\n" in value]
    if bad:
        print(f"env-file cannot hold multi-line values: {bad}", file=sys.stderr)
        return 2
    out.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
    return 0


def check_outputs(path: Path, args: list[str]) -> int:
    outputs = read_file_command(path)
    for name, value in sorted(outputs.items()):
        print(f"{name}={value!r}")
    failures = []
    for arg in args:
        name, sep, want = arg.partition("=")
        got = outputs.get(name.lower())
        if (sep and got != want) or (not sep and not got):
            wanted = repr(want) if sep else "a value"
            failures.append(f"{name}: want {wanted}, got {got!r}")
    for failure in failures:
        print(f"::error title=Wrong action output::{failure}")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if len(argv) < 2:  # noqa: PLR2004 (command and file)
        print(__doc__, file=sys.stderr)
        return 2
    command, target, rest = argv[0], Path(argv[1]), argv[2:]
    if command == "env-file":
        return write_env_file(target, rest)
    if command == "event-file":
        target.write_text(json.dumps(push_event()), encoding="utf-8")
        return 0
    if command == "outputs":
        return check_outputs(target, rest)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
