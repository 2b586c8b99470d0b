"""Print the release form of ``action.yml``: the prebuilt image, pinned by its digest.

    python scripts/release_action_yml.py ghcr.io/OWNER/capwrapper-action@sha256:<64 hex> \\
        > action.yml.release && mv action.yml.release action.yml

Main's ``action.yml`` says ``image: Dockerfile`` (GitHub builds the image in every job); a
release commit says ``image: docker://ghcr.io/OWNER/capwrapper-action@sha256:<index digest>``
(GitHub pulls it). Only that value changes: every other byte of the file (comments, order,
quoting, line endings, a comment after the value) is printed as it is. The file itself is never
written (redirect stdout to another file: ``> action.yml`` would empty it before it is read).

Exit status 2, printing nothing, for a reference that is not ``ghcr.io/<path>@sha256:<64
lowercase hex>`` (no tag, no ``docker://``, no other registry); 1, printing nothing, when
action.yml is not in the shape main keeps (a block ``runs:`` with ``using: docker`` and
``image: Dockerfile``). The standard library only, so any runner's Python can run it.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ghcr.io, then a repository path of lowercase components (the OCI distribution spec's grammar,
# at least owner/name), then a sha256 digest; nothing else (no tag, no scheme, no port).
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
REFERENCE = re.compile(rf"ghcr\.io/{_COMPONENT}(?:/{_COMPONENT})+@sha256:[0-9a-f]{{64}}")
SOURCE_IMAGE = "Dockerfile"
USAGE_ERROR = 2
SHAPE_ERROR = 1

_KEY = re.compile(r"(?P<indent> *)(?P<key>[A-Za-z0-9_-]+):(?P<rest>.*)")
# A one-line plain or quoted scalar: not a block scalar, anchor, alias, tag or flow collection.
_VALUE = re.compile(
    r"(?P<space> +)(?P<value>[^#'\"\s>|&*!{\[%@`][^#]*?|'[^']*'|\"[^\"]*\")(?P<tail>\s*(?:#.*)?)"
)


class ShapeError(ValueError):
    """action.yml is not in the form this script rewrites."""


@dataclass(frozen=True)
class _Line:
    number: int  # index into the list of lines
    indent: int
    key: str
    rest: str  # what follows the colon, line ending excluded


def _keys(lines: list[str], start: int, stop: int) -> list[_Line]:
    found: list[_Line] = []
    for number in range(start, stop):
        text = lines[number].rstrip("\r\n")
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if match := _KEY.fullmatch(text):
            found.append(_Line(number, len(match["indent"]), match["key"], match["rest"]))
    return found


def _runs_block(lines: list[str]) -> tuple[int, int]:
    """[first, end) line indexes of the top-level `runs:` mapping's children."""
    top = [k for k in _keys(lines, 0, len(lines)) if k.indent == 0]
    runs = [k for k in top if k.key == "runs"]
    if len(runs) != 1:
        raise ShapeError(f"expected one top-level `runs:`, found {len(runs)}")
    if runs[0].rest.split("#")[0].strip():
        raise ShapeError("`runs:` must be a block mapping, not a value on the same line")
    after = [k.number for k in top if k.number > runs[0].number]
    return runs[0].number + 1, after[0] if after else len(lines)


def _scalar(rest: str, what: str) -> tuple[str, str, str]:
    """(space before, plain value, tail) of a one-line scalar after `key:`."""
    match = _VALUE.fullmatch(rest)
    if not match:
        raise ShapeError(f"`runs.{what}` must be a one-line scalar")
    return match["space"], match["value"].strip().strip("'\""), match["tail"]


def release_form(text: str, reference: str) -> str:
    """`text` (an action.yml) with `runs.image` set to `docker://<reference>`."""
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)  # a \r before \n stays in its line
    first, end = _runs_block(lines)
    children = _keys(lines, first, end)
    if not children:
        raise ShapeError("`runs:` is empty")
    indent = children[0].indent
    by_key = {k.key: k for k in children if k.indent == indent}
    if len([k for k in children if k.indent == indent]) != len(by_key):
        raise ShapeError("`runs:` repeats a key")
    for key in ("using", "image"):
        if key not in by_key:
            raise ShapeError(f"`runs:` has no `{key}:`")
    if (using := _scalar(by_key["using"].rest, "using")[1]) != "docker":
        raise ShapeError(f"`runs.using` is {using!r}, not 'docker'")
    image = by_key["image"]
    space, value, tail = _scalar(image.rest, "image")
    if value != SOURCE_IMAGE:
        raise ShapeError(f"`runs.image` is {value!r}, not {SOURCE_IMAGE!r}: already released?")
    old = lines[image.number]
    ending = old[len(old.rstrip("\r\n")) :]
    lines[image.number] = f"{' ' * indent}image:{space}docker://{reference}{tail}{ending}"
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print action.yml with runs.image set to docker://REFERENCE."
    )
    parser.add_argument("reference", help="ghcr.io/OWNER/NAME@sha256:<64 lowercase hex>")
    parser.add_argument(
        "--action-yml", type=Path, default=ROOT / "action.yml", help="default: the repository's"
    )
    args = parser.parse_args(argv)
    if not REFERENCE.fullmatch(args.reference):
        print(
            f"release_action_yml: {args.reference!r} is not a ghcr.io image pinned by digest; "
            "want ghcr.io/OWNER/NAME@sha256:<64 lowercase hex digits>, for example "
            f"ghcr.io/octo-org/capwrapper-action@sha256:{'0' * 64}",
            file=sys.stderr,
        )
        return USAGE_ERROR
    try:
        with args.action_yml.open(encoding="utf-8", newline="") as source:
            released = release_form(source.read(), args.reference)
    except (OSError, UnicodeDecodeError, ShapeError) as exc:
        print(f"release_action_yml: {args.action_yml}: {exc}", file=sys.stderr)
        return SHAPE_ERROR
    sys.stdout.buffer.write(released.encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
