"""What the run page shows: the action runs in-process against the simulator on a virtual clock
shared with the simulator's (minutes of building cost no real time), and its stdout is read as
the runner reads workflow commands.

- a `::group::` per phase, each closed by `::endgroup::` before the next opens, none empty;
- errors outside every group;
- one line per status change, with the elapsed time; no line per status check;
- `::debug::` lines only with RUNNER_DEBUG=1: method, path, status and timing of each request,
  never a header, a body or a secret;
- at most a handful of annotations, each with a `title=`.

The heartbeat's spacing on a virtual clock is tested in tests/unit/test_waiting.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from capwrapper_action.main import run
from capwrapper_simulator import ManualClock, PlatformConfig, SimConfig, Simulator
from tests.github_standin import GitHubStandin
from tests.integration.client_rig import LinkedClock
from tests.runner_files import DEFAULT_REPOSITORY, DEFAULT_SHA, RunnerEnv

KEY = "sk_live_LOGFORMATSECRET"
TOKEN = "ghs_runner-test-token"  # the github-token default of tests.runner_files
QUEUE, ANDROID, IOS, POLL = 30, 200, 400, 5  # seconds
PHASES = ["Settings", "Create builds", "Pull request", "Wait for builds", "Deploy", "Report"]
MAX_ANNOTATIONS = 5

_GROUP = re.compile(r"^::group::(.*)$")
_ANNOTATION = re.compile(r"^::(error|warning|notice)( (?P<props>[^:]*))?::(?P<message>.*)$")
_CHANGE = re.compile(r"^(android|ios): (\w+) → (\w+) \((?:(\d+)m )?(\d+)s\)$")
_REQUEST = re.compile(r"^::debug::(GET|POST) (/[\w./-]*) -> (\d{3}) in (\d+) ms$")
# Every kind of line the wait phase may print; anything else would be noise.
_WAIT_LINES = (
    _CHANGE,
    re.compile(r"^waiting up to .+ for .+$"),
    re.compile(r"^checking the status every \d+s$"),  # poll-interval: 5
    re.compile(r"^still waiting: .+$"),
    re.compile(r"^all builds finished after .+$"),
    re.compile(r"^(android|ios): recorded on the commit: (success|failure|error|pending), .+$"),
)


@pytest.fixture
def github() -> Iterator[GitHubStandin]:
    with GitHubStandin(repository=DEFAULT_REPOSITORY) as standin:
        standin.add_token(TOKEN)
        standin.add_pull(12, ["release"], head_sha="4" * 40, merge_commit_sha=DEFAULT_SHA,
                         merged=True)  # fmt: skip
        yield standin


def simulator(**platforms: PlatformConfig) -> Simulator:
    config = SimConfig(
        api_keys=frozenset({KEY}), queue_seconds=QUEUE,
        platforms={"android": PlatformConfig(build_seconds=ANDROID),
                   "ios": PlatformConfig(build_seconds=IOS), **platforms},
    )  # fmt: skip
    return Simulator(config, clock=ManualClock())


def run_action(
    sim: Simulator, github: GitHubStandin, tmp_path: Path, extra: dict[str, str] | None = None,
    *, debug: bool = False,
) -> tuple[int, list[str]]:
    runner = RunnerEnv(tmp_path / "runner")
    runner.env["GITHUB_API_URL"] = github.url
    given = {
        "api-key": KEY, "api-url": sim.base_url, "app-url": "https://shop.example.com",
        "app-name": "Example Shop", "bundle-id": "com.example.shop", "version": "1.4.0",
        "poll-interval": str(POLL), "deploy": "true", "deploy-labels": "release",
    }  # fmt: skip
    given.update({k.replace("_", "-"): v for k, v in (extra or {}).items()})
    env = runner.with_inputs(given)
    if debug:
        env["RUNNER_DEBUG"] = "1"
    out = io.StringIO()
    assert isinstance(sim.clock, ManualClock)
    code = run(env, stdout=out, clock=LinkedClock(sim.clock))
    log = out.getvalue()
    assert "Traceback" not in log, log
    return code, log.splitlines()


def groups(lines: list[str]) -> dict[str, list[str]]:
    """Each group's lines, checking that every group is closed before the next one opens
    (the runner does not nest groups) and that none is left open."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines:
        if match := _GROUP.match(line):
            assert current is None, f"group {match.group(1)!r} opened inside {current!r}"
            current = match.group(1)
            assert current not in found, f"group {current!r} opened twice"
            found[current] = []
        elif line == "::endgroup::":
            assert current is not None, "::endgroup:: without a group"
            current = None
        elif current is not None:
            found[current].append(line)
    assert current is None, f"group {current!r} never closed"
    return found


def in_order(names: list[str], wanted: list[str]) -> bool:
    rest = iter(names)
    return all(name in rest for name in wanted)


def annotation_lines(lines: list[str]) -> list[re.Match[str]]:
    return [m for line in lines if (m := _ANNOTATION.match(line))]


def seconds(match: re.Match[str]) -> int:
    return int(match.group(4) or 0) * 60 + int(match.group(5))


def test_a_group_per_phase_each_closed(github: GitHubStandin, tmp_path: Path) -> None:
    with simulator() as sim:
        code, lines = run_action(sim, github, tmp_path)
    assert code == 0, "\n".join(lines)
    found = groups(lines)
    assert in_order(list(found), PHASES), list(found)
    assert any("deploy dep_" in line for line in found["Deploy"])
    assert found["Report"][-1] == "status: success"
    assert all(found.values()), [name for name, lines in found.items() if not lines]
    assert found["Pull request"] == [f"pull request #12 for commit {DEFAULT_SHA[:7]}; labels "
                                     "(from the GitHub API): release"]
    assert "app-name: Example Shop" in found["Settings"]
    inside = {line for group in found.values() for line in group}
    outside = [ln for ln in lines if not ln.startswith("::") and ln not in inside]
    assert outside == []  # every line belongs to a phase


