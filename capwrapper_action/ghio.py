"""The action's I/O layer: masking, log lines, annotations, groups, outputs and the summary.

``GitHubIO`` speaks the runner's workflow commands and file commands (escaping and heredoc
delimiters come from actions-toolkit); ``ConsoleIO`` prints plain text and collects outputs
for the command line. Text from outside (server messages, names) never starts a command:
every line that would is defused before it is printed.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TextIO

from actions_toolkit.command import escape_data, escape_property
from actions_toolkit.file_command import prepare_key_value_message

from capwrapper_action.errors import ResultFileError

SUMMARY_LIMIT = 512 * 1024  # the runner drops a summary over 1 MiB; stay far below
# Put in front of a line's `::` and inside `##[`. Braille blank: shows as a space, yet it is
# not white space to the runner's TrimStart, and unlike a zero-width space it is not ignorable
# in the culture-sensitive StartsWith/IndexOf the runner uses to find commands under ICU.
_DEFUSE = "\u2800"
_SURROGATES = re.compile("[\ud800-\udfff]")
# Characters a culture-sensitive comparison may skip (controls, Default_Ignorable_Code_Point).
_IGNORABLE = (
    "\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
Setting = Callable[[str, str], str]  # (input, value) -> how the user sets it, as ``setting``


def workflow_setting(name: str, value: str) -> str:
    """An input as under ``with:`` in a workflow: ``deploy: true``."""
    return f"{name}: {value}"


_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_COMMAND_START = re.compile(f"^[\\s{_IGNORABLE}]*:")  # `::name::` after spaces (one `:` will do)
_LEGACY = re.compile(f"#[{_IGNORABLE}]*#[{_IGNORABLE}]*\\[")  # `##[name]` anywhere in a line


def defuse(text: str) -> str:
    """Make every line of ``text`` safe to print: none can start a workflow command.

    The runner also reads the legacy form ``##[name]data`` anywhere in a line (``##[error]``,
    ``##[stop-commands]``…), so every ``##[`` is broken up too. Lone surrogates, which no
    stream can write as UTF-8, become U+FFFD."""
    text = _LEGACY.sub(lambda m: m.group()[:-1] + _DEFUSE + "[", _writable(text))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_DEFUSE + ln if _COMMAND_START.match(ln) else ln for ln in lines)


def _writable(text: str) -> str:
    """``text`` without lone surrogates (from ``\\ud800`` escapes in JSON): UTF-8 safe."""
    return _SURROGATES.sub("\ufffd", text)


def _escaped_forms(secret: str) -> str:
    """A pattern for ``secret`` as written, and as the summary, a JSON output or a link may
    show it: any punctuation may follow a backslash, be an HTML entity or be %-encoded."""
    parts = []
    for ch in secret:
        if ch.isalnum() or ord(ch) > 0x7E:  # noqa: PLR2004 - beyond ASCII: only as written
            parts.append(re.escape(ch))
            continue
        code = ord(ch)
        forms = [re.escape(ch), f"%{code:02X}", f"%{code:02x}", f"&#{code};", f"&#x{code:x};"]
        forms += [_ENTITY[ch]] if ch in _ENTITY else []
        parts.append(r"\\?(?:" + "|".join(forms) + ")")
    return "".join(parts)


class ActionIO:
    """Plain console I/O; the base for ``GitHubIO``."""

    def __init__(
        self, stream: TextIO | None = None, *, debug: bool = False, summary_path: str = ""
    ) -> None:
        self.stream = stream or sys.stdout
        self.debug_enabled = debug
        self.summary_path = summary_path  # where the Markdown summary goes; "": nowhere
        self.outputs: dict[str, str] = {}
        self.annotations: list[tuple[str, str, str]] = []
        self._secrets: list[str] = []
        self._pattern: re.Pattern[str] | None = None

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``, also where it was escaped on the
        way (Markdown backslashes, HTML entities, JSON escapes, %-encoding in links)."""
        return self._pattern.sub("***", text) if self._pattern else text

    def mask(self, secret: str) -> None:
        for part in secret.splitlines() or [secret]:
            if part.strip() and part not in self._secrets:
                self._secrets.append(part)
        # Longest first: a secret that contains another must not be left half-replaced.
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(_escaped_forms, ordered))) if ordered else None

    def info(self, message: str) -> None:
        self._write(defuse(self.scrub(message)))

    def debug(self, message: str) -> None:
        if self.debug_enabled:
            self._write("debug: " + defuse(self.scrub(message)))

    def annotate(self, kind: str, message: str, title: str) -> None:
        self.annotations.append((kind, title, message))
        self._write(defuse(self.scrub(f"{kind}: {title}: {message}")))

    def error(self, message: str, title: str) -> None:
        self.annotate("error", message, title)

    def warning(self, message: str, title: str) -> None:
        self.annotate("warning", message, title)

    def notice(self, message: str, title: str) -> None:
        self.annotate("notice", message, title)

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._write(defuse(self.scrub(f"== {title}")))
        yield

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        self.outputs.update({k: self.scrub(v) for k, v in outputs.items()})

    def setting(self, name: str, value: str) -> str:
        """How a user of this front end sets input ``name``: a command-line flag here."""
        return f"--{name} {shlex.quote(value)}"

    def write_summary(self, markdown: str) -> bool:
        """Write the summary to ``summary_path`` (the command line's ``--summary``)."""
        if not self.summary_path:
            return False
        try:
            Path(self.summary_path).write_text(_writable(self.scrub(markdown)), encoding="utf-8")
        except OSError as exc:
            self.warning(f"{self.summary_path}: {exc.strerror}", "Summary not written")
            return False
        return True


