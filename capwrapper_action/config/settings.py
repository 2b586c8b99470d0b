"""The action's configuration: every input, merged with the config file, validated and typed
once, before anything is sent. ``parse_config`` reports every bad input at once."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from capwrapper_action.api.models import Platform
from capwrapper_action.config import values as V
from capwrapper_action.config.file import MergedInputs, merge_config_file
from capwrapper_action.config.input_spec import Context, Input
from capwrapper_action.config.inputs import BY_NAME, INPUT_NAMES, INPUTS, at_default
from capwrapper_action.config.lists import ResumeRef
from capwrapper_action.config.paths import DEFAULT_CONFIG_FILE
from capwrapper_action.errors import ActionError, ConfigError
from capwrapper_action.ghio import Setting, workflow_setting
from capwrapper_action.github.event import is_fork, load_payload
from capwrapper_action.release.semver import Auto, Bump, Version


@dataclass(frozen=True, slots=True)
class Config:
    """One field per input of ``inputs.INPUTS`` (same order, a test holds them together)."""

    api_key: str = field(repr=False)
    api_url: str  # no trailing slash
    app_url: str | None
    app_name: str | None
    bundle_id: str | None
    version: Version | Auto
    version_bump: Bump
    platforms: tuple[Platform, ...]  # ordered, unique
    permissions: tuple[str, ...] | None  # None: omit from the body
    build_options: Mapping[str, Any] = field(hash=False)  # read-only, may be empty
    resume: tuple[ResumeRef, ...]  # from `build-id`; empty when creating
    rebuild: bool  # new builds even when this commit already has some (re-runs adopt them)
    wait: bool
    timeout: float  # seconds
    queue_timeout: float | None
    poll_interval: float | None  # None means auto
    github_token: str = field(repr=False)
    deploy: bool
    deploy_labels: tuple[str, ...]
    deploy_options: Mapping[str, Any] = field(hash=False)
    download: bool
    download_path: Path  # absolute, inside the workspace
    summary: bool
    summary_download_links: bool
    pr_comment: V.PrComment
    pr_comment_download_links: bool
    config_file: Path | None  # the file that was read, if any
    dry_run: bool
    workspace: Path
    from_file: frozenset[str]  # the inputs the config file set
    warnings: tuple[str, ...] = ()  # values taken as given that may not mean what was meant


class ConfigErrors(ConfigError):
    """Several inputs are wrong. The message names each of them on its own line; ``errors``
    holds the single errors (in action.yml order), ``input_name`` the first one's input."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        names = [e.input_name for e in errors]
        lines = [f"{len(errors)} inputs are invalid:", *(f"- {e}" for e in errors)]
        ActionError.__init__(self, "\n".join(lines), title="Invalid inputs: " + ", ".join(names))
        self.errors = tuple(errors)
        self.input_names = tuple(names)
        self.input_name = names[0]
        self.problem = errors[0].problem
        self.example = errors[0].example


class _Parser:
    """Runs each input's parser, keeping the first error of every input."""

    def __init__(self, merged: MergedInputs, ctx: Context, setting: Setting) -> None:
        self.values = merged.values
        self.ctx = ctx
        self.errors: list[ConfigError] = []
        file = merged.config_file
        self.source = file.relative_to(ctx.workspace).as_posix() if file else ""
        self.from_file = merged.from_file
        self.setting = setting

    def get(self, spec: Input[Any]) -> Any:
        try:
            return spec.read(self.values.get(spec.name, ""), self.ctx)
        except ConfigError as exc:
            self.add(exc)
            return spec.fallback

    def add(self, exc: ConfigError) -> None:
        if exc.input_name in self.from_file:
            problem = f"{exc.problem.rstrip('.')} (set in {self.source})."
            exc = ConfigError(exc.input_name, problem, exc.example)
        self.errors.append(exc)

    def refuse(self, name: str, problem: str) -> None:
        """A rule across inputs is broken: ``problem`` of input ``name``, with its example."""
        self.add(ConfigError(name, problem, BY_NAME[name].example))

    def failed(self, name: str) -> bool:
        return any(e.input_name == name for e in self.errors)

    def raise_errors(self) -> None:
        if not self.errors:
            return
        errors = sorted(self.errors, key=lambda e: INPUT_NAMES.index(e.input_name))
        if len(errors) == 1:
            raise errors[0]
        raise ConfigErrors(errors)


