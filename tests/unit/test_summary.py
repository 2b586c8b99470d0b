"""The job summary: golden files for each way a run ends, and the escaping of outside text.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 pytest tests/unit/test_summary.py` and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capwrapper_action import result as R
from capwrapper_action.api.models import Build, Deploy
from capwrapper_action.errors import (
    ActionError,
    CancelledError,
    ConfigError,
)
from capwrapper_action.report import markdown as md
from capwrapper_action.report.summary import SummaryOptions, render_summary
from capwrapper_action.result import RunStatus
from tests.markdown_text import outside_code_blocks

GOLDEN = Path(__file__).parent / "golden"
SHA = "8a1f0c3e5b7d9f2a4c6e8b0d1f3a5c7e9b2d4f6a"
T0 = datetime(2026, 11, 2, 10, 0, 0, tzinfo=UTC)
OPTIONS = SummaryOptions(app_name="Example Shop", repository="octo-org/shop-app")


def _iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _build(platform: str, status: str, *, done: float | None = None, **extra: Any) -> Build:
    obj: dict[str, Any] = {
        "id": f"bld_{platform}_7Qx2",
        "status": status,
        "platform": platform,
        "version": "1.4.0",
        "bundleId": "com.example.shop",
        "createdAt": _iso(0),
    }
    if done is not None:
        obj["completedAt"] = _iso(done)
    if status == "success":
        ext = "apk" if platform == "android" else "ipa"
        obj["downloadUrl"] = f"https://dl.capwrapper.test/{platform}.{ext}?expires=1&signature=ab"
    obj.update(extra)
    return Build.from_api(obj)


def _result(status: RunStatus, **builds: Build) -> R.RunResult:
    result = R.RunResult.for_platforms(("android", "ios"))
    result.status = status
    result.version = "1.4.0"
    result.commit_sha = SHA
    result.pull_request = 42
    for platform, build in builds.items():
        state = result.platforms[platform]  # type: ignore[index]
        state.build = build
        if build.status != "queued":
            state.started_at = T0 + timedelta(seconds=35)
    result.gate = R.GateDecision(False, False, "deploy not requested (set `deploy: true`)")
    return result


def both_succeeded() -> R.RunResult:
    android = _build("android", "success", done=412)
    return _result(RunStatus.SUCCESS, android=android, ios=_build("ios", "success", done=655))


def one_failed() -> R.RunResult:
    result = _result(
        RunStatus.FAILED,
        android=_build("android", "success", done=412),
        ios=_build(
            "ios",
            "failed",
            done=301,
            error="Signing failed: no distribution certificate for com.example.shop.\n"
            "See https://docs.capwrapper.test/ios-signing",
        ),
    )
    result.gate = R.GateDecision(True, False, "not every build succeeded")
    return result


def timed_out() -> R.RunResult:
    result = _result(
        RunStatus.TIMED_OUT,
        android=_build("android", "success", done=412),
        ios=_build("ios", "building"),
    )
    result.error = ActionError(
        "The builds did not finish within 30m (ios is still building).",
        hint="Raise `timeout`, or resume with the `build-id` input below.",
        title="Timed out",
    )
    result.gate = R.GateDecision(True, False, "the builds did not all finish")
    return result


def cancelled() -> R.RunResult:
    android, ios = _build("android", "queued"), _build("ios", "building")
    result = _result(RunStatus.CANCELLED, android=android, ios=ios)
    result.error = CancelledError("The run was cancelled while waiting for the builds.")
    result.gate = None
    return result


def created() -> R.RunResult:
    result = _result(
        RunStatus.CREATED, android=_build("android", "queued"), ios=_build("ios", "queued")
    )
    result.gate = R.GateDecision(False, False, "deploy not requested (set `deploy: true`)")
    return result


def skipped_by_label() -> R.RunResult:
    result = both_succeeded()
    result.gate = R.GateDecision(
        True,
        False,
        "pull request #42 has none of the deploy labels: release",
        labels=("bug", "needs-review"),
        labels_source="api",
    )
    result.notes.append("Labels were read from the GitHub API at the end of the builds.")
    return result


def deployed() -> R.RunResult:
    result = both_succeeded()
    result.gate = R.GateDecision(True, True, "label `release` present", ("release",), "api")
    result.deploy_attempted = True
    for platform, state in result.platforms.items():
        assert state.build is not None
        raw = {"id": f"dep_{platform}_91", "status": "queued"}
        state.deploy = Deploy.from_api(raw, state.build.id)
    return result


def config_error() -> R.RunResult:
    result = R.RunResult.for_platforms(())
    result.error = ConfigError("bundle-id", "'shop' is not a reverse-domain id", "com.example.shop")
    return result


SCENARIOS: dict[str, Callable[[], R.RunResult]] = {
    "both_succeeded": both_succeeded,
    "one_failed": one_failed,
    "timed_out": timed_out,
    "cancelled": cancelled,
    "created": created,
    "deploy_skipped_by_label": skipped_by_label,
    "deployed": deployed,
    "config_error": config_error,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden(name: str) -> None:
    text = render_summary(SCENARIOS[name](), OPTIONS)
    path = GOLDEN / f"summary_{name}.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert text == path.read_text(encoding="utf-8")


def test_download_links_only_when_asked() -> None:
    hidden = render_summary(both_succeeded(), OPTIONS)
    assert "signature=" not in hidden
    assert "summary-download-links: true" in hidden
    shown = render_summary(
        both_succeeded(), SummaryOptions(app_name="Shop", include_download_links=True)
    )
    assert "[download](https://dl.capwrapper.test/android.apk?expires=1&signature=ab)" in shown
    assert "summary-download-links" not in shown


def test_unsafe_download_url_is_never_a_link() -> None:
    result = both_succeeded()
    result.platforms["android"].build = _build(
        "android", "success", done=5, downloadUrl="javascript:alert(1)"
    )
    text = render_summary(result, SummaryOptions(include_download_links=True))
    assert "](javascript" not in text
    assert "[download](https://dl.capwrapper.test/ios.ipa" in text


def test_commit_and_pull_request_links() -> None:
    text = render_summary(both_succeeded(), OPTIONS)
    assert f"[`8a1f0c3`](https://github.com/octo-org/shop-app/commit/{SHA})" in text
    assert "(https://github.com/octo-org/shop-app/pull/42)" in text
    bare = render_summary(both_succeeded(), SummaryOptions())
    assert "](https://" not in bare
    assert "8a1f0c3e5b7d9f2a4c6e8b0d1f3a5c7e9b2d4f6a" in bare


def test_links_point_at_the_server_of_the_run() -> None:
    options = SummaryOptions(server_url="https://ghe.example/", repository="org/app")
    text = render_summary(both_succeeded(), options)
    assert f"(https://ghe.example/org/app/commit/{SHA})" in text


def test_resume_setting_and_hint() -> None:
    cli = SummaryOptions(setting=lambda name, value: f"--{name} '{value}'")
    text = render_summary(timed_out(), cli)
    assert "--build-id 'android:bld_android_7Qx2, ios:bld_ios_7Qx2'" in text
    result = timed_out()
    result.resume_hint = "capwrapper-action --build-id ios:bld_ios_7Qx2"
    assert "capwrapper-action --build-id ios:bld_ios_7Qx2" in render_summary(result, OPTIONS)


def test_error_fence_is_longer_than_any_backtick_run_inside() -> None:
    result = one_failed()
    result.platforms["ios"].build = _build("ios", "failed", done=3, error="a ```` b\n```\nc")
    text = render_summary(result, OPTIONS)
    assert "`````\na ```` b\n```\nc\n`````" in text


def test_every_field_is_capped() -> None:
    huge = "x" * 100_000
    result = one_failed()
    result.platforms["ios"].build = _build("ios", "failed", done=3, error=huge, version=huge)
    result.notes.extend([huge] * 100)
    result.error = ActionError(huge, hint=huge, title="Timed out")
    text = render_summary(result, SummaryOptions(app_name=huge))
    assert len(text.encode("utf-8")) < 64 * 1024
    assert "… and 80 more" in text


def test_outside_text_cannot_inject_markup() -> None:
    evil = "</table><script>alert(1)</script> | **bold** [x](https://evil) ![i](x) `c` @team #1"
    result = one_failed()
    result.platforms["ios"].build = _build("ios", "failed", done=3, error=evil, version=evil)
    result.notes.append(evil)
    text = render_summary(result, SummaryOptions(app_name=evil))
    outside_code = outside_code_blocks(text)
    assert "<" not in outside_code
    assert "](https://evil)" not in outside_code
    assert "**bold**" not in outside_code
    for line in outside_code.splitlines():
        if line.startswith("| "):
            assert _cells(line) == 7, line


def _cells(row: str) -> int:
    """Cells of a table row as GFM splits it: a `|` right after a backslash is not a border."""
    borders = sum(1 for i, ch in enumerate(row) if ch == "|" and (i == 0 or row[i - 1] != "\\"))
    return borders - 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain text", "plain text"),
        ("a|b", "a\\|b"),
        ("<b>&</b>", "&lt;b&gt;&amp;&lt;/b&gt;"),
        ("*x* _y_ `z`", "\\*x\\* \\_y\\_ \\`z\\`"),
        ("[l](u)", "\\[l\\]\\(u\\)"),
        ("line\nbreak\r\nhere", "line break here"),
        ("# head", "\\# head"),
        ("1. item", "1. item"),
        ("https://x.y", "https\\://x.y"),
        ("www.x.y", "www\\.x.y"),
        ("a\\|b", "a\\\\\\|b"),
        ("bidi\u202eevil", "bidi\ufffdevil"),
    ],
)
def test_markdown_text_escaping(raw: str, expected: str) -> None:
    assert md.text(raw) == expected


def test_markdown_text_at_line_start() -> None:
    assert md.text("1. item", line_start=True) == "1\\. item"
    assert md.text("== x", line_start=True) == "\\== x"
    assert md.text("1.4.0") == "1.4.0"


def test_markdown_code_span_and_links() -> None:
    assert md.code("bld_1") == "`bld_1`"
    assert md.code("a`b") == "``a`b``"
    assert md.code("`x`") == "`` `x` ``"
    assert md.code("a|b") == "`a\\|b`"
    assert md.safe_url("https://x.y/a b(c)") == "https://x.y/a%20b%28c%29"
    assert md.safe_url("ftp://x.y/") is None
    assert md.safe_url("https://user:pw@x.y/") is None
    assert md.link("dl", "javascript:alert(1)") == "dl"