class GitHubIO(ActionIO):
    """Workflow commands on stdout, outputs and summary through the runner's files."""

    def __init__(
        self,
        env: Mapping[str, str],
        stream: TextIO | None = None,
    ) -> None:
        debug = env.get("RUNNER_DEBUG") == "1"
        super().__init__(stream, debug=debug, summary_path=env.get("GITHUB_STEP_SUMMARY") or "")
        self.output_path = env.get("GITHUB_OUTPUT") or ""

    setting = staticmethod(workflow_setting)

    def _command(self, name: str, message: str, title: str = "") -> None:
        head = f"::{name} title={escape_property(title)}::" if title else f"::{name}::"
        self._write(_writable(head + escape_data(message)))

    def mask(self, secret: str) -> None:
        super().mask(secret)
        for part in secret.splitlines() or [secret]:
            if part.strip():
                self._command("add-mask", part)

    def debug(self, message: str) -> None:
        if self.debug_enabled:
            self._command("debug", self.scrub(message))

    def annotate(self, kind: str, message: str, title: str) -> None:
        self.annotations.append((kind, title, message))
        self._command(kind, self.scrub(message), title=self.scrub(title))

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._command("group", self.scrub(title))
        try:
            yield
        finally:
            self._command("endgroup", "")

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        super().set_outputs(outputs)
        if not self.output_path:
            return
        text = "".join(
            prepare_key_value_message(name, _writable(self.scrub(value))) + "\n"
            for name, value in outputs.items()
        )
        _append(self.output_path, text, "step outputs", "GITHUB_OUTPUT")

    def write_summary(self, markdown: str) -> bool:
        if not self.summary_path:
            return False
        text = _writable(self.scrub(markdown))
        if len(text.encode("utf-8")) > SUMMARY_LIMIT:
            text = text.encode("utf-8")[:SUMMARY_LIMIT].decode("utf-8", "ignore")
            text += "\n\n*(summary cut: it exceeded the size the runner accepts)*\n"
        _append(self.summary_path, text, "job summary", "GITHUB_STEP_SUMMARY")
        return True


def _append(path: str, text: str, what: str, variable: str) -> None:
    """Append ``text`` in one write; a ``ResultFileError`` naming the file and why if not."""
    try:
        with Path(path).open("a", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as err:
        why = err.strerror or type(err).__name__
        raise ResultFileError(
            f"Could not write the {what} to {path} ({variable}): {why}.",
            hint="Check the free space and permissions of the runner's work folder.",
            title=f"The {what} were not written" if what.endswith("outputs")
            else f"The {what} was not written",
        ) from None
