"""The I/O layer: masking, defusing outside text, annotation escaping, heredoc outputs.

Outputs are read back with the runner's rules (tests/runner_files.py), not with our writer's.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from capwrapper_action.ghio import SUMMARY_LIMIT, ActionIO, GitHubIO, defuse
from tests.runner_files import parse_output_file

HOSTILE_LINES = [
    "::set-output name=status::success",
    "   ::error title=x::pwned",
    "\t::add-mask::x",
    "\u200b::warning::zero-width space first",
    ":\u200b:notice::split colon",
    "text ##[error]legacy command mid-line",
    "#\u200b#[stop-commands]token",
    "##[set-env name=A;]1",
]


def _lines(text: str) -> list[str]:
    """Lines as the runner reads the process output: `\\r`, `\\n` and `\\r\\n` end a line."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _is_command(line: str) -> bool:
    """Whether the runner could take ``line`` as a workflow command (new or legacy form),
    also when a culture-sensitive comparison skips zero-width characters."""
    visible = "".join(ch for ch in line if ch not in "\u200b\u200c\u200d\u2060\ufeff\u00ad")
    return visible.lstrip().startswith("::") or "##[" in visible


def _read(path: Path) -> str:
    """The file as the runner reads it: UTF-8, `\r` kept (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def _github(tmp_path: Path, *, debug: bool = False) -> tuple[GitHubIO, io.StringIO]:
    out = io.StringIO()
    env = {
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "RUNNER_DEBUG": "1" if debug else "",
    }
    (tmp_path / "output").write_text("")
    (tmp_path / "summary").write_text("")
    return GitHubIO(env, out), out


@pytest.mark.parametrize("line", HOSTILE_LINES)
def test_defuse_leaves_no_command(line: str) -> None:
    assert _is_command(line)
    for out_line in _lines(defuse(line)):
        assert not _is_command(out_line)


def test_defuse_splits_on_every_line_break_the_runner_knows() -> None:
    text = "ok\r::error::a\r\n::error::b\n::error::c"
    lines = _lines(defuse(text))
    assert len(lines) == 4
    assert not any(_is_command(ln) for ln in lines)


def test_defuse_keeps_ordinary_text_unchanged() -> None:
    text = "android: building (1m 05s) — see https://x.example/a?b=c#d"
    assert defuse(text) == text


@pytest.mark.parametrize("line", HOSTILE_LINES)
def test_info_and_annotations_defuse_outside_text(tmp_path: Path, line: str) -> None:
    logs: list[ActionIO] = [ActionIO(io.StringIO()), _github(tmp_path)[0]]
    for log in logs:
        log.info(f"server said:\n{line}")
        log.error(line, title=f"title\n{line}")
        log.warning(line, title="t")
        with log.group(f"group\n{line}"):
            log.info(line)
        stream = log.stream
        assert isinstance(stream, io.StringIO)
        for out_line in _lines(stream.getvalue()):
            if out_line.startswith(("::error ", "::warning ", "::group::", "::endgroup::")):
                continue  # the commands the action issues itself
            assert not _is_command(out_line), out_line


def test_annotation_properties_and_data_are_escaped(tmp_path: Path) -> None:
    log, out = _github(tmp_path)
    log.error("line 1\nline 2 100%\r", title="Invalid input: a, b")
    assert out.getvalue() == "::error title=Invalid input%3A a%2C b::line 1%0Aline 2 100%25%0D\n"
    assert log.annotations == [("error", "Invalid input: a, b", "line 1\nline 2 100%\r")]


def test_notice_and_group_commands(tmp_path: Path) -> None:
    log, out = _github(tmp_path)
    log.notice("deploy skipped", title="Deploy")
    with log.group("Wait for builds"):
        log.info("android: queued")
    assert out.getvalue().splitlines() == [
        "::notice title=Deploy::deploy skipped",
        "::group::Wait for builds",
        "android: queued",
        "::endgroup::",
    ]


def test_debug_only_with_runner_debug(tmp_path: Path) -> None:
    quiet, quiet_out = _github(tmp_path)
    quiet.debug("GET /builds/bld_1 -> 200")
    assert quiet_out.getvalue() == ""
    loud, loud_out = _github(tmp_path, debug=True)
    loud.debug("GET /builds/bld_1 -> 200\n::error::x")
    assert loud_out.getvalue() == "::debug::GET /builds/bld_1 -> 200%0A::error::x\n"


def test_mask_announces_every_line_then_scrubs(tmp_path: Path) -> None:
    log, out = _github(tmp_path)
    log.mask("s3cret-key\nsecond-line")
    log.mask("")
    log.mask("   ")
    log.info("key=s3cret-key and second-line")
    log.error("401 for s3cret-key", title="bad s3cret-key")
    assert out.getvalue().splitlines() == [
        "::add-mask::s3cret-key",
        "::add-mask::second-line",
        "key=*** and ***",
        "::error title=bad ***::401 for ***",
    ]


def test_scrub_replaces_the_longer_secret_first() -> None:
    log = ActionIO(io.StringIO())
    log.mask("abc")
    log.mask("abcdef-long")
    assert log.scrub("x abcdef-long y abc") == "x *** y ***"


def test_console_annotation_title_is_scrubbed_and_defused() -> None:
    out = io.StringIO()
    log = ActionIO(out)
    log.mask("tok123")
    log.warning("msg", title="t tok123\n::error::x")
    assert "tok123" not in out.getvalue()
    assert not any(_is_command(ln) for ln in _lines(out.getvalue()))


@pytest.mark.parametrize(
    "value",
    ["", "plain", "two\nlines", "\n", "trailing\n", "\r\nwindows\r\n", "x<<EOF", "%0A::set-env"],
)
def test_outputs_round_trip_through_the_runners_parser(tmp_path: Path, value: str) -> None:
    log, _ = _github(tmp_path)
    log.set_outputs({"status": "success", "value": value})
    parsed = parse_output_file(_read(tmp_path / "output"))
    assert parsed == {"status": "success", "value": value}
    assert log.outputs["value"] == value


def test_outputs_are_appended_and_secrets_scrubbed(tmp_path: Path) -> None:
    log, _ = _github(tmp_path)
    log.mask("s3cret")
    log.set_outputs({"a": "1"})
    log.set_outputs({"b": "has s3cret", "c": "bad \ud800 surrogate"})
    parsed = parse_output_file(_read(tmp_path / "output"))
    assert parsed == {"a": "1", "b": "has ***", "c": "bad \ufffd surrogate"}


def test_without_output_file_outputs_are_kept_in_memory() -> None:
    log = GitHubIO({}, io.StringIO())
    log.set_outputs({"status": "failed"})
    assert log.outputs == {"status": "failed"}
    assert log.write_summary("# x") is False


def test_summary_is_scrubbed_and_capped(tmp_path: Path) -> None:
    log, _ = _github(tmp_path)
    log.mask("s3cret")
    assert log.write_summary("## s3cret\n")
    big = "é" * SUMMARY_LIMIT
    assert log.write_summary(big)
    text = _read(tmp_path / "summary")
    assert text.startswith("## ***\n")
    assert len(text.encode("utf-8")) < SUMMARY_LIMIT + 200
    assert "summary cut" in text


def test_hints_name_a_setting_the_way_each_front_end_takes_it() -> None:
    ids = "android:bld_1, ios:bld_2"
    assert GitHubIO({}, io.StringIO()).setting("build-id", ids) == f"build-id: {ids}"
    assert ActionIO(io.StringIO()).setting("build-id", ids) == f"--build-id '{ids}'"