def workspace_of(env: Mapping[str, str]) -> Path:
    """``GITHUB_WORKSPACE`` (``/github/workspace`` in the container) or the current folder."""
    return Path(env.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()


def parse_config(
    raw: Mapping[str, str], *, env: Mapping[str, str], setting: Setting = workflow_setting
) -> Config:
    """``raw`` (from ``inputs.read_inputs``) merged with the config file and validated.
    Raises ``ConfigError`` for one bad input, ``ConfigErrors`` for several. ``setting`` says
    how the user sets an input (``ActionIO.setting``), for the hints."""
    workspace = workspace_of(env)
    merged = merge_config_file(raw, workspace=workspace)
    ctx = Context(workspace, api_key_missing=empty_api_key_problem(env))
    p = _Parser(merged, ctx, setting)
    values = {spec.attribute: p.get(spec) for spec in INPUTS}
    config = Config(**values, workspace=workspace, from_file=merged.from_file)
    config = _check_together(config, p)
    p.raise_errors()
    found = (V.unitless_warning(name, p.values.get(name)) for name in ("timeout", "queue-timeout"))
    return replace(config, warnings=tuple(text for text in found if text))


def _check_together(config: Config, p: _Parser) -> Config:
    """Rules across inputs: what a new build needs, what deploying and downloading need, and
    the platforms named by ``build-id``."""
    if not config.resume and not p.failed("build-id"):
        _required(config, p)
        if config.bundle_id is not None and not p.failed("platforms"):
            for platform in config.platforms:
                try:
                    V.bundle_id_for(config.bundle_id, platform)
                except ConfigError as exc:
                    p.add(BY_NAME["bundle-id"].explain(exc))
                    break
    needs = [name for name in ("deploy", "download") if getattr(config, name)]
    if not config.wait and needs and not p.failed("wait"):
        what = " and ".join(f"'{name}'" for name in needs)
        off = ", ".join(f"`{p.setting(name, 'false')}`" for name in needs)
        p.refuse(
            "wait",
            f"is false, but {what} {'is' if len(needs) == 1 else 'are'} true: only a finished "
            "build can be deployed or downloaded, so the action must wait for the builds. "
            f"Set `{p.setting('wait', 'true')}`, or {off}.",
        )
    return _resume_platforms(config, p)


def _required(config: Config, p: _Parser) -> None:
    """app-url, app-name and bundle-id, unless resuming; say when no config file was found
    (the usual cause: no checkout step before this one)."""
    if config.config_file is not None:
        where = f"or set it in {p.source}"
    else:
        where = (
            f"or set it in {DEFAULT_CONFIG_FILE}, which was not found in the workspace; if the "
            "settings live there, check out the repository first (actions/checkout before "
            "this step)"
        )
    for name in ("app-url", "app-name", "bundle-id"):
        if getattr(config, name.replace("-", "_")) is None and not p.failed(name):
            given = p.setting(name, BY_NAME[name].example)
            problem = f"is empty; it is required unless 'build-id' is given: give `{given}`, "
            problem += f"{where}."
            p.refuse(name, problem)


def _resume_platforms(config: Config, p: _Parser) -> Config:
    named = tuple(ref.platform for ref in config.resume if ref.platform is not None)
    if not named or len(named) < len(config.resume):
        return config  # a bare id: the API tells the platform later
    chosen = at_default("platforms", p.values.get("platforms", ""))
    if not chosen and not p.failed("platforms") and set(named) != set(config.platforms):
        p.refuse(
            "build-id",
            f"names {', '.join(named)} but 'platforms' is {', '.join(config.platforms)}; "
            "leave 'platforms' out when resuming.",
        )
    return replace(config, platforms=named)


# --- an empty api-key ------------------------------------------------------------------------


def empty_api_key_problem(env: Mapping[str, str]) -> str:
    """What to say when ``api-key`` is empty: the usual causes differ by trigger."""
    if env.get("GITHUB_ACTOR") == "dependabot[bot]":
        return (
            "is empty: workflows triggered by Dependabot get only Dependabot secrets; add the "
            "key under Settings > Secrets and variables > Dependabot as well"
        )
    if from_fork(env):
        return (
            "is empty: this run was triggered by a pull request from a fork, and GitHub does not "
            "give secrets to workflows triggered from forks. Build after merging (on push), or "
            "let a maintainer start it (workflow_dispatch); pull_request_target does get "
            "secrets, but then never build the fork's code without reviewing it first"
        )
    return (
        "is empty: pass the key from a secret. A secret that is not set, misspelt, or not "
        "available to this repository or environment reads as an empty string"
    )


def from_fork(env: Mapping[str, str]) -> bool:
    """True for a pull_request-type event whose head repository is not this repository."""
    event = env.get("GITHUB_EVENT_NAME", "")
    if not event.startswith("pull_request") or event == "pull_request_target":
        return False
    pull = load_payload(env, event, warnings=[]).get("pull_request")
    return isinstance(pull, Mapping) and is_fork(pull, env.get("GITHUB_REPOSITORY", ""))
