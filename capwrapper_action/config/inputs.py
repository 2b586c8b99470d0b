"""The action's inputs, each declared once, in action.yml's order: name, kind, parser, default,
example of a right value, whether it is secret or may stand in the config file, and one line
for the command line's help.

Everything that knows about inputs reads this table: ``read_inputs`` (the ``INPUT_*``
variables), the config file (``file``), ``settings.parse_config`` (one ``Config`` field per
input, named after it), the command-line flags (``cli``), the README tables and
``portable/action.yml`` (``scripts/``); a unit test holds action.yml against it. Adding an
input: action.yml, one ``Input`` here (the type: ``input_spec``), a ``Config`` field, and the
code that uses it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from capwrapper_action.config import lists as C
from capwrapper_action.config import paths as P
from capwrapper_action.config import urls as U
from capwrapper_action.config import values as V
from capwrapper_action.config.input_spec import Context, Input, Kind
from capwrapper_action.release.semver import Bump

T = TypeVar("T")

# --- how each input is parsed ----------------------------------------------------------------


def _plain(parse: Callable[[Any], T]) -> Callable[[Any, Context], T]:
    return lambda value, _ctx: parse(value)


def _optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    return lambda text: parse(text) if text else None


def _flag(name: str) -> Callable[[str | bool, Context], bool]:
    return _plain(partial(V.boolean, name))


def _api_key(text: str, ctx: Context) -> str:
    return V.api_key(text, empty_problem=ctx.api_key_missing)


def _download_path(text: str, ctx: Context) -> Path:
    return P.workspace_path("download-path", text, workspace=ctx.workspace)


def _config_file(text: str, ctx: Context) -> Path | None:
    return P.config_file(text, workspace=ctx.workspace)


_NO_SECRETS_IN_FILE = "secrets do not belong in the repository; pass it in the workflow"
_TEXT, _BOOL, _LIST, _LINES, _MAP = Kind.TEXT, Kind.BOOLEAN, Kind.LIST, Kind.LINES, Kind.MAPPING

INPUTS: tuple[Input[Any], ...] = (
    Input("api-key", _TEXT, _api_key, required=True, secret=True,
          example="${{ secrets.CAPWRAPPER_API_KEY }}",
          help="Capwrapper API key (command line: the CAPWRAPPER_API_KEY variable)",
          not_in_file=_NO_SECRETS_IN_FILE + " from a secret"),
    Input("api-url", _TEXT, _plain(U.api_url), default="https://api.capwrapper.com/v1",
          example="https://api.capwrapper.com/v1", help="base URL of the Capwrapper API"),
    Input("app-url", _TEXT, _plain(_optional(U.app_url)), example="https://shop.example.com",
          help="public HTTPS URL of the web app to wrap"),
    Input("app-name", _TEXT, _plain(_optional(V.app_name)), example="Example Shop",
          help="app name on the home screen and in the store"),
    Input("bundle-id", _TEXT, _plain(_optional(V.bundle_id)), example="com.example.shop",
          help="reverse-domain bundle id"),
    Input("version", _TEXT, _plain(V.version), default="auto", example="1.4.0 (or auto)",
          help="semantic version to build, or auto (one bump above the highest built)"),
    Input("version-bump", _TEXT, _plain(partial(V.one_of, "version-bump", Bump)),
          default="patch", example="patch (or minor, major)",
          help="which part auto raises: patch, minor, major"),
    Input("platforms", _LIST, _plain(C.platforms), default="android, ios", fallback=(),
          example="android, ios", help="android and/or ios"),
    Input("permissions", _LIST, _plain(C.permissions), example="camera, gps, notifications",
          help="native permissions, separated by commas"),
    Input("build-options", _MAP,
          _plain(partial(C.options, "build-options", reserved=C.BUILD_RESERVED)),
          example='{"field": "value"} (or field: value lines)',
          help="YAML or JSON mapping merged into each create-build request"),
    Input("build-id", _LINES, _plain(C.build_id), field="resume", fallback=(),
          example="bld_abc123 (or android:bld_abc123, ios:bld_def456)",
          help="resume these builds instead of creating new ones"),
    Input("rebuild", _BOOL, _flag("rebuild"), default="false", example="false (or true)",
          help="make new builds even when this commit already has builds of these settings"),
    Input("wait", _BOOL, _flag("wait"), default="true", example="true (or false)",
          help="wait for the builds to finish"),
    Input("timeout", _TEXT, _plain(partial(V.duration, "timeout")), default="30m",
          example="30m (or 1800, 90s, 1h30m)", help="longest wait for all builds, as 45m or 1h30m"),
    Input("queue-timeout", _TEXT, _plain(_optional(partial(V.duration, "queue-timeout"))),
          example="10m (or empty for no separate limit)",
          help="fail early when a build is still queued after this long"),
    Input("poll-interval", _TEXT, _plain(V.poll_interval), default="auto",
          example="auto (or 15)", help="seconds between status checks, or auto"),
    Input("github-token", _TEXT, _plain(V.github_token), default="${{ github.token }}",
          secret=True, not_in_file=_NO_SECRETS_IN_FILE, example="${{ github.token }}",
          help="token to read the pull request's labels (command line: GITHUB_TOKEN variable)"),
    Input("deploy", _BOOL, _flag("deploy"), default="false", example="false (or true)",
          help="deploy the finished builds to the stores"),
    Input("deploy-labels", _LINES, _plain(C.deploy_labels), example="deploy, release",
          help="deploy only when the pull request carries one of these labels"),
    Input("deploy-options", _MAP,
          _plain(partial(C.options, "deploy-options", reserved=C.DEPLOY_RESERVED)),
          example='{"track": "internal"}', help="YAML or JSON mapping merged into each deploy"),
    Input("download", _BOOL, _flag("download"), default="false", example="false (or true)",
          help="download each successful build's binary"),
    Input("download-path", _TEXT, _download_path, default="capwrapper-artifacts",
          example="capwrapper-artifacts", help="folder for the binaries, in the workspace"),
    Input("summary", _BOOL, _flag("summary"), default="true", example="true (or false)",
          help="write the Markdown summary"),
    Input("summary-download-links", _BOOL, _flag("summary-download-links"), default="false",
          example="false (or true)", help="put the signed download links into the summary"),
    Input("pr-comment", _TEXT, _plain(partial(V.one_of, "pr-comment", V.PrComment)),
          default="auto", example="auto (or always, never)", fallback=V.PrComment.AUTO,
          help="comment on the pull request: auto, always or never"),
    Input("pr-comment-download-links", _BOOL, _flag("pr-comment-download-links"),
          default="false", example="false (or true)",
          help="put the signed download links into the pull request comment"),
    Input("config-file", _TEXT, _config_file, example=".github/capwrapper.yml",
          not_in_file="a config file cannot name another one",
          help="YAML file holding any of these settings (default: .github/capwrapper.yml)"),
    Input("dry-run", _BOOL, _flag("dry-run"), default="false", example="false (or true)",
          help="validate and print the requests that would be sent, sending nothing"),
)  # fmt: skip
BY_NAME: Mapping[str, Input[Any]] = {spec.name: spec for spec in INPUTS}
INPUT_NAMES: tuple[str, ...] = tuple(BY_NAME)
SECRET_INPUTS = frozenset(spec.name for spec in INPUTS if spec.secret)


def normalize(name: str, value: str) -> str:
    """Surrounding white space removed; for YAML inputs only blank lines and the common
    indentation, so that a block list or mapping keeps its shape."""
    kind = BY_NAME[name].kind
    if kind.multiline:
        value = value.replace("\r\n", "\n")
    if kind in (Kind.LIST, Kind.MAPPING):  # may be YAML in a block
        return textwrap.dedent(value.lstrip("\n").rstrip()).strip("\n")
    return value.strip()


def runner_default(spec: Input[Any]) -> str:
    """The default as the action sees it: an expression (``${{ github.token }}``), which only
    the runner can evaluate, reads as empty."""
    return "" if spec.default.startswith("${{") else spec.default


def read_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """Every declared input, normalized. The runner sets ``INPUT_API-KEY`` (hyphen kept);
    ``INPUT_API_KEY`` is read too, for people who run the image by hand. When both are set
    the hyphen form wins. An input that is not set gets its action.yml default."""
    values: dict[str, str] = {}
    for spec in INPUTS:
        hyphen = "INPUT_" + spec.name.upper()
        raw = env.get(hyphen, env.get(hyphen.replace("-", "_")))
        values[spec.name] = normalize(spec.name, runner_default(spec) if raw is None else raw)
    return values


def at_default(name: str, value: object) -> bool:
    """True when ``value`` (normalized text) is what the input holds when left out."""
    return value == normalize(name, runner_default(BY_NAME[name]))


def secrets_of(values: Mapping[str, object]) -> Sequence[str]:
    """The values of the secret inputs, to mask before anything is printed."""
    return [str(values.get(name) or "") for name in sorted(SECRET_INPUTS)]


def action_inputs(descriptions: Mapping[str, str]) -> dict[str, dict[str, object]]:
    """The ``inputs:`` of action.yml as this table declares them (names, order, required,
    defaults), with ``descriptions`` (action.yml's, longer than ``help``). The README tables
    and ``portable/action.yml`` are generated from it. Raises ``ValueError`` when the names
    differ from the table's."""
    missing = [spec.name for spec in INPUTS if spec.name not in descriptions]
    extra = [name for name in descriptions if name not in BY_NAME]
    if missing or extra:
        raise ValueError(
            "action.yml and the input table (capwrapper_action/config/inputs.py) differ: "
            f"not in action.yml: {', '.join(missing) or 'none'}; "
            f"not in the table: {', '.join(extra) or 'none'}"
        )
    inputs: dict[str, dict[str, object]] = {}
    for spec in INPUTS:
        inputs[spec.name] = {"description": descriptions[spec.name], "required": spec.required}
        if not spec.required:
            inputs[spec.name]["default"] = spec.default
    return inputs
