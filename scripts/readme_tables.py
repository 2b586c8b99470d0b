"""Generate the README's inputs and outputs tables (they must never drift): the inputs from
the input table (``capwrapper_action/config/inputs.py``) with action.yml's descriptions, the
outputs from action.yml.

    python scripts/readme_tables.py          # rewrite README.md in place
    python scripts/readme_tables.py --check  # exit 1 when README.md is out of date

The tables stand between ``<!-- inputs:start -->``/``<!-- inputs:end -->`` and the same
markers for outputs.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from capwrapper_action.config.inputs import action_inputs

ROOT = Path(__file__).resolve().parent.parent


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def inputs_table(action: dict[str, Any]) -> str:
    rows = ["| input | required | default | description |", "|---|---|---|---|"]
    descriptions = {name: spec["description"] for name, spec in action["inputs"].items()}
    for name, spec in action_inputs(descriptions).items():
        default = spec.get("default", "")
        shown = f"`{default}`" if default not in ("", None) else ""
        required = "yes" if spec.get("required") else ""
        rows.append(f"| `{name}` | {required} | {_cell(shown)} | {_cell(spec['description'])} |")
    return "\n".join(rows)


def outputs_table(action: dict[str, Any]) -> str:
    rows = ["| output | description |", "|---|---|"]
    for name, spec in action["outputs"].items():
        rows.append(f"| `{name}` | {_cell(spec['description'])} |")
    return "\n".join(rows)


def render(readme: str, action: dict[str, Any]) -> str:
    for marker, table in (("inputs", inputs_table(action)), ("outputs", outputs_table(action))):
        pattern = re.compile(rf"<!-- {marker}:start -->\n.*?<!-- {marker}:end -->", re.DOTALL)
        found = pattern.search(readme)
        if not found:
            raise SystemExit(f"README.md has no <!-- {marker}:start --> … end markers")
        block = f"<!-- {marker}:start -->\n{table}\n<!-- {marker}:end -->"
        readme = readme[: found.start()] + block + readme[found.end() :]
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when README.md is stale")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    action = yaml.safe_load((args.root / "action.yml").read_text(encoding="utf-8"))
    readme_path = args.root / "README.md"
    current = readme_path.read_text(encoding="utf-8")
    try:
        wanted = render(current, action)
    except ValueError as exc:
        print(exc)
        return 1
    if args.check:
        if wanted != current:
            print("README.md tables differ from the inputs: run python scripts/readme_tables.py")
            return 1
        return 0
    readme_path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
