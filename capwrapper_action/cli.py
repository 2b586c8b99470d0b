"""``capwrapper-action``: the same flow outside GitHub Actions (GitLab CI, Jenkins, a laptop).

Flags are named like the action's inputs (``--app-url``, ``--platforms``, …); the API key comes
from ``CAPWRAPPER_API_KEY`` and the optional GitHub token from ``GITHUB_TOKEN``, never from a flag
(flags end up in shell history and process lists). The log goes to stderr and the outputs are
printed to stdout as one JSON object. ``capwrapper-action simulator`` runs the API simulator.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from capwrapper_action import __version__
from capwrapper_action.inputs import INPUT_DEFAULTS

BOOLEAN_INPUTS = ("wait", "deploy", "download", "summary", "summary-download-links", "dry-run")
FROM_ENVIRONMENT = {"api-key": "CAPWRAPPER_API_KEY", "github-token": "GITHUB_TOKEN"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capwrapper-action",
        description="Build (and optionally deploy) Capwrapper apps; prints the outputs as JSON.",
        epilog="The API key is read from CAPWRAPPER_API_KEY. "
        "Run `capwrapper-action simulator --help` for the offline API simulator.",
    )
    parser.add_argument("--version-info", action="version", version=f"%(prog)s {__version__}")
    for name, default in INPUT_DEFAULTS.items():
        if name in FROM_ENVIRONMENT:
            continue
        shown = default if not default.startswith("${{") else ""
        if name in BOOLEAN_INPUTS:
            parser.add_argument(
                f"--{name}", nargs="?", const="true", default=None, metavar="true|false",
                help=f"(default: {shown})",
            )
        else:
            parser.add_argument(f"--{name}", default=None, help=f"(default: {shown or 'empty'})")
    return parser


def inputs_environment(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, str]:
    """The environment the action would get from the runner: INPUT_* plus what is set already."""
    env = {k: v for k, v in environ.items() if not k.upper().startswith("INPUT_")}
    env.pop("GITHUB_OUTPUT", None)
    env.pop("GITHUB_STEP_SUMMARY", None)
    for name in INPUT_DEFAULTS:
        if name in FROM_ENVIRONMENT:
            value = environ.get(FROM_ENVIRONMENT[name], "")
        else:
            value = getattr(args, name.replace("-", "_"))
        if value is not None:
            env[f"INPUT_{name.upper()}"] = value
    return env


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulator"]:
        from capwrapper_action.simulator import main as simulator_main

        return simulator_main(argv[1:])
    args = build_parser().parse_args(argv)
    from capwrapper_action.ghio import ActionIO
    from capwrapper_action.main import run

    io = ActionIO(sys.stderr, debug=os.environ.get("RUNNER_DEBUG") == "1")
    code = run(inputs_environment(args, dict(os.environ)), io=io)
    print(json.dumps(io.outputs, indent=2, sort_keys=True))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
