"""Hostile answers: property tests over response shapes, the summary, outputs and log lines.

API responses are data, not trusted: whatever shape and text they have, the action parses
them or fails with UnexpectedResponseError; the summary renders them as text; the output file
parses by the runner's rules with every value intact; no log line starts a workflow command.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from capwrapper_action import result as R
from capwrapper_action.api.models import PLATFORMS, Build, Deploy
from capwrapper_action.errors import ActionError, UnexpectedResponseError
from capwrapper_action.ghio import ActionIO, GitHubIO
from capwrapper_action.report.outputs import build_outputs
from capwrapper_action.report.summary import SummaryOptions, render_summary
from capwrapper_action.result import RunStatus
from tests.markdown_text import outside_code_blocks
from tests.runner_files import parse_output_file

FEW = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FRAGMENTS = [
    "::", "::set-env name=A::1", "::error::x", "##[", "##[stop-commands]t", "\r", "\n", "\r\n",
    "%0A", "%25", "</table>", "<script>alert(1)</script>", "<img src=x onerror=y>", "|", "\\",
    "`", "```", "~~~", "*", "_", "[x](https://evil.test)", "![i](x)", "&lt;", "&#60;", "#", "-",
    "1.", ">", "=", "@team", "$x$", "www.evil.test", "https://evil.test", ":smile:", "\u200b",
    "\u202e", "\u2028", "\x85", "\x00", "\t", " ", "ghadelimiter_", "EOF", "<<", "\ud800", "é",
]  # fmt: skip
hostile_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=12).map("".join)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | hostile_text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
BUILD_KEYS = ["id", "status", "platform", "version", "bundleId", "createdAt", "completedAt",
              "downloadUrl", "error"]  # fmt: skip
build_like = st.dictionaries(st.sampled_from(BUILD_KEYS) | hostile_text, json_values, max_size=10)


def _no_surrogates(text: str) -> str:
    return re.sub("[\ud800-\udfff]", "\ufffd", text)


# --- response shapes ------------------------------------------------------------------------


@FEW
@given(obj=json_values | build_like)
def test_build_from_any_json_is_a_build_or_a_clear_error(obj: Any) -> None:
    try:
        build = Build.from_api(obj)
    except UnexpectedResponseError as err:
        problem = err.message
        assert problem
        return
    assert isinstance(build.id, str)
    assert build.id.strip()
    assert isinstance(build.status, str)
    for value in (build.platform, build.version, build.error, build.download_url):
        assert value is None or isinstance(value, str)
    build.duration  # noqa: B018 - must not raise, whatever the timestamps


def test_a_timestamp_with_an_impossible_offset_is_unknown_not_a_crash() -> None:
    build = Build.from_api({"id": "bld_1", "createdAt": "2026-01-01T00:00:00+24:00",
                            "completedAt": "2026-01-01T00:10:00-99:99"})
    assert build.created_at is None
    assert build.completed_at is None


@FEW
@given(obj=json_values | build_like)
def test_deploy_from_any_json_is_a_deploy_or_a_clear_error(obj: Any) -> None:
    try:
        deploy = Deploy.from_api(obj, "bld_1")
    except UnexpectedResponseError:
        return
    assert isinstance(deploy.id, str)


# --- the summary -----------------------------------------------------------------------------

_ALLOWED_TAGS = {"h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td", "ul", "li",
                 "strong", "em", "code", "pre", "a"}  # fmt: skip
_LINE_STARTS = ("## ", "### ", "| ", "|---", "- ", "_Download links", "**Next step:**",
                "The builds")  # fmt: skip


@st.composite
def hostile_results(draw: st.DrawFn) -> tuple[R.RunResult, SummaryOptions]:
    text = hostile_text
    platforms = draw(st.lists(st.sampled_from(PLATFORMS), unique=True, max_size=2))
    result = R.RunResult.for_platforms(tuple(platforms))
    result.status = draw(st.sampled_from(list(RunStatus)))
    for state in result.platforms.values():
        if draw(st.booleans()):
            state.build = Build(
                id=draw(text), status=draw(st.sampled_from(["success", "failed"]) | text),
                version=draw(text), error=draw(text), download_url=draw(text),
            )  # fmt: skip
        if draw(st.booleans()):
            state.deploy = Deploy(id=draw(text), build_id="b", status=draw(text))
        state.artifact_path = draw(st.none() | text)
        state.adopted = draw(st.booleans())
    result.version = draw(st.none() | text)
    result.commit_sha = draw(st.none() | text | st.just("8a1f0c3e5b7d9f2a4c6e8b0d1f3a5c7e"))
    result.pull_request = draw(st.none() | st.integers(min_value=1, max_value=10**6))
    if draw(st.booleans()):
        result.gate = R.GateDecision(
            draw(st.booleans()), draw(st.booleans()), draw(text),
            tuple(draw(st.lists(text, max_size=3))), draw(text),
        )  # fmt: skip
    result.deploy_attempted = draw(st.booleans())
    if draw(st.booleans()):
        result.error = ActionError(draw(text), hint=draw(text), title=draw(text))
    result.notes = draw(st.lists(text, max_size=3))
    result.resume_hint = draw(text)
    options = SummaryOptions(
        app_name=draw(st.none() | text),
        include_download_links=draw(st.booleans()),
        repository=draw(st.just("octo-org/shop") | text),
    )
    return result, options


_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.*?[^`])\1(?!`)")


def _check_markdown_source(markdown: str) -> None:
    outside = outside_code_blocks(markdown)
    assert "<" not in _CODE_SPAN.sub("", outside)  # code spans show `<` as text
    for line in outside.split("\n"):
        assert not line or line.startswith(_LINE_STARTS), line
    table = [ln for ln in outside.split("\n") if ln.startswith("|")]
    if table:
        widths = {_cells(row) for row in table}
        assert len(widths) == 1, table
    prose = re.sub(r"\]\(https?://[^\s)]*\)", "]()", _CODE_SPAN.sub("", outside))
    assert not re.search(r"(?<!\\):(?=//)", prose)
    assert "www." not in prose.lower()
    assert not re.search(r"(?<!\\)[@$]", prose)


def _cells(row: str) -> int:
    return sum(1 for i, ch in enumerate(row) if ch == "|" and (i == 0 or row[i - 1] != "\\")) - 1


def _check_rendered(markdown: str, links_allowed: int) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(markdown)
    tags = {m.lower() for m in re.findall(r"</?([A-Za-z][A-Za-z0-9]*)", html)}
    assert tags <= _ALLOWED_TAGS, tags
    assert html.count("<table>") <= 1
    hrefs = re.findall(r'<a href="([^"]*)"', html)
    assert len(hrefs) <= links_allowed
    assert all(h.startswith(("https://", "http://")) for h in hrefs), hrefs


@FEW
@given(case=hostile_results())
def test_summary_renders_outside_text_as_text(case: tuple[R.RunResult, SummaryOptions]) -> None:
    result, options = case
    markdown = render_summary(result, options)
    assert len(markdown.encode("utf-8", "surrogatepass")) < 128 * 1024
    _check_markdown_source(markdown)
    _check_rendered(markdown, links_allowed=2 + len(result.platforms))


# --- the output file -------------------------------------------------------------------------


@FEW
@given(values=st.dictionaries(st.sampled_from(["status", "error", "builds", "x-y"]), hostile_text))
@example(values={"status": "\r", "error": "::set-env name=A::%0A</table>"})
@example(values={"status": "a\nghadelimiter_1\nb", "error": "EOF\n\n \n"})
def test_output_values_round_trip_by_the_runners_rules(
    tmp_path: Path, values: dict[str, str]
) -> None:
    path = tmp_path / "output"
    path.write_bytes(b"")
    log = GitHubIO({"GITHUB_OUTPUT": str(path)}, io.StringIO())
    log.set_outputs(values)
    parsed = parse_output_file(path.read_bytes().decode("utf-8"))
    assert parsed == {k: _no_surrogates(v) for k, v in values.items()}


@FEW
@given(case=hostile_results())
def test_every_output_of_any_result_reaches_the_runner(
    tmp_path: Path, case: tuple[R.RunResult, SummaryOptions]
) -> None:
    outputs = build_outputs(case[0])
    path = tmp_path / "output"
    path.write_bytes(b"")
    GitHubIO({"GITHUB_OUTPUT": str(path)}, io.StringIO()).set_outputs(outputs)
    assert parse_output_file(path.read_bytes().decode("utf-8")) == outputs


# --- log lines -------------------------------------------------------------------------------

_OWN_COMMANDS = ("::error ", "::error::", "::warning ", "::warning::", "::notice ", "::notice::",
                 "::debug::", "::group::", "::endgroup::", "::add-mask::")  # fmt: skip
_ZERO_WIDTH = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)


def _runner_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _assert_no_injected_command(output: str) -> None:
    for line in _runner_lines(output):
        if line.startswith(_OWN_COMMANDS):
            continue
        visible = _ZERO_WIDTH.sub("", line)
        assert not visible.lstrip().startswith("::"), repr(line)
        assert "##[" not in visible, repr(line)


@FEW
@given(message=hostile_text, title=hostile_text)
@example(message="ok\n::set-env name=A::1\r::error::x", title="t\n::warning::y")
@example(message="\u200b::add-mask::x ##[error]y", title="#\u200b#[stop-commands]z")
def test_log_lines_never_start_a_command(message: str, title: str) -> None:
    for log in (
        ActionIO(io.StringIO(), debug=True),
        GitHubIO({"RUNNER_DEBUG": "1"}, io.StringIO()),
    ):
        log.mask("s3cret")
        log.info(message)
        log.debug(message)
        log.warning(message, title=title)
        log.error(message, title=title)
        with log.group(title):
            log.info(title)
        stream = log.stream
        assert isinstance(stream, io.StringIO)
        _assert_no_injected_command(stream.getvalue())
