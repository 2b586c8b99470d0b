"""`make demo` (scripts/demo.py) shows a newcomer a clean run: no warning, no error, no empty
group, and exit code 0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_prints_nothing_that_looks_like_a_problem() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--build-seconds", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=55, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    out = done.stdout
    for alarming in ("::warning", "::error", "Traceback", "Warning", "WARNING"):
        assert alarming not in out, alarming
    groups = re.findall(r"^::group::(.*)\n(.*)$", out, re.MULTILINE)
    assert [name for name, _ in groups][:2] == ["Settings", "Create builds"]
    assert all(first != "::endgroup::" for _, first in groups), groups
    assert "pull request #12 for commit 8a1f0c3; labels (from the GitHub API): release" in out
    assert "exit code 0" in out
