"""Smoke tests of the benchmark code (bench/) on tiny sizes: it runs, measures what it says and
reports it. No assertion here is about speed."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from bench import __main__ as cli
from bench import chart, e2e, faults, footprint, report, scale, startup
from bench import harness as H
from bench.outage import SharedClock

QUEUE_AND_BUILD = faults.QUEUE_SECONDS + faults.BUILD_SECONDS
IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:       300 |        900 | capwrapper_action.main
@@first-socket-connect
import time:        50 |         50 |     github.Auth
import time:       400 |        450 |   github
"""


def test_parse_importtime_splits_at_the_first_request() -> None:
    found = startup.parse_importtime(IMPORTTIME)
    assert [(m.module, m.depth, m.before_request) for m in found] == [
        ("_io", 1, True),
        ("capwrapper_action.main", 0, True),
        ("github.Auth", 2, False),
        ("github", 1, False),
    ]
    assert found[1].self_us == 300
    assert found[1].cumulative_us == 900


@pytest.mark.parametrize(
    ("module", "group"),
    [
        ("capwrapper_action.api.client", "capwrapper_action"),
        ("urllib3.util.url", "requests stack"),
        ("yaml.reader", "PyYAML"),
        ("github.Requester", "PyGithub and its deps"),
        ("email.utils", "standard library"),
    ],
)
def test_group_of(module: str, group: str) -> None:
    assert startup.group_of(module) == group


def test_median() -> None:
    assert H.median([3.0, 1.0, 2.0]) == 2.0
    assert H.median([4.0, 1.0, 2.0, 3.0]) == 2.5


def test_child_reports_its_own_peak_rss_not_the_benchmarks(tmp_path: Path) -> None:
    ballast = bytearray(64 * 1024 * 1024)  # this process is now large; the child is not
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    done = H.run_child([sys.executable, "-c", "pass"], {}, tmp_path, rss=True)
    assert done.returncode == 0
    assert H.rss_mib(done) < 48
    plain = H.run_child([sys.executable, "-c", "print('hi')"], {}, tmp_path)
    assert plain.output.strip() == "hi"
    assert plain.max_rss_kib is None


def test_tree_size(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 5)
    size = footprint.tree_size(tmp_path)
    assert size["apparent"] == 15
    assert size["files"] == 2


# -- the benchmarks themselves, on tiny sizes --------------------------------------------------


# The tests that share `startup_data` go to one parallel worker. Making it mirrors the image
# twice and runs a dozen programs: 22-28 s on a lightly loaded 2-core machine, over the 60 s per
# test when other suites share the machine.
ONE_WORKER = pytest.mark.xdist_group("bench-startup")
SLOW_FIXTURE = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def startup_data() -> dict[str, Any]:
    return startup.run(runs=1)


@ONE_WORKER
@SLOW_FIXTURE
def test_startup_measures_every_program(startup_data: dict[str, Any]) -> None:
    names = [v["name"] for v in startup_data["variants"]]
    assert names == [
        startup.PASS,
        startup.IMPORT,
        startup.FLOOR,
        startup.ACTION,
        startup.PRECOMPILED,
    ]
    assert all(v["runs"] == 1 and v["median_ms"] > 0 for v in startup_data["variants"])
    imports = startup_data["imports"]
    assert imports["modules_before"] > 0
    assert "capwrapper_action" in imports["groups_ms"]
    assert imports["github_before"] == 0  # PyGithub waits until the GitHub API is called
    assert imports["github_dry_run"] == 0
    assert imports["github_after"] > 0
    text = startup.markdown(startup_data)
    assert "entrypoint.py (image as shipped)" in text
    assert "PyGithub modules imported before the first request: **0**" in text


def test_e2e_run_with_fixed_polling() -> None:
    data = e2e.run(build_seconds=1.0, repeats=1, configs=(e2e.FIXED_1,))
    (row,) = data["rows"]
    assert row["all_ok"]
    assert row["by_endpoint"]["POST create_build"] == 2
    assert row["requests"] >= 4  # two creates, at least one status check per build
    assert row["overhead"] == pytest.approx(row["before"] + row["lag"] + row["after"])
    assert row["slower_build"] == pytest.approx(1.0, abs=0.05)
    assert "poll-interval: 1" in e2e.markdown(data)