def test_no_deploy_group_when_not_deploying(github: GitHubStandin, tmp_path: Path) -> None:
    with simulator() as sim:
        code, lines = run_action(sim, github, tmp_path, {"deploy": "false"})
    assert code == 0
    names = list(groups(lines))
    assert "Deploy" not in names
    assert in_order(names, [p for p in PHASES if p != "Deploy"])


def test_a_bad_input_opens_no_group_and_its_error_stands_outside(
    github: GitHubStandin, tmp_path: Path
) -> None:
    with simulator() as sim:
        code, lines = run_action(sim, github, tmp_path, {"timeout": "soon"})
    assert code == 1
    assert list(groups(lines)) == ["Report"]
    [error] = [ln for ln in lines if ln.startswith("::error")]
    assert lines.index(error) < lines.index("::group::Report")


def test_a_failed_build_is_annotated_outside_every_group(
    github: GitHubStandin, tmp_path: Path
) -> None:
    with simulator(ios=PlatformConfig(build_seconds=IOS, outcome="failed")) as sim:
        code, lines = run_action(sim, github, tmp_path)
    assert code == 1
    found = groups(lines)
    inside = {line for group in found.values() for line in group}
    errors = [ln for ln in lines if ln.startswith("::error")]
    assert errors
    assert not inside & set(errors)


def test_one_line_per_status_change_with_the_elapsed_time(
    github: GitHubStandin, tmp_path: Path
) -> None:
    with simulator() as sim:
        code, lines = run_action(sim, github, tmp_path)
        polls = sim.request_count("get_build")
    assert code == 0
    wait = groups(lines)["Wait for builds"]
    changes = [m for line in wait if (m := _CHANGE.match(line))]
    assert [(m.group(1), m.group(2), m.group(3)) for m in changes] == [
        ("android", "queued", "building"),
        ("ios", "queued", "building"),
        ("android", "building", "success"),
        ("ios", "building", "success"),
    ]
    expected = [QUEUE, QUEUE, QUEUE + ANDROID, QUEUE + IOS]
    for match, at in zip(changes, expected, strict=True):
        assert at <= seconds(match) <= at + POLL, match.group(0)
    # No line per status check: every line is of a known kind, and there are far fewer
    # lines than checks (a heartbeat at most once a minute).
    for line in wait:
        assert any(kind.match(line) for kind in _WAIT_LINES), line
    heartbeats = [line for line in wait if line.startswith("still waiting: ")]
    assert len(heartbeats) <= (QUEUE + IOS) // 60 + 1
    assert polls > 4 * len(wait)


def test_debug_lines_only_when_step_debug_is_on(github: GitHubStandin, tmp_path: Path) -> None:
    with simulator() as sim:
        code, lines = run_action(sim, github, tmp_path)
    assert code == 0
    assert not [line for line in lines if line.startswith("::debug::")]


def test_debug_lines_hold_method_path_status_and_timing_only(
    github: GitHubStandin, tmp_path: Path
) -> None:
    with simulator() as sim:
        code, lines = run_action(sim, github, tmp_path, debug=True)
        sent = sim.requests()
    assert code == 0
    debug = [line for line in lines if line.startswith("::debug::")]
    requests = [m for line in debug if (m := _REQUEST.match(line))]
    assert len(requests) == len(sent)  # one line per request to the API, each with timing
    assert [(m.group(1), m.group(3)) for m in requests] == [
        (r.method, str(r.status)) for r in sent
    ]
    assert {m.group(2) for m in requests} >= {"/builds", "/deploys"}
    for line in debug:
        for secret in (KEY, TOKEN, "Authorization", "Bearer", "Idempotency-Key", "{", "appName"):
            assert secret not in line, line
    # Debug lines never carry a body: status-change lines stay plain.
    assert sum(1 for line in lines if _CHANGE.match(line)) == 4


@pytest.mark.parametrize(
    ("case", "platforms", "extra", "titles"),
    [
        ("success", {}, {}, []),
        ("one build fails", {"ios": PlatformConfig(build_seconds=IOS, outcome="failed")}, {},
         ["iOS build failed"]),
        ("both builds fail",
         {p: PlatformConfig(build_seconds=ANDROID, outcome="failed") for p in ("android", "ios")},
         {}, ["Android build failed", "iOS build failed"]),
        ("timeout", {}, {"timeout": "2m"}, ["Timed out"]),
        ("wrong key", {}, {"api_key": "sk_live_WRONGKEY"}, None),
        ("bad input", {}, {"platforms": "windows"}, None),
        ("deploy gate says no", {}, {"deploy_labels": "ship-it"}, ["Deploy skipped"]),
    ],
)  # fmt: skip
def test_few_annotations_each_with_a_title(
    github: GitHubStandin, tmp_path: Path, case: str, platforms: dict[str, PlatformConfig],
    extra: dict[str, str], titles: list[str] | None,
) -> None:
    with simulator(**platforms) as sim:
        _, lines = run_action(sim, github, tmp_path, extra)
    found = annotation_lines(lines)
    assert len(found) <= MAX_ANNOTATIONS, case
    for match in found:
        props = match.group("props") or ""
        assert re.search(r"(^|,)title=[^,]+", props), match.group(0)
        assert match.group("message").strip(), match.group(0)
    if titles is not None:
        assert sorted(re.sub(r".*title=", "", m.group("props")) for m in found) == titles
    else:
        assert len(found) == 1, case
