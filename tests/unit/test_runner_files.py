"""The runner-rule parser used by the end-to-end tests, checked against the runner's rules."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.runner_files import (
    FileCommandError,
    declared_inputs,
    input_env,
    input_env_name,
    parse_output_file,
    read_file_command,
)


def test_name_value_pairs_split_at_first_equals() -> None:
    assert parse_output_file("a=1\nb=x=y\nc=\n") == {"a": "1", "b": "x=y", "c": ""}


def test_equals_before_heredoc_marker_is_a_plain_pair() -> None:
    assert parse_output_file("a=b<<c\n") == {"a": "b<<c"}


def test_heredoc_value_spans_lines_without_final_line_break() -> None:
    text = "builds<<EOF\n[\n  1\n]\nEOF\nnext=2\n"
    assert parse_output_file(text) == {"builds": "[\n  1\n]", "next": "2"}


def test_heredoc_before_equals_wins() -> None:
    assert parse_output_file("a<<X=1\nv\nX=1\n") == {"a": "v"}


def test_empty_heredoc_value() -> None:
    assert parse_output_file("a<<EOF\nEOF\n") == {"a": ""}


def test_heredoc_keeps_inner_empty_lines_and_final_empty_line() -> None:
    assert parse_output_file("a<<EOF\n\nx\n\nEOF\n") == {"a": "\nx\n"}


def test_delimiter_line_without_trailing_newline_is_accepted() -> None:
    assert parse_output_file("a<<EOF\nv\nEOF") == {"a": "v"}


def test_carriage_return_stays_in_values_and_breaks_delimiters() -> None:
    assert parse_output_file("a=1\r\n") == {"a": "1\r"}
    assert parse_output_file("a<<EOF\nv\r\nEOF\n") == {"a": "v\r"}
    with pytest.raises(FileCommandError, match="Matching delimiter not found"):
        parse_output_file("a<<EOF\nv\nEOF\r\n")


def test_empty_lines_are_skipped() -> None:
    assert parse_output_file("\n\na=1\n\n\nb=2") == {"a": "1", "b": "2"}


@pytest.mark.parametrize("line", [" ", "\t", "  \t "])
def test_whitespace_only_line_is_an_error(line: str) -> None:
    with pytest.raises(FileCommandError, match="Invalid format"):
        parse_output_file(f"a=1\n{line}\nb=2\n")


def test_line_without_equals_or_heredoc_is_an_error() -> None:
    with pytest.raises(FileCommandError, match="Invalid format 'oops'"):
        parse_output_file("oops\n")


@pytest.mark.parametrize("text", ["=v\n", "<<EOF\nv\nEOF\n", "a<<\nv\n\n"])
def test_empty_name_or_delimiter_is_an_error(text: str) -> None:
    with pytest.raises(FileCommandError, match="must not be empty"):
        parse_output_file(text)


def test_missing_delimiter_is_an_error_keeping_earlier_pairs() -> None:
    with pytest.raises(FileCommandError, match="Matching delimiter not found 'EOF'") as info:
        parse_output_file("a=1\nb<<EOF\nv\n")
    assert info.value.applied == {"a": "1"}


def test_value_line_at_end_of_file_without_newline_is_an_error() -> None:
    with pytest.raises(FileCommandError, match="EOF marker missing new line"):
        parse_output_file("a<<EOF\nv")


def test_names_are_case_insensitive_last_value_wins() -> None:
    assert parse_output_file("Status=a\nSTATUS=b\nstatus<<E\nc\nE\n") == {"status": "c"}


def test_read_file_command_drops_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_bytes(b"\xef\xbb\xbfa=\xc3\xa9\n")
    assert read_file_command(path) == {"a": "\u00e9"}


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,15}", fullmatch=True),
        st.text(st.characters(codec="utf-8")),
        max_size=5,
    )
)
def test_toolkit_heredoc_format_round_trips(values: dict[str, str]) -> None:
    """Values written the way actions/toolkit writes them parse back unchanged."""
    chunks = []
    expected: dict[str, str] = {}
    for name, value in values.items():
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        expected[name.lower()] = value
    assert parse_output_file("".join(chunks)) == expected


def test_input_env_names_keep_hyphens() -> None:
    assert input_env_name("api-key") == "INPUT_API-KEY"
    assert input_env_name("some input") == "INPUT_SOME_INPUT"


def test_input_env_fills_declared_defaults() -> None:
    env = input_env({"api-key": "k", "extra": "x"}, github_token="tok")
    declared = declared_inputs()
    assert set(env) == {input_env_name(n) for n in declared} | {"INPUT_EXTRA"}
    assert env["INPUT_API-KEY"] == "k"
    assert env["INPUT_GITHUB-TOKEN"] == "tok"
    assert env["INPUT_EXTRA"] == "x"
    for name, spec in declared.items():
        if name not in {"api-key", "github-token"}:
            assert env[input_env_name(name)] == str((spec or {}).get("default", ""))
