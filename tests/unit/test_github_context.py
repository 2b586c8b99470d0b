"""read_event for each kind of event, and enrich's decisions that need no network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from capwrapper_action.github.context import enrich
from capwrapper_action.github.event import SOURCE_API, SOURCE_PAYLOAD, GitHubContext, read_event

HEAD = "a" * 40
MERGE = "b" * 40
ENV_SHA = "c" * 40
REPO = "octo-org/shop-app"


def env_for(tmp_path: Path, event: str, payload: object | None) -> dict[str, str]:
    env = {
        "GITHUB_EVENT_NAME": event,
        "GITHUB_SHA": ENV_SHA,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
    }
    if payload is not None:
        path = tmp_path / "event.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        env["GITHUB_EVENT_PATH"] = str(path)
    return env


def pr_payload(
    action: str, *, merged: bool, labels: list[str], head_repo: str | None = REPO
) -> dict[str, Any]:
    return {
        "action": action,
        "number": 12,
        "pull_request": {
            "number": 12,
            "merged": merged,
            "merge_commit_sha": MERGE,
            "labels": [{"name": name, "color": "ededed"} for name in labels],
            "head": {
                "sha": HEAD,
                "repo": None if head_repo is None else {"full_name": head_repo, "fork": False},
            },
            "base": {"sha": ENV_SHA, "repo": {"full_name": REPO}},
        },
    }


def test_push_uses_the_pushed_head(tmp_path: Path) -> None:
    ctx = read_event(env_for(tmp_path, "push", {"after": HEAD, "ref": "refs/heads/main"}))
    assert (ctx.commit_sha, ctx.pull_request, ctx.labels, ctx.labels_source) == (HEAD, None, (), "")
    assert ctx.warnings == ()


def test_push_of_a_branch_deletion_falls_back_to_github_sha(tmp_path: Path) -> None:
    ctx = read_event(env_for(tmp_path, "push", {"after": "0" * 40, "deleted": True}))
    assert ctx.commit_sha == ENV_SHA


def test_merged_pull_request_uses_the_merge_commit_and_payload_labels(tmp_path: Path) -> None:
    payload = pr_payload("closed", merged=True, labels=["release", "docs"])
    ctx = read_event(env_for(tmp_path, "pull_request", payload))
    assert ctx.commit_sha == MERGE
    assert ctx.pull_request == 12
    assert ctx.labels == ("release", "docs")
    assert ctx.labels_source == SOURCE_PAYLOAD
    assert ctx.from_fork is False


def test_closed_unmerged_pull_request_uses_the_head_commit(tmp_path: Path) -> None:
    ctx = read_event(env_for(tmp_path, "pull_request", pr_payload("closed", merged=False,
                                                                   labels=[])))
    assert ctx.commit_sha == HEAD
    assert ctx.pull_request == 12


def test_open_pull_request_uses_the_head_commit_not_the_test_merge(tmp_path: Path) -> None:
    ctx = read_event(env_for(tmp_path, "pull_request", pr_payload("synchronize", merged=False,
                                                                   labels=["preview"])))
    assert ctx.commit_sha == HEAD
    assert ctx.labels == ("preview",)


def test_pull_request_target_merged_and_from_a_fork(tmp_path: Path) -> None:
    payload = pr_payload("closed", merged=True, labels=["Release"], head_repo="someone/shop-app")
    ctx = read_event(env_for(tmp_path, "pull_request_target", payload))
    assert ctx.commit_sha == MERGE
    assert ctx.from_fork is True
    assert ctx.labels == ("Release",)


def test_pull_request_from_a_deleted_fork_counts_as_a_fork(tmp_path: Path) -> None:
    payload = pr_payload("opened", merged=False, labels=[], head_repo=None)
    assert read_event(env_for(tmp_path, "pull_request_target", payload)).from_fork is True


def test_workflow_dispatch_uses_github_sha(tmp_path: Path) -> None:
    ctx = read_event(env_for(tmp_path, "workflow_dispatch", {"inputs": {"version": "1.2.3"}}))
    assert (ctx.commit_sha, ctx.pull_request, ctx.warnings) == (ENV_SHA, None, ())


def test_release_uses_github_sha_not_target_commitish(tmp_path: Path) -> None:
    payload = {"action": "published", "release": {"tag_name": "v1.2.0", "target_commitish": "main"}}
    ctx = read_event(env_for(tmp_path, "release", payload))
    assert ctx.commit_sha == ENV_SHA


def test_workflow_run_uses_the_head_commit_and_its_pull_request(tmp_path: Path) -> None:
    payload = {"workflow_run": {"head_sha": HEAD, "pull_requests": [{"number": 7}]}}
    ctx = read_event(env_for(tmp_path, "workflow_run", payload))
    assert (ctx.commit_sha, ctx.pull_request) == (HEAD, 7)


def test_missing_event_file_falls_back_to_github_sha_with_a_warning(tmp_path: Path) -> None:
    env = env_for(tmp_path, "push", None)
    env["GITHUB_EVENT_PATH"] = str(tmp_path / "absent.json")
    ctx = read_event(env)
    assert ctx.commit_sha == ENV_SHA
    assert len(ctx.warnings) == 1
    assert "cannot be read" in ctx.warnings[0]
    assert "GITHUB_SHA" in ctx.warnings[0]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\udcff"])
def test_unreadable_event_file_falls_back_with_a_warning(tmp_path: Path, content: str) -> None:
    env = env_for(tmp_path, "pull_request", None)
    path = tmp_path / "event.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    env["GITHUB_EVENT_PATH"] = str(path)
    ctx = read_event(env)
    assert ctx.commit_sha == ENV_SHA
    assert ctx.pull_request is None
    assert len(ctx.warnings) == 1


def test_event_name_without_event_path_warns(tmp_path: Path) -> None:
    ctx = read_event(env_for(tmp_path, "push", None))
    assert ctx.commit_sha == ENV_SHA
    assert "GITHUB_EVENT_PATH is not set" in ctx.warnings[0]


def test_outside_github_actions_there_is_nothing_to_warn_about() -> None:
    ctx = read_event({})
    assert (ctx.commit_sha, ctx.repository, ctx.warnings) == (None, "", ())
    assert ctx.repository_url is None
    assert ctx.api_url == "https://api.github.com"


def test_hostile_payload_values_are_ignored(tmp_path: Path) -> None:
    payload = {
        "action": "closed",
        "number": "12",
        "pull_request": {"number": True, "merged": "yes", "merge_commit_sha": "x; rm -rf /",
                         "labels": ["ok", {"name": 5}, {"name": "x" * 500}, None, {"name": " "}],
                         "head": {"sha": 42}},
    }
    ctx = read_event(env_for(tmp_path, "pull_request", payload))
    assert ctx.pull_request is None
    assert ctx.commit_sha == ENV_SHA
    assert ctx.labels == ("ok", "x" * 100)


def test_enterprise_urls_are_kept(tmp_path: Path) -> None:
    env = env_for(tmp_path, "push", {"after": HEAD})
    env["GITHUB_SERVER_URL"] = "https://ghe.example.com/"
    env["GITHUB_API_URL"] = "https://ghe.example.com/api/v3/"
    ctx = read_event(env)
    assert ctx.api_url == "https://ghe.example.com/api/v3"
    assert ctx.repository_url == f"https://ghe.example.com/{REPO}"


def test_read_event_does_not_import_pygithub(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "import capwrapper_action.github.context\n"
        "from capwrapper_action.github.event import read_event\n"
        "read_event(json.loads(sys.argv[1]))\n"
        "print(sorted(m for m in sys.modules if m == 'github' or m.startswith('github.')))\n"
    )
    env = json.dumps(env_for(tmp_path, "push", {"after": HEAD}))
    done = subprocess.run([sys.executable, "-c", code, env], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parents[2])
    assert done.stdout.strip() == "[]"


# -- enrich without the network -------------------------------------------------------------
def _ctx(**changes: Any) -> GitHubContext:
    base = GitHubContext(
        event_name="pull_request", repository=REPO, server_url="https://github.com",
        api_url="https://api.github.com", commit_sha=MERGE, pull_request=12,
        labels=("release",), labels_source=SOURCE_PAYLOAD, from_fork=False, warnings=(),
    )
    return GitHubContext(**{**base.__dict__, **changes})


def _no_factory(api_url: str, token: str) -> Any:
    raise AssertionError("the API must not be asked")


def test_enrich_skips_the_api_when_labels_are_not_needed_for_a_pull_request() -> None:
    ctx = _ctx()
    assert enrich(ctx, token="t", need_labels=False, github_factory=_no_factory) == ctx


def test_enrich_without_token_keeps_the_payload_and_says_why_labels_are_unread() -> None:
    out = enrich(_ctx(), token=" ", need_labels=True, github_factory=_no_factory)
    assert out.labels == ("release",)
    assert out.labels_source == SOURCE_PAYLOAD
    assert "`github-token` is empty" in out.labels_error
    assert "pull-requests: read" in out.labels_hint


def test_enrich_without_token_and_without_need_is_silent() -> None:
    ctx = _ctx(event_name="push", pull_request=None, labels=(), labels_source="")
    assert enrich(ctx, token="", need_labels=False, github_factory=_no_factory) == ctx


def test_enrich_failure_never_shows_the_token() -> None:
    secret = "ghs_SECRET_TOKEN_VALUE"

    def broken(api_url: str, token: str) -> Any:
        raise RuntimeError(f"boom {token}")

    out = enrich(_ctx(), token=secret, need_labels=True, github_factory=broken)
    assert out.labels_source == SOURCE_PAYLOAD
    assert "RuntimeError" in out.labels_error
    assert secret not in repr(out)


def test_source_constants() -> None:
    assert (SOURCE_API, SOURCE_PAYLOAD) == ("api", "event payload")