def test_scale_runs_parallel_jobs() -> None:
    data = scale.run([2], build_seconds=1.0, poll_interval="1")
    (s,) = data["scales"]
    assert s["succeeded"] == 2
    assert not s["failed"]
    assert s["by_endpoint"]["POST create_build"] == 2
    assert s["max_rss_mib"] > 0
    assert "| 2 | 2 |" in scale.markdown(data)


def test_footprint_full_run() -> None:
    full = footprint.full_run(build_seconds=0.5)
    assert full["ok"], full["output"]
    assert full["deploys"] == 2
    assert full["downloads"] == 2
    assert full["max_rss_mib"] > 0


def _section(data: dict[str, Any], command: str = "python -m bench.x") -> dict[str, Any]:
    return {"command": command, "machine": H.machine(), "seconds": 1.0, "data": data}


@ONE_WORKER
@SLOW_FIXTURE
def test_report_and_chart_from_partial_results(
    tmp_path: Path, startup_data: dict[str, Any]
) -> None:
    sections = {"startup": _section(startup_data, "python -m bench.startup --runs 1")}
    page = cli.write(sections, tmp_path)
    text = page.read_text(encoding="utf-8")
    assert "`python -m bench.startup --runs 1`" in text
    assert "cores" in text
    assert "Not measured yet: `python -m bench --only scale`" in text
    assert (tmp_path / cli.CHART).read_bytes().startswith(b"\x89PNG")


@ONE_WORKER
@SLOW_FIXTURE
def test_cli_merges_a_subset_into_stored_results(
    tmp_path: Path, startup_data: dict[str, Any]
) -> None:
    (tmp_path / "results.json").write_text(
        json.dumps({"startup": _section(startup_data)}), encoding="utf-8"
    )
    assert cli.main(["--only", "polling", "--polling-points", "3", "--out", str(tmp_path)]) == 0
    stored = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert set(stored) == {"startup", "polling"}
    assert stored["polling"]["command"] == "python -m bench.polling 3"
    text = (tmp_path / cli.PAGE).read_text(encoding="utf-8")
    assert "## 2. Waiting efficiency" in text
    assert "Build finishes" in text
    (tmp_path / cli.PAGE).unlink()
    assert cli.main(["--render", "--out", str(tmp_path)]) == 0  # runs nothing, rewrites the page
    assert "## 2. Waiting efficiency" in (tmp_path / cli.PAGE).read_text(encoding="utf-8")


def test_every_section_renders() -> None:
    assert set(report.RENDERERS) == set(report.TITLES) == set(cli.SECTIONS)
    assert set(chart.PANELS) <= set(report.TITLES)


def test_scale_report_sets_the_last_run_against_the_least_time_the_limit_allows() -> None:
    s = {"requests": 300, "answered_429": 30, "limit": 60, "window": 60.0, "span": 265.0,
         "no_history": 40}
    text = scale._pace(s)
    assert "270 answered requests need 240 s at the least" in text
    assert "done after 265 s" in text
    assert "40 runs gave up the build history" in text
    assert "gave up" not in scale._pace({**s, "no_history": 0})


def test_fault_benchmark_rides_out_a_short_outage(tmp_path: Path) -> None:
    row = faults.run_scenario("create", 30.0, 2, tmp_path)
    assert (row["failed_runs"], row["duplicate_builds"], row["duplicate_deploys"]) == (0, 0, 0)
    assert row["failed_requests"] > 0
    assert row["affected_runs"] == 2
    assert 0.0 <= row["recovery_max_s"] <= 31.0  # the backoff is capped at 30 s
    assert row["virtual_s"] > QUEUE_AND_BUILD  # virtual time: minutes, in a second or two
    assert "| 2 | 30 s | create | 0 | 0 | 0 |" in faults.table([row])
    _, measured, target = faults.headline({"rows": [row]})
    assert (measured.split(" (")[0], target) == ("0 / 0 / 0", "0 / 0 / 0: met")


def test_the_shared_clock_moves_only_when_every_run_sleeps() -> None:
    clock = SharedClock(epoch=0.0)
    woke: list[tuple[str, float]] = []

    def sleeper(name: str, seconds: float) -> None:
        clock.sleep(seconds, threading.Event())
        woke.append((name, clock.now()))
        clock.leave()

    clock.join()
    clock.join()
    threads = [threading.Thread(target=sleeper, args=("long", 300.0)),
               threading.Thread(target=sleeper, args=("short", 30.0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert woke == [("short", 30.0), ("long", 300.0)]
