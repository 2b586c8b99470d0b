"""The pull request comment and the "released in" note, rendered from a run's result."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from capwrapper_action.api.models import Build, Deploy
from capwrapper_action.errors import ActionError
from capwrapper_action.github.event import GitHubContext, PullDetails
from capwrapper_action.report.pr_comment import (
    LIVING,
    RELEASED,
    CommentInfo,
    marker,
    render_living,
    render_released,
)
from capwrapper_action.result import GateDecision, RunResult, RunStatus
from tests.markdown_text import outside_code_blocks

SHA = "4" * 40
T0 = datetime(2026, 1, 1, tzinfo=UTC)
CTX = GitHubContext(
    event_name="pull_request", repository="octo/shop", server_url="https://github.com",
    api_url="https://api.github.com", commit_sha=SHA, pull_request=12, labels=(),
    labels_source="", from_fork=False, warnings=(), run_id="99",
    pull=PullDetails(title="t", body="b"),
)  # fmt: skip
INFO = CommentInfo(bundle_id="com.example.shop", app_name="Example Shop")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")  # shown as typed, never rendered
HOSTILE = "<img src=x onerror=alert(1)> @everyone [x](javascript:alert(1)) --> | **b**"


def build(platform: str, status: str = "success", **extra: object) -> Build:
    return Build(
        id=f"bld_{platform}", status=status, platform=platform, version="1.2.0",
        bundle_id="com.example.shop", created_at=T0, completed_at=T0 + timedelta(seconds=95),
        download_url=f"https://cdn.example/{platform}.bin?sig=SECRET", **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def result(status: RunStatus = RunStatus.SUCCESS) -> RunResult:
    res = RunResult.for_platforms(("android", "ios"))
    res.status, res.version, res.commit_sha, res.pull_request = status, "1.2.0", SHA, 12
    res.platforms["android"].build = build("android")
    res.platforms["ios"].build = build("ios")
    return res


def test_marker_holds_the_kind_and_a_safe_bundle_id() -> None:
    assert marker(LIVING, "com.example.shop") == (
        "<!-- capwrapper-action:pr-comment bundle-id=com.example.shop -->"
    )
    assert marker(RELEASED, "a-->b <x>") == "<!-- capwrapper-action:released bundle-id=a_b_x_ -->"
    assert marker(LIVING, "com.a") != marker(LIVING, "com.b")
    assert marker(LIVING, "com.a", ("android", "ios")) == (
        "<!-- capwrapper-action:pr-comment bundle-id=com.a platforms=android,ios -->"
    )
    assert marker(LIVING, "com.a", ("android",)) != marker(LIVING, "com.a", ("ios",))


def test_building_comment() -> None:
    res = result()
    for state in res.platforms.values():
        assert state.build is not None
        state.build = Build(id=state.build.id, status="building", platform=state.platform)
    body = render_living(res, CTX, INFO, in_progress=True)
    assert body.startswith(marker(LIVING, "com.example.shop") + "\n")
    assert "### ⏳ Capwrapper: Example Shop 1.2.0: building" in body
    assert body.count("| ⏳ building |") == 2  # both rows
    assert "[workflow run](https://github.com/octo/shop/actions/runs/99)" in body
    assert f"Commit [`4444444`](https://github.com/octo/shop/commit/{SHA})" in body


def test_final_comment_has_status_version_build_time_and_no_links_by_default() -> None:
    body = render_living(result(), CTX, INFO, in_progress=False)
    assert "### ✅ Capwrapper: Example Shop 1.2.0: builds succeeded" in body
    assert "| Android | ✅ success | 1.2.0 | `bld_android` | 1m 35s |" in body
    assert "cdn.example" not in body
    assert "SECRET" not in body
    assert "Download" not in body


def test_download_links_only_when_asked() -> None:
    info = CommentInfo(bundle_id="com.example.shop", download_links=True)
    body = render_living(result(), CTX, info, in_progress=False)
    assert "[download](https://cdn.example/android.bin?sig=SECRET)" in body


def test_deploys_show_store_and_track() -> None:
    res = result()
    res.platforms["android"].deploy = Deploy("dep_1", "bld_android", "queued", raw={})
    res.platforms["ios"].deploy = Deploy("dep_2", "bld_ios", None, raw={"store": "TestFlight"})
    info = CommentInfo(bundle_id="com.example.shop", deploy_options={"track": "beta"})
    body = render_released(res, CTX, info)
    assert body.startswith(marker(RELEASED, "com.example.shop"))
    assert "`dep_1`: submitted to the store, queued (track: beta)" in body
    assert "`dep_2`: submitted to the store \\(Capwrapper gave no status\\) " \
        "(store: TestFlight, track: beta)" in body
    assert "Merge commit [`4444444`]" in body


def deployed(android: str | None, ios: str | None, **android_raw: object) -> RunResult:
    """A successful run whose deploys the API answered with these statuses."""
    res = result()
    res.platforms["android"].deploy = Deploy("dep_1", "bld_android", android, raw=android_raw)
    res.platforms["ios"].deploy = Deploy("dep_2", "bld_ios", ios, raw={})
    return res


def test_a_queued_deploy_is_submitted_not_released() -> None:
    body = render_released(deployed("queued", "queued"), CTX, INFO)
    assert "### 📤 Example Shop 1.2.0: submitted to the stores (queued)" in body
    assert "Released" not in body


def test_no_store_is_named_that_nobody_named() -> None:
    res = deployed("queued", "queued")
    for body in (render_released(res, CTX, INFO),
                 render_living(res, CTX, INFO, in_progress=False)):  # fmt: skip
        assert "Google Play" not in body
        assert "App Store" not in body
        assert "store:" not in body


def test_store_track_and_rollout_under_their_other_names() -> None:
    res = deployed("queued", "queued", storeName="Google Play", channel="internal",
                   rolloutPercentage=10)  # fmt: skip
    info = CommentInfo(bundle_id="x", deploy_options={"releaseTrack": "beta"})
    body = render_released(res, CTX, info)
    assert "(store: Google Play, track: internal, rollout: 10%)" in body
    assert "`dep_2`: submitted to the store, queued (track: beta)" in body


def test_released_only_when_the_api_said_every_deploy_is_done() -> None:
    released = render_released(deployed("published", "completed"), CTX, INFO)
    assert "### 🚀 Released in Example Shop 1.2.0" in released
    body = render_released(deployed("published", "rejected"), CTX, INFO)
    assert "### ❌ Release of Example Shop 1.2.0: the store did not accept it" in body
    assert "Released" not in body


def test_released_note_when_the_gate_said_no() -> None:
    res = result()
    res.gate = GateDecision(True, False, "deploy skipped: pull request #12 has none of release")
    body = render_released(res, CTX, INFO)
    assert "### ✅ Built in Example Shop 1.2.0, not deployed" in body
    assert "**Not deployed:** pull request \\#12 has none of release." in body


def test_failed_run() -> None:
    res = result(RunStatus.FAILED)
    res.platforms["ios"].build = build("ios", status="failed", error="Signing failed")
    res.error = ActionError("boom", title="Build failed")
    body = render_living(res, CTX, INFO, in_progress=False)
    assert "### ❌ Capwrapper: Example Shop 1.2.0: failed" in body
    assert "❌ failed: Signing failed" in body
    assert "**Build failed:** boom" in body
    assert "### ❌ Release of Example Shop 1.2.0: failed" in render_released(res, CTX, INFO)


def test_outside_text_stays_inert() -> None:
    res = result(RunStatus.FAILED)
    res.version = HOSTILE
    res.platforms["ios"].build = build("ios", status="failed", error=HOSTILE)
    deploy = Deploy(HOSTILE, "bld_android", HOSTILE, raw={"track": HOSTILE})
    res.platforms["android"].deploy = deploy
    res.error = ActionError(HOSTILE, title=HOSTILE)
    res.gate = GateDecision(True, False, HOSTILE)
    info = CommentInfo(bundle_id="x", app_name=HOSTILE, download_links=True)
    for body in (render_living(res, CTX, info, in_progress=False), render_released(res, CTX, info)):
        assert body.count("<!--") == 1  # the marker; no other HTML comment can start
        text = _CODE_SPAN.sub("", outside_code_blocks(body.split("\n", 1)[1]))
        assert "<img" not in text
        for raw in (r"@everyone", r"\]\(javascript", r"\*\*b", r"\| \*\*"):
            assert not re.search(r"(?<!\\)" + raw, text), raw  # each one backslash-escaped
