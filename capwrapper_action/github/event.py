"""Which commit the run builds, the pull request that produced it, and that pull request's labels.

``read_event`` reads the event the workflow was triggered by (no network):

- ``push``: the pushed head (``after``; ``GITHUB_SHA`` when absent or a branch deletion).
- ``pull_request`` / ``pull_request_target`` closed with ``merged: true``: the merge commit
  (``pull_request.merge_commit_sha``), the pull request number and the labels of the payload.
- any other pull request event (opened, synchronize, labeled, closed unmerged, …): the pull
  request's head commit (``pull_request.head.sha``). ``GITHUB_SHA`` is not used there on
  purpose: for ``pull_request`` it is a throw-away test merge commit, for
  ``pull_request_target`` the tip of the base branch — neither is the code of the pull request
  a preview build is made for.
- ``workflow_run``: the head commit of the run that triggered this one.
- ``workflow_dispatch``, ``release``, ``schedule`` and the rest: ``GITHUB_SHA``, the commit of
  the ref (for ``release``, ``target_commitish`` is often a branch name, not a commit).

``context.enrich`` adds what only the GitHub API knows.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
SOURCE_API = "api"
SOURCE_PAYLOAD = "event payload"
MAX_EVENT_BYTES = 32 * 1024 * 1024
MAX_LABELS = 100
MAX_LABEL_LENGTH = 100
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


@dataclass(frozen=True)
class PullDetails:
    """What a pull request says about itself: untrusted text, escaped wherever it is shown."""

    title: str = ""
    body: str = ""
    merged: bool = False  # merged, and this run's commit is its merge commit


@dataclass(frozen=True)
class GitHubContext:
    event_name: str
    repository: str  # owner/name, "" when unknown
    server_url: str  # https://github.com or the GHES host
    api_url: str  # https://api.github.com or https://HOST/api/v3
    commit_sha: str | None
    pull_request: int | None
    labels: tuple[str, ...]
    labels_source: str  # SOURCE_API, SOURCE_PAYLOAD, or "" when no labels were read
    from_fork: bool
    warnings: tuple[str, ...]
    pull: PullDetails | None = None  # None when no pull request, or none read
    commit_message: str | None = None  # from the event, when it carries one
    run_id: str = ""  # GITHUB_RUN_ID: the link to this run
    # Set when `deploy-labels` needs the labels and the GitHub API could not give them: the
    # gate then fails the step instead of deciding on what it could not see.
    labels_error: str = ""
    labels_hint: str = ""

    @property
    def run_url(self) -> str | None:
        base = self.repository_url
        return f"{base}/actions/runs/{self.run_id}" if base and self.run_id else None

    @property
    def release_path(self) -> bool:
        """A run for what a merged pull request brought: a push of its merge commit, or the
        pull request's ``closed`` event with ``merged: true``."""
        merged = self.pull is not None and self.pull.merged and self.pull_request is not None
        return merged and (self.event_name == "push" or self.event_name in PULL_REQUEST_EVENTS)

    @property
    def repository_url(self) -> str | None:
        return f"{self.server_url}/{self.repository}" if self.repository else None



def read_event(env: Mapping[str, str]) -> GitHubContext:
    """The context of the triggering event, from ``GITHUB_*`` and the event payload file."""
    event = env.get("GITHUB_EVENT_NAME", "").strip()
    warnings: list[str] = []
    payload = load_payload(env, event, warnings)
    ctx = GitHubContext(
        event_name=event,
        repository=env.get("GITHUB_REPOSITORY", "").strip(),
        server_url=(env.get("GITHUB_SERVER_URL") or "https://github.com").strip().rstrip("/"),
        api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").strip().rstrip("/"),
        commit_sha=_sha(env.get("GITHUB_SHA")),
        pull_request=None, labels=(), labels_source="", from_fork=False, warnings=(),
        run_id=env.get("GITHUB_RUN_ID", "").strip(),
    )
    if event in PULL_REQUEST_EVENTS:
        ctx = _from_pull_request(ctx, payload)
    elif event == "push":
        ctx = replace(
            ctx,
            commit_sha=_sha(payload.get("after")) or ctx.commit_sha,
            commit_message=_message_of(payload.get("head_commit")),
        )
    elif event == "workflow_run":
        ctx = _from_workflow_run(ctx, payload)
    if ctx.commit_sha is None and (event or payload):
        warnings.append(
            "Could not tell which commit triggered the run: the event names none and "
            "GITHUB_SHA is empty. The commit is left out of the outputs and the summary."
        )
    return replace(ctx, warnings=tuple(warnings))


