"""The step outputs: every output of action.yml, always, computed from the RunResult."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from capwrapper_action import result as R
from capwrapper_action.api.models import Build, Deploy
from capwrapper_action.errors import AuthError, ConfigError
from capwrapper_action.report.outputs import JSON_LIMIT, OUTPUT_NAMES, build_outputs
from capwrapper_action.result import RunStatus
from tests.runner_files import ACTION_YML


def _build(**fields: Any) -> Build:
    obj = {"id": "bld_a1", "status": "success", "platform": "android", "version": "1.4.0"}
    obj.update(fields)
    return Build.from_api(obj)


def _both_succeeded() -> R.RunResult:
    result = R.RunResult.for_platforms(("android", "ios"))
    result.status = RunStatus.SUCCESS
    result.version = "1.4.0"
    result.commit_sha = "8a1f0c3e5b7d9f2a4c6e8b0d1f3a5c7e9b2d4f6a"
    result.pull_request = 17
    result.platforms["android"].build = _build(
        downloadUrl="https://cdn.example/a.apk?sig=1", extra={"kept": True}
    )
    result.platforms["ios"].build = _build(
        id="bld_i1", platform="ios", downloadUrl="https://cdn.example/i.ipa?sig=2"
    )
    result.gate = R.GateDecision(False, False, "deploy not requested")
    return result


def test_names_are_exactly_the_outputs_of_action_yml() -> None:
    declared = yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))["outputs"]
    assert set(OUTPUT_NAMES) == set(declared)
    assert list(OUTPUT_NAMES) == list(declared)  # same order as the docs


@pytest.mark.parametrize(
    "result",
    [
        R.RunResult.for_platforms(()),
        R.RunResult.for_platforms(("ios",)),
        _both_succeeded(),
    ],
)
def test_every_output_is_always_there_as_text(result: R.RunResult) -> None:
    outputs = build_outputs(result)
    assert list(outputs) == list(OUTPUT_NAMES)
    assert all(isinstance(v, str) for v in outputs.values())


def test_both_succeeded() -> None:
    outputs = build_outputs(_both_succeeded())
    assert outputs["status"] == "success"
    assert outputs["error"] == ""
    assert outputs["version"] == "1.4.0"
    assert outputs["android-build-id"] == "bld_a1"
    assert outputs["ios-build-id"] == "bld_i1"
    assert outputs["android-status"] == outputs["ios-status"] == "success"
    assert outputs["android-download-url"] == "https://cdn.example/a.apk?sig=1"
    assert outputs["ios-download-url"] == "https://cdn.example/i.ipa?sig=2"
    assert outputs["android-artifact-path"] == ""
    assert outputs["commit-sha"] == "8a1f0c3e5b7d9f2a4c6e8b0d1f3a5c7e9b2d4f6a"
    assert outputs["pull-request"] == "17"
    assert outputs["deployed"] == "false"
    assert outputs["deploys"] == "[]"
    assert outputs["deploy-skipped-reason"] == "deploy not requested"


def test_builds_is_compact_json_of_the_raw_objects_unknown_fields_kept() -> None:
    outputs = build_outputs(_both_succeeded())
    builds = json.loads(outputs["builds"])
    assert [b["id"] for b in builds] == ["bld_a1", "bld_i1"]
    assert builds[0]["extra"] == {"kept": True}
    assert ", " not in outputs["builds"]
    assert ": " not in outputs["builds"]


def test_platform_not_requested_is_empty() -> None:
    result = R.RunResult.for_platforms(("ios",))
    result.platforms["ios"].build = _build(id="bld_i1", platform="ios", status="queued")
    outputs = build_outputs(result)
    assert outputs["android-build-id"] == outputs["android-status"] == ""
    assert outputs["ios-status"] == "queued"


def test_download_url_only_for_a_successful_build() -> None:
    result = R.RunResult.for_platforms(("android",))
    result.platforms["android"].build = _build(status="failed", downloadUrl="https://x/y")
    assert build_outputs(result)["android-download-url"] == ""


def test_error_is_message_and_hint() -> None:
    result = R.RunResult.for_platforms(("android",))
    result.error = AuthError("Invalid or missing API key.", status_code=401)
    outputs = build_outputs(result)
    assert outputs["status"] == "failed"
    assert outputs["error"].startswith("Invalid or missing API key. Check the secret")


def test_config_error_before_anything_was_sent() -> None:
    result = R.RunResult.for_platforms(())
    result.error = ConfigError("version", "'1.4' is not a semver version", "1.4.0")
    outputs = build_outputs(result)
    assert outputs["error"] == (
        "Input 'version': '1.4' is not a semver version Example of a valid value: 1.4.0"
    )
    assert outputs["builds"] == "[]"
    assert outputs["deployed"] == "false"
    assert outputs["deploy-skipped-reason"] == "the run ended (failed) before the deploy decision"


def test_deployed() -> None:
    result = _both_succeeded()
    result.gate = R.GateDecision(True, True, "label `ship` present")
    result.deploy_attempted = True
    for platform, state in result.platforms.items():
        assert state.build is not None
        raw = {"id": f"dpl_{platform}", "status": "submitted", "store": "x"}
        state.deploy = Deploy.from_api(raw, state.build.id)
    outputs = build_outputs(result)
    assert outputs["deployed"] == "true"
    assert outputs["deploy-skipped-reason"] == ""
    assert outputs["android-deploy-id"] == "dpl_android"
    assert outputs["ios-deploy-id"] == "dpl_ios"
    assert [d["store"] for d in json.loads(outputs["deploys"])] == ["x", "x"]


def test_deploy_failed_half_way_says_why() -> None:
    result = _both_succeeded()
    result.gate = R.GateDecision(True, True, "no label gate")
    result.deploy_attempted = True
    result.platforms["android"].deploy = Deploy.from_api({"id": "dpl_1"}, "bld_a1")
    result.error = AuthError("Invalid or missing API key.")
    outputs = build_outputs(result)
    assert outputs["deployed"] == "false"
    assert outputs["android-deploy-id"] == "dpl_1"
    assert outputs["ios-deploy-id"] == ""
    assert outputs["deploy-skipped-reason"] == "deploy failed: Invalid or missing API key."


def test_skipped_by_label_gate() -> None:
    result = _both_succeeded()
    result.gate = R.GateDecision(True, False, "pull request #17 has none of the labels: ship")
    outputs = build_outputs(result)
    assert outputs["deploy-skipped-reason"] == "pull request #17 has none of the labels: ship"


def test_gigantic_raw_objects_are_cut_but_stay_json() -> None:
    result = _both_succeeded()
    result.platforms["android"].build = _build(blob="x" * (JSON_LIMIT * 2))
    builds_text = build_outputs(result)["builds"]
    assert len(builds_text) <= JSON_LIMIT
    builds = json.loads(builds_text)
    assert builds[0]["id"] == "bld_a1"
    assert builds[0]["blob"].endswith("…")


def test_lone_surrogates_from_the_api_stay_writable() -> None:
    raw = json.loads('{"id": "bld_a1", "status": "success", "note": "\\ud800x"}')
    result = R.RunResult.for_platforms(("android",))
    result.platforms["android"].build = Build.from_api(raw)
    outputs = build_outputs(result)
    for value in outputs.values():
        value.encode("utf-8")
    assert json.loads(outputs["builds"])[0]["note"] == "\ud800x"
