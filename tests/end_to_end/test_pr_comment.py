"""The pull request hears from the action, through the whole action: the living comment of a
pull request run, the "released in" note of a release run, and placeholders in the request
bodies. The image runs under the runner's environment against the API simulator and the
GitHub API stand-in."""

from __future__ import annotations

import json
from typing import Any

from capwrapper_simulator import Simulator
from capwrapper_simulator.faults import Fault
from tests.end_to_end.docker_mirror import ActionImage
from tests.github_standin import GitHubStandin
from tests.markdown_text import outside_code_blocks
from tests.runner_files import DEFAULT_REPOSITORY, DEFAULT_SHA, RunnerEnv
from tests.standin_comments import StandinComment

TOKEN = "ghs_runner-test-token"  # what tests.runner_files passes as github-token
HEAD = "4" * 40
NEW_HEAD = "5" * 40
MARKER = "<!-- capwrapper-action:pr-comment bundle-id=com.example.shop platforms=android,ios -->"
RELEASED = "<!-- capwrapper-action:released bundle-id=com.example.shop platforms=android,ios -->"
HOSTILE_TITLE = "<img src=x onerror=alert(1)> @everyone [click](javascript:alert(1)) --> |"
HOSTILE_BODY = "## Hi\n<script>alert(1)</script>\n::error::injected\n${version} $(id)"


def given(sim: Simulator, **extra: str) -> dict[str, str]:
    inputs = {
        "api-key": "sim-key", "api-url": sim.base_url, "app-url": "https://shop.example.com",
        "app-name": "Example Shop", "bundle-id": "com.example.shop", "poll-interval": "1",
    }  # fmt: skip
    inputs.update({k.replace("_", "-"): v for k, v in extra.items()})
    return inputs


def pull_request_event(
    title: str = "Add login", body: str = "Adds a login page.", head: str = HEAD
) -> dict[str, Any]:
    repo = {"full_name": DEFAULT_REPOSITORY}
    return {
        "action": "synchronize", "number": 12,
        "pull_request": {
            "number": 12, "title": title, "body": body, "merged": False,
            "labels": [{"name": "preview"}],
            "head": {"sha": head, "ref": "feature/login", "repo": repo}, "base": {"repo": repo},
        },
    }  # fmt: skip


def run(
    image: ActionImage, runner: RunnerEnv, github: GitHubStandin, inputs: dict[str, str],
    *, run_id: str = "7301234567", attempt: str = "1",
) -> tuple[int, str, dict[str, str]]:
    runner.env.update(GITHUB_API_URL=github.url, GITHUB_RUN_ID=run_id, GITHUB_RUN_ATTEMPT=attempt)
    for path in (runner.output, runner.summary):
        path.write_bytes(b"")  # fresh file commands for every step, as the runner makes them
    proc = image.run(runner.with_inputs(inputs), runner.workspace, timeout=60)
    log = proc.stdout + proc.stderr
    assert "Traceback" not in log, log
    return proc.returncode, log, runner.outputs()


def only_comment(github: GitHubStandin) -> StandinComment:
    (comment,) = github.comments_on(12)
    return comment


COMMENT_ENDPOINTS = ("issue", "issue_comments", "comment")


def comment_writes(github: GitHubStandin) -> list[str]:
    """The comment writes (commit statuses are written too, by another part of the action)."""
    return [
        f"{r.method} {r.endpoint}"
        for r in github.requests
        if r.method != "GET" and r.endpoint in COMMENT_ENDPOINTS
    ]