def load_payload(env: Mapping[str, str], event: str, warnings: list[str]) -> Mapping[str, Any]:
    path = env.get("GITHUB_EVENT_PATH", "").strip()
    if not path:
        if event:
            warnings.append(_payload_warning(f"GITHUB_EVENT_PATH is not set for the {event} event"))
        return {}
    try:
        file = Path(path)
        if file.stat().st_size > MAX_EVENT_BYTES:
            raise ValueError("the file is larger than 32 MiB")
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        what = "cannot be read" if isinstance(exc, OSError) else "is not valid JSON"
        warnings.append(_payload_warning(f"the event file {path} {what} ({type(exc).__name__})"))
        return {}
    if not isinstance(data, dict):
        warnings.append(_payload_warning(f"the event file {path} does not hold a JSON object"))
        return {}
    return data


def _payload_warning(problem: str) -> str:
    return f"{problem}; using GITHUB_SHA as the commit, without pull request details."


def _from_pull_request(ctx: GitHubContext, payload: Mapping[str, Any]) -> GitHubContext:
    pr = _mapping(payload.get("pull_request"))
    number = _number(pr.get("number")) or _number(payload.get("number"))
    merged = payload.get("action") == "closed" and pr.get("merged") is True
    head = _mapping(pr.get("head")).get("sha")
    commit = _sha(pr.get("merge_commit_sha") if merged else head)
    return replace(
        ctx,
        commit_sha=commit or ctx.commit_sha,
        pull_request=number,
        labels=label_names(pr.get("labels")),
        labels_source=SOURCE_PAYLOAD if number else "",
        from_fork=is_fork(pr, ctx.repository),
        pull=pull_details(pr.get("title"), pr.get("body"), merged=merged) if number else None,
    )


def _from_workflow_run(ctx: GitHubContext, payload: Mapping[str, Any]) -> GitHubContext:
    run = _mapping(payload.get("workflow_run"))
    pulls = run.get("pull_requests")
    first = _mapping(pulls[0]) if isinstance(pulls, list) and pulls else {}
    return replace(
        ctx,
        commit_sha=_sha(run.get("head_sha")) or ctx.commit_sha,
        pull_request=_number(first.get("number")),
        commit_message=_message_of(run.get("head_commit")),
    )


MAX_TITLE = 1024
MAX_BODY = 65536  # GitHub's own limit for a pull request body


def pull_details(title: object, body: object, *, merged: bool) -> PullDetails:
    """Title and body as text (capped; a missing body is empty)."""
    return PullDetails(
        title=title[:MAX_TITLE] if isinstance(title, str) else "",
        body=body[:MAX_BODY] if isinstance(body, str) else "",
        merged=merged,
    )


def _message_of(commit: object) -> str | None:
    message = _mapping(commit).get("message")
    return message[:MAX_BODY] if isinstance(message, str) else None


def is_fork(pr: Mapping[str, Any], repository: str) -> bool:
    head = pr.get("head")
    if not isinstance(head, Mapping):
        return False
    head_repo = head.get("repo")
    if not isinstance(head_repo, Mapping):
        return True  # the head repository is gone: only a deleted fork does that
    head_name = head_repo.get("full_name")
    base_name = _mapping(_mapping(pr.get("base")).get("repo")).get("full_name") or repository
    if isinstance(head_name, str) and isinstance(base_name, str) and base_name:
        return head_name.lower() != base_name.lower()
    return head_repo.get("fork") is True


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sha(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    sha = value.strip().lower()
    return sha if _SHA.match(sha) and sha.strip("0") else None


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def label_names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    names = (_mapping(item).get("name") if not isinstance(item, str) else item for item in value)
    clean = (n.strip()[:MAX_LABEL_LENGTH] for n in names if isinstance(n, str) and n.strip())
    return tuple(dict.fromkeys(itertools.islice(clean, MAX_LABELS)))
