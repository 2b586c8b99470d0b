"""Bad input, end to end (issue 6): the whole action runs in-process against a live simulator,
once per bad value, and must end with exit code 1, one error annotation naming the input,
no request sent, no traceback, no secret printed, and outputs the runner can parse."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from capwrapper_action.main import run
from capwrapper_simulator import SimConfig, Simulator
from tests.runner_files import RunnerEnv, parse_output_file

KEY = "sk_live_TOPSECRETKEY"
TOKEN = "ghs_TOPSECRETTOKEN"
PORT = "{port}"  # replaced by the simulator's port
ACTION_YML = Path(__file__).resolve().parents[2] / "action.yml"
_ERROR_LINE = re.compile(r"::error title=(?P<title>[^:]*)::(?P<message>.*)")


@dataclass(frozen=True)
class Case:
    input: str
    value: str
    why: str

    @property
    def id(self) -> str:
        return f"{self.input}:{self.why}"


CASES = [
    # secrets
    Case("api-key", "", "empty"),
    Case("api-key", f"Bearer {KEY}", "bearer prefix"),
    Case("api-key", f"{KEY} {KEY}", "white space"),
    Case("api-key", f"{KEY}\nsecond", "newline"),
    Case("github-token", f"{TOKEN} x", "white space"),
    # URLs
    Case("api-url", "", "empty"),
    Case("api-url", "http://api.capwrapper.com/v1", "http to a public host"),
    Case("api-url", "http://10.1.2.3/v1", "http to a private host"),
    Case("api-url", "https://user:hunter2@api.capwrapper.com/v1", "credentials"),
    Case("api-url", f"http://user:hunter2@127.0.0.1:{PORT}/v1", "credentials to loopback"),
    Case("api-url", "ftp://api.capwrapper.com/v1", "wrong scheme"),
    Case("api-url", f"http://127.0.0.1:{PORT}/v1?debug=1", "query"),
    Case("app-url", "", "empty required"),
    Case("app-url", "http://shop.example.com", "not https"),
    Case("app-url", "shop.example.com", "no scheme"),
    Case("app-url", "https://localhost:3000", "private host"),
    Case("app-url", "https://shop.example.com/a b", "white space"),
    # names and versions
    Case("app-name", "", "empty required"),
    Case("app-name", "Shop\n::set-env name=X::1", "newline"),
    Case("app-name", "Shop\x1b[31m", "control character"),
    Case("app-name", "A" * 101, "too long"),
    Case("app-name", "x" * 1_000_000, "huge"),
    Case("bundle-id", "", "empty required"),
    Case("bundle-id", "shop", "one part"),
    Case("bundle-id", "com..shop", "empty part"),
    Case("bundle-id", "com.1shop", "digit first"),
    Case("bundle-id", "com.example.my shop", "space"),
    Case("version", "v1.4.0", "leading v"),
    Case("version", "1.4", "two numbers"),
    Case("version", "latest", "a word"),
    Case("version-bump", "micro", "unknown"),
    # lists
    Case("platforms", "", "empty"),
    Case("platforms", "windows", "unknown"),
    Case("platforms", "android, ios, android", "duplicated"),
    Case("permissions", "camera, 1gps", "not a name"),
    Case("permissions", "[camera, {a: 1}]", "not a list of words"),
    Case("deploy-labels", "x" * 51, "label too long"),
    # mappings
    Case("build-options", "[1, 2]", "a list"),
    Case("build-options", '{"orientation": "portrait"', "malformed JSON"),
    Case("build-options", "a: [1, 2", "malformed YAML"),
    Case("build-options", "url: https://evil.example.com", "overrides url"),
    Case("build-options", '{"version": "9.9.9"}', "overrides version"),
    Case("build-options", "a: &x 1\nb: *x", "YAML alias"),
    Case("build-options", "a: " + "x" * 70_000, "huge"),
    Case("deploy-options", '{"buildId": "bld_other"}', "overrides buildId"),
    Case("deploy-options", "track: [internal", "malformed YAML"),
    # resume
    Case("build-id", "windows:bld_1", "unknown platform"),
    Case("build-id", "android:bld_1, android:bld_2", "platform twice"),
    Case("build-id", "bld/../../x", "unsafe characters"),
    # booleans
    Case("wait", "yes", "yaml 1.1 boolean"),
    Case("deploy", "1", "number"),
    Case("download", "on", "yaml 1.1 boolean"),
    Case("summary", "", "empty"),
    Case("summary-download-links", "TRUE!", "not a boolean"),
    Case("dry-run", "maybe", "not a boolean"),
    # durations
    Case("timeout", "-5", "negative"),
    Case("timeout", "0", "zero"),
    Case("timeout", "100h", "absurd"),
    Case("timeout", "forever", "not a duration"),
    Case("queue-timeout", "-1m", "negative"),
    Case("poll-interval", "0.1", "too short"),
    Case("poll-interval", "9999", "too long"),
    # paths
    Case("download-path", "/etc", "absolute"),
    Case("download-path", "../outside", "outside the workspace"),
    Case("config-file", "missing.yml", "missing"),
    Case("config-file", "../elsewhere.yml", "outside the workspace"),
]


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    with Simulator(SimConfig(api_keys=frozenset({KEY}))) as running:
        yield running


def _good_inputs(sim: Simulator) -> dict[str, str]:
    return {
        "api-key": KEY,
        "api-url": sim.base_url,
        "app-url": "https://shop.example.com",
        "app-name": "Example Shop",
        "bundle-id": "com.example.shop",
        "version": "1.0.0",
        "wait": "false",
        "github-token": "",
    }


def _run(tmp_path: Path, inputs: dict[str, str]) -> tuple[int, str, RunnerEnv]:
    runner = RunnerEnv(tmp_path)
    out = io.StringIO()
    code = run(runner.with_inputs(inputs), stdout=out)
    return code, out.getvalue(), runner


def _declared_outputs() -> set[str]:
    return set(yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))["outputs"])


def _unescape(text: str) -> str:
    for escaped, plain in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n")):
        text = text.replace(escaped, plain)
    return text.replace("%25", "%")


def test_good_inputs_reach_the_simulator(simulator: Simulator, tmp_path: Path) -> None:
    """The control case: with nothing wrong, requests are sent (so zero below means something)."""
    before = simulator.request_count()
    code, stdout, runner = _run(tmp_path, _good_inputs(simulator))
    assert code == 0, stdout
    assert simulator.request_count() > before
    assert parse_output_file(runner.output.read_text(encoding="utf-8"))["status"] == "created"


def test_at_least_45_bad_values() -> None:
    assert len(CASES) >= 45
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_stops_before_any_request(
    case: Case, simulator: Simulator, tmp_path: Path
) -> None:
    inputs = _good_inputs(simulator)
    inputs[case.input] = case.value.replace(PORT, str(simulator.port))
    (tmp_path / "elsewhere.yml").write_text("app-name: Elsewhere\n", encoding="utf-8")
    before = simulator.request_count()

    code, stdout, runner = _run(tmp_path / "runner", inputs)

    assert code == 1, stdout[-2000:]
    assert simulator.request_count() == before, "a request was sent"
    assert "Traceback" not in stdout
    errors = [m for line in stdout.splitlines() if (m := _ERROR_LINE.fullmatch(line))]
    assert len(errors) == 1, stdout[-2000:]
    title, message = _unescape(errors[0]["title"]), _unescape(errors[0]["message"])
    assert title.startswith("Invalid input"), title
    assert case.input in title.split(": ", 1)[1].split(", "), title
    assert f"Input '{case.input}'" in message
    assert "Example of a valid value" in message
    _assert_no_secret(stdout, runner)
    outputs = parse_output_file(runner.output.read_text(encoding="utf-8"))
    assert _declared_outputs() <= set(outputs)
    assert outputs["status"] == "failed"
    assert case.input in outputs["error"]
    assert outputs["deployed"] == "false"
    assert outputs["android-build-id"] == outputs["ios-build-id"] == ""
    assert outputs["builds"] in ("", "[]")


def _assert_no_secret(stdout: str, runner: RunnerEnv) -> None:
    for line in stdout.splitlines():
        if not line.startswith("::add-mask::"):
            assert "TOPSECRET" not in line, line
            assert "hunter2" not in line, line
    for path in (runner.output, runner.summary, runner.env_file):
        text = path.read_text(encoding="utf-8")
        assert "TOPSECRET" not in text
        assert "hunter2" not in text