def test_second_run_edits_the_first_runs_comment(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.add_pull(12, ["preview"], head_sha=HEAD)
    runner_env.set_event("pull_request", pull_request_event())
    code, log, out = run(action_image, runner_env, github, given(sim))
    assert code == 0, log
    comment = only_comment(github)
    assert comment.body.startswith(MARKER)
    assert "building" in comment.bodies[0]  # written when the builds were created
    assert "builds succeeded" in comment.body
    assert out["android-build-id"] in comment.body
    assert f"/commit/{HEAD}" in comment.body
    assert "/actions/runs/7301234567" in comment.body
    assert comment_writes(github) == ["POST issue_comments", "PATCH comment"]

    github.requests.clear()
    runner_env.set_event("pull_request", pull_request_event(head=NEW_HEAD))  # a new push
    code, log, out = run(action_image, runner_env, github, given(sim), run_id="7301234999")
    assert code == 0, log
    assert only_comment(github) is comment
    assert comment_writes(github) == ["PATCH comment", "PATCH comment"]
    assert out["version"] == "1.0.1"
    assert "1.0.1" in comment.body
    assert out["ios-build-id"] in comment.body
    assert f"/commit/{NEW_HEAD}" in comment.body
    assert "Pull request #12: comment edited." in log


def test_matrix_of_two_bundle_ids_keeps_two_comments(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.add_pull(12, [], head_sha=HEAD)
    runner_env.set_event("pull_request", pull_request_event())
    for bundle in ("com.example.shop", "com.example.admin", "com.example.shop"):
        code, log, _ = run(action_image, runner_env, github,
                           given(sim, bundle_id=bundle, platforms="android"))  # fmt: skip
        assert code == 0, log
    firsts = sorted(c.body.split("\n", 1)[0] for c in github.comments_on(12))
    android = MARKER.replace("android,ios", "android")
    assert firsts == [android.replace("shop", "admin"), android]


def test_rerun_of_a_release_edits_its_note(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.add_pull(12, ["release"], head_sha=HEAD, merge_commit_sha=DEFAULT_SHA, merged=True)
    sim.faults.add(Fault(endpoint="create_deploy", kind="http_error", status=400))
    inputs = given(sim, deploy="true", deploy_labels="release", deploy_options="track: beta")
    code, log, _ = run(action_image, runner_env, github, inputs)  # a push of the merge commit
    assert code == 1, log
    note = only_comment(github)
    assert note.body.startswith(RELEASED)
    assert "Release of Example Shop 1.0.0: failed" in note.body

    code, log, out = run(action_image, runner_env, github, inputs, attempt="2")
    assert code == 0, log
    assert only_comment(github) is note
    assert note.edits == 1
    # The API answered the deploys `queued`: submitted, not released, to no store it named.
    assert f"### 📤 Example Shop {out['version']}: submitted to the stores (queued)" in note.body
    for platform in ("android", "ios"):
        deploy_id = out[f"{platform}-deploy-id"]
        assert f"`{deploy_id}`: submitted to the store, queued (track: beta)" in note.body
    assert "Released" not in note.body
    assert "Google Play" not in note.body
    assert f"Merge commit [`{DEFAULT_SHA[:7]}`]" in note.body


def test_never_writes_nothing(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.add_pull(12, [], head_sha=HEAD, merge_commit_sha=DEFAULT_SHA, merged=True)
    runner_env.set_event("pull_request", pull_request_event())
    code, log, _ = run(action_image, runner_env, github, given(sim, pr_comment="never"))
    assert code == 0, log
    runner_env.set_event("push", {"after": DEFAULT_SHA})
    code, log, _ = run(action_image, runner_env, github, given(sim, pr_comment="never"))
    assert code == 0, log
    assert github.comments == {}
    assert not [r for r in github.requests if r.endpoint in COMMENT_ENDPOINTS]


def test_read_only_token_warns_once_and_the_step_succeeds(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.tokens.clear()
    github.add_token(TOKEN, can_write_pulls=False)
    github.add_pull(12, [], head_sha=HEAD)
    runner_env.set_event("pull_request", pull_request_event())
    code, log, out = run(action_image, runner_env, github, given(sim))
    assert code == 0, log
    assert out["status"] == "success"
    assert log.count("::warning title=Pull request comment::") == 1
    assert "pull-requests: write" in log
    assert comment_writes(github) == ["POST issue_comments"]

    code, log, out = run(action_image, runner_env, github, given(sim, pr_comment="always"))
    assert code == 1, log
    assert out["status"] == "failed"
    assert "::error title=Pull request comment::" in log


def test_hostile_title_and_body_stay_inert_and_reach_the_deploy_as_plain_text(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.add_pull(12, [], head_sha=HEAD)
    runner_env.set_event("pull_request", pull_request_event(HOSTILE_TITLE, HOSTILE_BODY))
    options = "track: '${pr.title}'\nreleaseNotes: '${pr.body}'"
    code, log, out = run(action_image, runner_env, github,
                         given(sim, deploy="true", deploy_options=options))  # fmt: skip
    assert code == 0, log
    assert [d.fields for d in sim.deploys()] == [
        {"track": HOSTILE_TITLE, "releaseNotes": HOSTILE_BODY}
    ] * 2
    assert "::error::injected" not in log
    assert "$(id)" not in log
    comment = only_comment(github)
    assert comment.body.count("<!--") == 1
    shown = outside_code_blocks(comment.body)
    for raw in ("<img", "<script", "](javascript", " @everyone"):
        assert raw not in shown, raw
    assert "&lt;img src=x onerror=alert\\(1\\)&gt; \\@everyone" in shown  # the track, escaped
    assert "<img" not in runner_env.summary_text()
    assert out["deployed"] == "true"


def test_placeholders_reach_the_deploy_body(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.add_pull(12, ["release", "ios"], head_sha=HEAD, merge_commit_sha=DEFAULT_SHA,
                    merged=True, title="Add login", body="Adds a login page.")  # fmt: skip
    options = (
        "track: beta\n"
        "releaseNotes: '${pr.title} (#${pr.number}, ${version})'\n"
        "details:\n  body: '${pr.body}'\n  labels: '${pr.labels}'\n"
        "  commit: '${commit.sha}'\n  message: '${commit.message}'\n"
        "literal: '$${version} and ${{ github.sha }}'"
    )
    inputs = given(sim, platforms="android", deploy="true", deploy_options=options,
                   build_options="comment: 'PR ${pr.number}'")  # fmt: skip
    code, log, out = run(action_image, runner_env, github, inputs)
    assert code == 0, log
    (deploy,) = sim.deploys()
    print(json.dumps(deploy.fields, indent=2))  # shown with -s: the body the API received
    assert deploy.fields == {
        "track": "beta",
        "releaseNotes": "Add login (#12, 1.0.0)",
        "details": {
            "body": "Adds a login page.", "labels": "release, ios",
            "commit": DEFAULT_SHA, "message": "Update the shop",
        },
        "literal": "${version} and ${{ github.sha }}",
    }  # fmt: skip
    assert deploy.build_id == out["android-build-id"]
    (build,) = sim.state.builds.values()
    assert build.fields["comment"] == "PR 12"


def test_unknown_placeholder_fails_before_any_request(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    inputs = given(sim, deploy="true", deploy_options="releaseNotes: '${pr.tilte}'")
    code, log, out = run(action_image, runner_env, github, inputs)
    assert code == 1
    assert "::error title=Invalid input%3A deploy-options::" in log
    assert "did you mean ${pr.title}?" in log
    assert sim.requests() == []
    assert github.requests == []
    assert out["status"] == "failed"


def test_placeholder_without_a_pull_request_becomes_empty_with_a_notice(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    inputs = given(sim, platforms="android", deploy="true",
                   deploy_options="releaseNotes: 'v${version} ${pr.title}'")  # fmt: skip
    code, log, _ = run(action_image, runner_env, github, inputs)
    assert code == 0, log
    assert [d.fields["releaseNotes"] for d in sim.deploys()] == ["v1.0.0 "]
    assert "::notice title=Placeholders::${pr.title} in `deploy-options` became empty" in log


def test_commit_message_of_a_pull_request_run_comes_from_the_api(
    action_image: ActionImage, runner_env: RunnerEnv, sim: Simulator, github: GitHubStandin
) -> None:
    github.add_pull(12, [], head_sha=HEAD)
    github.commit_messages[HEAD] = "Fix the login form\n\nIt lost the password."
    runner_env.set_event("pull_request", pull_request_event())  # carries no commit message
    inputs = given(sim, platforms="android", deploy="true",
                   build_options="notes: '${commit.message}'",
                   deploy_options="releaseNotes: '${commit.message}'")  # fmt: skip
    code, log, _ = run(action_image, runner_env, github, inputs)
    assert code == 0, log
    assert [d.fields["releaseNotes"] for d in sim.deploys()] == [github.commit_messages[HEAD]]
    (build,) = sim.state.builds.values()
    assert build.fields["notes"] == github.commit_messages[HEAD]
    assert [r.endpoint for r in github.requests].count("commit") == 1  # asked once
    assert "::notice title=Placeholders" not in log
