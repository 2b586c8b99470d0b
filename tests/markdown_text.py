"""Reading the job summary the way a Markdown renderer does, for tests that check what it shows."""

from __future__ import annotations


def outside_code_blocks(markdown: str) -> str:
    """``markdown`` without its fenced code blocks (whose text is shown as typed). A block
    left open would swallow the rest of the summary, so it fails the test."""
    kept: list[str] = []
    fence = ""
    for line in markdown.split("\n"):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence) and set(stripped) == {"`"}:
                fence = ""
            continue
        if stripped.startswith("```"):
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
            continue
        kept.append(line)
    assert not fence, "a code block was left open"
    return "\n".join(kept)
