"""``capwrapper-action``: the same flow outside GitHub Actions (GitLab CI, Jenkins, a laptop).

Flags are named like the action's inputs (``--app-url``, ``--platforms``, …) and described by the
input table; the API key comes from ``CAPWRAPPER_API_KEY`` and the optional GitHub token from
``GITHUB_TOKEN``, never from a flag (flags end up in shell history and process lists). The log
goes to stderr and the outputs are printed to stdout as one JSON object (``builds`` and
``deploys`` as JSON arrays); ``--summary PATH`` writes the Markdown summary to a file.
``capwrapper-action simulator`` runs the API simulator; ``capwrapper-action github-action``
runs as a GitHub Actions step (the portable composite action).

Exit status: 0 when the run succeeded (or only created builds, or was a dry run), 1 when it
failed, timed out or was cancelled (the JSON is printed all the same), 2 when it could not start
(an unknown flag, no ``CAPWRAPPER_API_KEY``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from capwrapper_action import __version__
from capwrapper_action.cancel import Cancellation
from capwrapper_action.config.input_spec import Kind
from capwrapper_action.config.inputs import INPUTS, runner_default
from capwrapper_action.errors import CancelledError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.main import main as action_main
from capwrapper_action.main import run

# The secret inputs come from these variables, never from flags.
FROM_ENVIRONMENT = {"api-key": "CAPWRAPPER_API_KEY", "github-token": "GITHUB_TOKEN"}
KEY_VARIABLE = FROM_ENVIRONMENT["api-key"]
USAGE_ERROR = 2
JSON_OUTPUTS = ("builds", "deploys")  # printed as arrays, not as text holding JSON
SUMMARY_HELP = "write the Markdown summary (what a job summary would show) to this file"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capwrapper-action",
        description="Build (and optionally deploy) Capwrapper apps; prints the outputs as JSON.",
        epilog="The API key is read from CAPWRAPPER_API_KEY. "
        "Run `capwrapper-action simulator --help` for the offline API simulator. "
        "`capwrapper-action github-action` runs as a GitHub Actions step (INPUT_* variables).",
    )
    parser.add_argument("--version-info", action="version", version=f"%(prog)s {__version__}")
    for spec in INPUTS:
        if spec.secret:
            continue
        text = f"{spec.help} (default: {runner_default(spec) or 'empty'})"
        if spec.name == "summary":  # no job summary here: a file instead
            parser.add_argument("--summary", metavar="PATH", default=None, help=SUMMARY_HELP)
        elif spec.kind is Kind.BOOLEAN:
            parser.add_argument(
                f"--{spec.name}", nargs="?", const="true", default=None, metavar="true|false",
                help=text,
            )
        else:
            parser.add_argument(f"--{spec.name}", default=None, help=text)
    return parser


def inputs_environment(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, str]:
    """The environment the action would get from the runner: INPUT_* plus what is set already."""
    env = {k: v for k, v in environ.items() if not k.upper().startswith("INPUT_")}
    env.pop("GITHUB_OUTPUT", None)
    env.pop("GITHUB_STEP_SUMMARY", None)
    for spec in INPUTS:
        if spec.secret:
            value = environ.get(FROM_ENVIRONMENT[spec.name], "")
        elif spec.name == "summary":
            value = "true" if args.summary else "false"
        else:
            value = getattr(args, spec.name.replace("-", "_"))
        if value is not None:
            env[f"INPUT_{spec.name.upper()}"] = value
    return env


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulator"]:
        from capwrapper_simulator import main as simulator_main  # not in the image: lazy

        return simulator_main(argv[1:])
    if argv[:1] == ["github-action"]:
        return github_action(argv[1:])
    args = build_parser().parse_args(argv)
    if not os.environ.get(KEY_VARIABLE, "").strip():
        print(
            f"capwrapper-action: {KEY_VARIABLE} is not set: export your Capwrapper API key "
            f"(Settings > API Keys in the dashboard) as {KEY_VARIABLE}; it is never a flag.",
            file=sys.stderr,
        )
        return USAGE_ERROR
    if args.summary and not Path(args.summary).resolve().parent.is_dir():
        print(f"capwrapper-action: --summary {args.summary}: its folder does not exist",
              file=sys.stderr)
        return USAGE_ERROR
    debug = os.environ.get("RUNNER_DEBUG") == "1"
    io = ActionIO(sys.stderr, debug=debug, summary_path=args.summary or "")
    code = run_cancellable(inputs_environment(args, dict(os.environ)), io)
    print(json.dumps(printable(io.outputs), indent=2, sort_keys=True), flush=True)
    return code


def printable(outputs: dict[str, str]) -> dict[str, object]:
    """The outputs for stdout: ``builds`` and ``deploys`` as the arrays they hold."""
    shown: dict[str, object] = dict(outputs)
    for name in JSON_OUTPUTS:
        with contextlib.suppress(ValueError):  # never expected: keep the text rather than lose it
            shown[name] = json.loads(outputs.get(name) or "[]")
    return shown


def run_cancellable(env: dict[str, str], io: ActionIO) -> int:
    """``main.run`` with Ctrl-C (SIGINT) and SIGTERM ending the run as cancelled: the builds
    keep running, the outputs say how to resume."""
    cancellation = Cancellation(io)
    cancellation.install()
    try:
        return run(env, io=io, cancellation=cancellation)
    except CancelledError as err:  # a signal before the run could record it
        io.error(err.message, err.title)
        return 1
    finally:
        cancellation.restore()


def github_action(argv: Sequence[str]) -> int:
    """Run as a GitHub Actions step: inputs from ``INPUT_*``, workflow commands on stdout,
    outputs and summary to the runner's files. Used by the portable composite action."""
    if argv:
        print(f"capwrapper-action github-action takes no arguments, got {argv[0]!r}",
              file=sys.stderr)
        return USAGE_ERROR
    if not any(name.upper().startswith("INPUT_") for name in os.environ):
        print(
            "capwrapper-action github-action: no INPUT_* variables; this subcommand runs as "
            "a GitHub Actions step (the shell may have dropped names with hyphens: use bash)",
            file=sys.stderr,
        )
        return USAGE_ERROR
    return action_main()


if __name__ == "__main__":
    raise SystemExit(main())
