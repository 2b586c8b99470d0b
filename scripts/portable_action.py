"""Generate ``portable/action.yml``, the composite variant of the action, from ``action.yml``
and the input table (``capwrapper_action/config/inputs.py``).

    python scripts/portable_action.py          # rewrite portable/action.yml
    python scripts/portable_action.py --check  # exit 1 when it is out of date

Docker container actions run only on Linux runners. The composite variant has the same inputs
(the table's, with action.yml's descriptions) and outputs (copied from action.yml), so they
cannot drift, and runs the same code with the
runner's own Python on Linux, macOS and Windows: it installs the hash-pinned dependencies and
the package into a virtualenv under ``RUNNER_TEMP``, then runs ``capwrapper-action
github-action`` with every input passed through ``env:`` as ``INPUT_<NAME>``, the way the runner
passes inputs to a container (hyphens kept). No ``${{ }}`` expression appears inside a ``run:``
script: inputs reach the code only as environment variables, never as shell text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from capwrapper_action.config.inputs import action_inputs

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "action.yml"
TARGET = "portable/action.yml"
INSTALL_ID = "install"
RUN_ID = "run"
MIN_PYTHON = (3, 11)
MIN = f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]}"

HEADER = f"""\
# Generated from ../{SOURCE} by scripts/portable_action.py: do not edit by hand; run
# `python scripts/portable_action.py` after changing action.yml (a test fails when they differ).
#
# The composite variant of the action, for macOS and Windows runners (and Linux runners without
# Docker): same inputs and outputs, same code, run with the runner's Python {MIN}+.
#   uses: your-org/capwrapper-action/portable@<commit sha>
"""

INSTALL_SCRIPT = f"""\
# The runner's Python: python3 on Linux and macOS, python on Windows; {MIN} or newer.
runner_python=""
for candidate in python3 python python3.13 python3.12 python3.11; do
  if command -v "$candidate" >/dev/null 2>&1 &&
    "$candidate" -c 'import sys; sys.exit(sys.version_info < {MIN_PYTHON})' >/dev/null 2>&1; then
    runner_python=$candidate
    break
  fi
done
if [ -z "$runner_python" ]; then
  echo "::error title=Python {MIN} or newer needed::capwrapper-action/portable runs" \\
    "on the runner's Python: add actions/setup-python before this step."
  exit 1
fi
venv="$RUNNER_TEMP/capwrapper-action-venv"
"$runner_python" -m venv --clear "$venv"
if [ -x "$venv/bin/python" ]; then
  python="$venv/bin/python"
else
  python="$venv/Scripts/python.exe"  # Windows
fi
# The dependencies from the lock, each file checked against its hash; then the package.
"$python" -m pip install --disable-pip-version-check --no-input --quiet \\
  --require-hashes --no-deps -r "$GITHUB_ACTION_PATH/../requirements.txt"
"$python" -m pip install --disable-pip-version-check --no-input --quiet \\
  --no-deps "$GITHUB_ACTION_PATH/.."
echo "python=$python" >> "$GITHUB_OUTPUT"
"""

# `exec`: the runner's cancel signals reach Python itself, which stops and still reports.
RUN_SCRIPT = 'exec "$CAPWRAPPER_PYTHON" -m capwrapper_action.cli github-action\n'

RUN_ENV = {
    "CAPWRAPPER_PYTHON": f"${{{{ steps.{INSTALL_ID}.outputs.python }}}}",
    "PYTHONUTF8": "1",  # UTF-8 output on Windows too, where the console code page is not
    "PYTHONUNBUFFERED": "1",  # log lines as they happen
}


def input_variable(name: str) -> str:
    """``api-key`` -> ``INPUT_API-KEY``: what the runner sets for a container action."""
    return "INPUT_" + name.replace(" ", "_").upper()


def expression(text: str) -> str:
    return f"${{{{ {text} }}}}"


def portable(action: dict[str, Any]) -> dict[str, Any]:
    """The composite action for ``action`` (the parsed action.yml)."""
    outputs = {
        name: {**spec, "value": expression(f"steps.{RUN_ID}.outputs.{name}")}
        for name, spec in action["outputs"].items()
    }
    descriptions = {name: spec["description"] for name, spec in action["inputs"].items()}
    inputs = action_inputs(descriptions)
    env = {input_variable(name): expression(f"inputs.{name}") for name in inputs}
    env.update(RUN_ENV)
    steps = [
        {"name": "Install capwrapper-action", "id": INSTALL_ID, "shell": "bash",
         "run": INSTALL_SCRIPT},
        {"name": "Run capwrapper-action", "id": RUN_ID, "shell": "bash", "env": env,
         "run": RUN_SCRIPT},
    ]  # fmt: skip
    result: dict[str, Any] = {
        "name": f"{action['name']} (portable)",
        "description": f"{action['description']} Composite variant for Linux, macOS and "
        f"Windows runners, run with the runner's Python {MIN}+.",
    }
    for key in ("author", "branding"):
        if key in action:
            result[key] = action[key]
    result.update(inputs=inputs, outputs=outputs)
    result["runs"] = {"using": "composite", "steps": steps}
    return result


class _Dumper(yaml.SafeDumper):
    """Block style for scripts (``|``), insertion order kept, lists indented under keys."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render(action: dict[str, Any]) -> str:
    body = yaml.dump(
        portable(action), Dumper=_Dumper, sort_keys=False, width=80, allow_unicode=True
    )
    return HEADER + "\n" + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help=f"fail when {TARGET} is stale")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    action = yaml.safe_load((args.root / SOURCE).read_text(encoding="utf-8"))
    target = args.root / TARGET
    try:
        wanted = render(action)
    except ValueError as exc:
        print(exc)
        return 1
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != wanted:
            print(f"{TARGET} differs from {SOURCE}: run python scripts/portable_action.py")
            return 1
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
