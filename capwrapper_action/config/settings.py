"""The action's configuration: every input, merged with the config file, validated and typed
once, before anything is sent. ``parse_config`` reports every bad input at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from capwrapper_action.api.models import Platform
from capwrapper_action.config import lists as C
from capwrapper_action.config import urls as U
from capwrapper_action.config import values as V
from capwrapper_action.config.file import MergedInputs, merge_config_file
from capwrapper_action.config.inputs import (
    INPUT_DEFAULTS,
    INPUT_NAMES,
    MAPPING_INPUTS,
    MULTILINE_INPUTS,
    SECRET_INPUTS,
    normalize,
    workspace_of,
)
from capwrapper_action.errors import ActionError, ConfigError

T = TypeVar("T")
MAX_TEXT = 4096  # longest value of an ordinary input


@dataclass(frozen=True, slots=True)
class ResumeRef:
    build_id: str
    platform: Platform | None  # None when given as a bare id


@dataclass(frozen=True, slots=True)
class Config:
    api_key: str = field(repr=False)
    api_url: str  # no trailing slash
    app_url: str | None
    app_name: str | None
    bundle_id: str | None
    version: str  # a semver string or "auto"
    version_bump: str  # "patch" | "minor" | "major"
    platforms: tuple[Platform, ...]  # ordered, unique
    permissions: tuple[str, ...] | None  # None: omit from the body
    build_options: Mapping[str, Any] = field(hash=False)  # read-only, may be empty
    resume: tuple[ResumeRef, ...]  # from `build-id`; empty when creating
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
    config_file: Path | None  # the file that was read, if any
    dry_run: bool
    workspace: Path


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

    def __init__(self, merged: MergedInputs, workspace: Path) -> None:
        self.values = merged.values
        self.workspace = workspace
        self.errors: list[ConfigError] = []
        file = merged.config_file
        self.source = file.relative_to(workspace).as_posix() if file else ""
        self.from_file = merged.from_file

    def get(self, name: str, parse: Callable[[str], T], fallback: T) -> T:
        text = self.values.get(name, "")
        limit = C.MAX_MAPPING_BYTES if name in MAPPING_INPUTS else MAX_TEXT
        try:
            V.check_text(
                name,
                text,
                limit=limit,
                multiline=name in MULTILINE_INPUTS,
                secret=name in SECRET_INPUTS,
            )
            return parse(text)
        except ConfigError as exc:
            self.add(exc)
            return fallback

    def flag(self, name: str, fallback: bool) -> bool:
        return self.get(name, lambda text: V.boolean(name, text), fallback)

    def add(self, exc: ConfigError) -> None:
        if exc.input_name in self.from_file:
            problem = f"{exc.problem.rstrip('.')} (set in {self.source})."
            exc = ConfigError(exc.input_name, problem, exc.example)
        self.errors.append(exc)

    def failed(self, name: str) -> bool:
        return any(e.input_name == name for e in self.errors)

    def raise_errors(self) -> None:
        if not self.errors:
            return
        errors = sorted(self.errors, key=lambda e: INPUT_NAMES.index(e.input_name))
        if len(errors) == 1:
            raise errors[0]
        raise ConfigErrors(errors)


def _optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    return lambda text: parse(text) if text else None


def _download_path(workspace: Path) -> Callable[[str], Path]:
    return lambda text: V.download_path(text, workspace=workspace)


def _duration(name: str) -> Callable[[str], float]:
    return lambda text: V.duration(name, text)


def _options(name: str, reserved: Mapping[str, str]) -> Callable[[str], Mapping[str, Any]]:
    return lambda text: C.options(name, text, reserved=reserved)


def _resume(text: str) -> tuple[ResumeRef, ...]:
    return tuple(ResumeRef(build_id, platform) for build_id, platform in C.build_id(text))


def parse_config(raw: Mapping[str, str], *, env: Mapping[str, str]) -> Config:
    """``raw`` (from ``inputs.read_inputs``) merged with the config file and validated.
    Raises ``ConfigError`` for one bad input, ``ConfigErrors`` for several."""
    workspace = workspace_of(env)
    V.check_text(
        "config-file", raw.get("config-file", ""), limit=1024, multiline=False, secret=False
    )
    merged = merge_config_file(raw, workspace=workspace)
    p = _Parser(merged, workspace)
    config = _read_inputs(p, merged.config_file, empty_key=empty_api_key_problem(env))
    config = _check_together(config, p)
    p.raise_errors()
    return config


def _read_inputs(p: _Parser, config_file: Path | None, *, empty_key: str) -> Config:
    """Every input through its parser; a bad one leaves a fallback value and an error in ``p``."""
    workspace = p.workspace
    return Config(
        api_key=p.get("api-key", lambda t: V.api_key(t, empty_problem=empty_key), ""),
        api_url=p.get("api-url", U.api_url, ""),
        app_url=p.get("app-url", _optional(U.app_url), None),
        app_name=p.get("app-name", _optional(V.app_name), None),
        bundle_id=p.get("bundle-id", _optional(V.bundle_id), None),
        version=p.get("version", V.version, "auto"),
        version_bump=p.get("version-bump", V.version_bump, "patch"),
        platforms=p.get("platforms", C.platforms, ()),
        permissions=p.get("permissions", C.permissions, None),
        build_options=p.get("build-options", _options("build-options", C.BUILD_RESERVED), {}),
        resume=p.get("build-id", _resume, ()),
        wait=p.flag("wait", True),
        timeout=p.get("timeout", _duration("timeout"), 0.0),
        queue_timeout=p.get("queue-timeout", _optional(_duration("queue-timeout")), None),
        poll_interval=p.get("poll-interval", V.poll_interval, None),
        github_token=p.get("github-token", V.github_token, ""),
        deploy=p.flag("deploy", False),
        deploy_labels=p.get("deploy-labels", C.deploy_labels, ()),
        deploy_options=p.get("deploy-options", _options("deploy-options", C.DEPLOY_RESERVED), {}),
        download=p.flag("download", False),
        download_path=p.get("download-path", _download_path(workspace), workspace),
        summary=p.flag("summary", True),
        summary_download_links=p.flag("summary-download-links", False),
        config_file=config_file,
        dry_run=p.flag("dry-run", False),
        workspace=workspace,
    )


def _check_together(config: Config, p: _Parser) -> Config:
    """Rules across inputs: what a new build needs, and platforms named by ``build-id``."""
    if not config.resume and not p.failed("build-id"):
        for name in ("app-url", "app-name", "bundle-id"):
            if not p.values.get(name) and not p.failed(name):
                p.add(
                    ConfigError(
                        name,
                        "is empty; it is required unless 'build-id' is given (set it in the "
                        "workflow or in the config file).",
                        V.EXAMPLES[name],
                    )
                )
    named = tuple(ref.platform for ref in config.resume if ref.platform is not None)
    if not named or len(named) < len(config.resume):
        return config  # a bare id: the API tells the platform later
    chosen = p.values.get("platforms", "")
    at_default = chosen == normalize("platforms", INPUT_DEFAULTS["platforms"])
    if not at_default and not p.failed("platforms") and set(named) != set(config.platforms):
        p.add(
            ConfigError(
                "build-id",
                f"names {', '.join(named)} but 'platforms' is "
                f"{', '.join(config.platforms)}; leave 'platforms' out when resuming.",
                V.EXAMPLES["build-id"],
            )
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
    from capwrapper_action.github.event import is_fork, load_payload

    pull = load_payload(env, event, warnings=[]).get("pull_request")
    return isinstance(pull, Mapping) and is_fork(pull, env.get("GITHUB_REPOSITORY", ""))
