"""Placeholders in build-options and deploy-options values: filled, escaped, refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from capwrapper_action.config.lists import DEPLOY_RESERVED, options
from capwrapper_action.errors import ConfigError
from capwrapper_action.github.event import GitHubContext, PullDetails
from capwrapper_action.release.placeholders import (
    KNOWN,
    empty_notice,
    fill,
    fill_options,
    problems,
    used,
    values_for,
)

VALUES = {
    "version": "1.4.0", "commit.sha": "a" * 40, "commit.message": "Fix login\n\nDetails",
    "pr.number": "12", "pr.title": 'Title with "quotes" and ${version}',
    "pr.body": "Body", "pr.labels": "release, ios",
}  # fmt: skip
CTX = GitHubContext(
    event_name="push", repository="o/r", server_url="https://github.com",
    api_url="https://api.github.com", commit_sha="b" * 40, pull_request=None, labels=(),
    labels_source="", from_fork=False, warnings=(),
)  # fmt: skip


def test_every_known_placeholder_is_filled() -> None:
    template = {name.replace(".", "_"): "${" + name + "}" for name in KNOWN}
    filled, empty = fill(template, VALUES)
    assert empty == frozenset()
    assert filled == {name.replace(".", "_"): VALUES[name] for name in KNOWN}


def test_filled_text_is_not_filled_again() -> None:
    """A pull request title holding `${version}` stays as the author wrote it."""
    filled, _ = fill({"notes": "${pr.title}"}, VALUES)
    assert filled == {"notes": 'Title with "quotes" and ${version}'}


def test_nested_values_lists_and_several_per_string() -> None:
    template = {
        "releaseNotes": {"en-US": "${pr.title} (${version})", "keep": 3},
        "tags": ["v${version}", True, None],
    }
    filled, _ = fill(template, VALUES)
    assert filled["releaseNotes"] == {"en-US": f"{VALUES['pr.title']} (1.4.0)", "keep": 3}
    assert filled["tags"] == ["v1.4.0", True, None]


def test_keys_are_left_alone() -> None:
    filled, _ = fill({"${version}": "x"}, VALUES)
    assert filled == {"${version}": "x"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$${version}", "${version}"),
        ("cost: $5 and $${", "cost: $5 and ${"),
        ("${{ github.sha }}", "${{ github.sha }}"),
        ("${{ format('${version}') }}", "${{ format('${version}') }}"),
        ("a ${{ unclosed", "a ${{ unclosed"),
        ("${ version }", "1.4.0"),
        ("$$", "$$"),
    ],
)
def test_literals_and_workflow_expressions(template: str, expected: str) -> None:
    assert problems(template) == []
    assert fill(template, VALUES)[0] == expected


def test_unknown_placeholder_is_named_with_a_suggestion() -> None:
    (problem,) = problems({"notes": ["${pr.tilte}"]})
    assert "${pr.tilte}" in problem
    assert "did you mean ${pr.title}?" in problem
    assert "${commit.message}" in problem  # the list of known ones


def test_unclosed_placeholder_is_a_problem() -> None:
    (problem,) = problems("see ${version")
    assert "$${" in problem


def test_missing_values_become_empty_and_are_reported() -> None:
    filled, empty = fill("${pr.number}:${version}", {"version": "1.0.0"})
    assert filled == ":1.0.0"
    assert empty == {"pr.number"}
    notice = empty_notice(empty, "deploy-options")
    assert "${pr.number} in `deploy-options` became empty" in notice


def test_used_lists_only_known_names() -> None:
    assert used({"a": "${pr.body} ${nope} $${version}"}) == {"pr.body"}


def test_values_without_a_pull_request() -> None:
    values = values_for(CTX, "2.0.0")
    assert values["version"] == "2.0.0"
    assert values["commit.sha"] == "b" * 40
    assert all(values[name] is None for name in KNOWN if name.startswith("pr."))


def test_values_with_a_pull_request() -> None:
    ctx = replace(
        CTX, pull_request=7, labels=("release", "ios"),
        pull=PullDetails(title="T", body="", merged=True), commit_message="m",
    )  # fmt: skip
    values = values_for(ctx, None)
    assert values == {
        "version": None, "commit.sha": "b" * 40, "commit.message": "m", "pr.number": "7",
        "pr.title": "T", "pr.body": "", "pr.labels": "release, ios",
    }  # fmt: skip


def test_fill_options_leaves_a_mapping_without_placeholders_as_it_is() -> None:
    given = {"track": "beta"}
    filled, notice = fill_options(given, "deploy-options", VALUES)
    assert filled is given
    assert notice == ""


def test_an_unknown_placeholder_is_an_input_error() -> None:
    with pytest.raises(ConfigError) as caught:
        options("deploy-options", "releaseNotes: '${pr.titel}'", reserved=DEPLOY_RESERVED)
    err = caught.value
    assert err.input_name == "deploy-options"
    assert "${pr.titel}" in err.problem
    assert "${pr.title}" in err.example


def test_known_placeholders_pass_the_input_check() -> None:
    parsed = options(
        "deploy-options", "releaseNotes: '${pr.title} $${literal}'", reserved=DEPLOY_RESERVED
    )
    assert parsed == {"releaseNotes": "${pr.title} $${literal}"}  # filled only at run time
