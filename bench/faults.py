"""``python -m bench.faults``: whole runs through API outages, in virtual time.

An outage of 30 s, 2 min or 5 min starts at the first request of one phase (list, create,
status, deploy, download) and fails every request of every run until it ends: connection
refused, a proxy's 502 HTML page, a 503 with JSON, a 504 HTML page, in turn. 1 or 20 runs at
once, each creating and deploying both platforms (``version: auto``, ``poll-interval: auto``,
``deploy: true``, ``download: true``) through ``capwrapper_action.main.run`` against the
simulator. Counted per scenario: failed runs, duplicate builds (more than one build of a run's
bundle id on a platform), duplicate deploys (more than one deploy of a build), and the delay
from the end of the outage to each affected run's first answered request (median and worst).

Virtual time (``bench.outage.SharedClock``): the runs and the simulator share one clock that
moves only while every run sleeps, so the whole matrix takes a few minutes of real time
whatever the outages last; the retry jitter is random, so delays vary a little between runs.

    python -m bench.faults                    # the full matrix: 3 outages x 5 phases x (1, 20)
    python -m bench.faults --runs 1 --outages 30 --phases create   # one corner
    python -m bench.faults --json out.json    # also keep the rows
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from bench.outage import PHASES, Outage, OutageAdapter, RunLog, SharedClock, SimTime
from capwrapper_action import main as action
from capwrapper_simulator import SimConfig, Simulator
from tests.runner_files import RunnerEnv

OUTAGES = (30.0, 120.0, 300.0)
RUNS = (1, 20)
QUEUE_SECONDS = 20.0
BUILD_SECONDS = 180.0
COMMAND = "python -m bench.faults"


def run_scenario(phase: str, seconds: float, runs: int, root: Path) -> dict[str, Any]:
    """One outage at one phase, ``runs`` runs at once: the row of the table."""
    clock = SharedClock(epoch=time.time())
    config = SimConfig(queue_seconds=QUEUE_SECONDS, build_seconds=BUILD_SECONDS)
    with Simulator(config, clock=SimTime(clock)) as sim:
        outage = Outage(clock, phase, seconds)
        logs = [RunLog() for _ in range(runs)]
        codes: list[int | None] = [None] * runs
        threads = [
            threading.Thread(target=_one_run, args=(sim, clock, outage, logs[n], codes, n, root))
            for n in range(runs)
        ]
        for _ in threads:
            clock.join()  # all runs start at virtual time 0
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        builds = Counter((b.record.bundle_id, b.record.platform) for b in sim.builds())
        deploys = Counter(d.build_id for d in sim.deploys())
    delays = _recovery_delays(outage, logs)
    return {
        "phase": phase, "outage_s": seconds, "runs": runs,
        "failed_runs": sum(1 for code in codes if code != 0),
        "duplicate_builds": sum(n - 1 for n in builds.values() if n > 1),
        "duplicate_deploys": sum(n - 1 for n in deploys.values() if n > 1),
        "affected_runs": len(delays), "failed_requests": outage.failed,
        "recovery_median_s": statistics.median(delays) if delays else None,
        "recovery_max_s": max(delays) if delays else None,
        "virtual_s": clock.now(),
    }


def _one_run(
    sim: Simulator, clock: SharedClock, outage: Outage, log: RunLog, codes: list[int | None],
    n: int, root: Path,
) -> None:
    try:
        runner = RunnerEnv(Path(tempfile.mkdtemp(prefix=f"run{n}-", dir=root)))
        env = runner.with_inputs({
            "api-key": sim.api_key, "api-url": sim.base_url,
            "app-url": "https://shop.example.com", "app-name": f"Shop {n}",
            "bundle-id": f"com.example.shop{n}", "platforms": "android, ios",
            "version": "auto", "poll-interval": "auto", "deploy": "true", "download": "true",
            "download-path": "dist",
        })  # fmt: skip
        env.pop("GITHUB_REPOSITORY", None)  # no GitHub API: this measures the Capwrapper side
        with requests.Session() as session:
            adapter = OutageAdapter(outage, log)
            session.mount("http://", adapter)
            codes[n] = action.run(env, stdout=io.StringIO(), clock=clock, session=session)
    finally:
        clock.leave()


def _recovery_delays(outage: Outage, logs: Sequence[RunLog]) -> list[float]:
    """For each run that met the outage: end of the outage → its first answered request."""
    end = outage.end
    if end is None:
        return []
    delays = []
    for log in logs:
        if not any(outage.start is not None and t >= outage.start for t in log.failures):
            continue
        after = [t for t in log.answers if t >= end]
        if after:
            delays.append(min(after) - end)
    return delays


def run_matrix(
    phases: Sequence[str], outages: Sequence[float], runs: Sequence[int]
) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="capwrapper-faults-") as tmp:
        for count in runs:
            for seconds in outages:
                for phase in phases:
                    rows.append(run_scenario(phase, seconds, count, Path(tmp)))
    return rows


METHOD = (
    "Whole runs (`capwrapper_action.main.run`, both platforms, `version: auto`, "
    "`poll-interval: auto`, deploy and download) against the simulator, in virtual time: the "
    "runs and the simulator share one clock (`bench/outage.py`, `SharedClock`) that moves "
    "only while every run sleeps, so a 5-minute outage costs no real time. The outage starts "
    "at the first request of the phase named and fails every request of every run until it "
    "ends, in turn as connection refused, a proxy's 502 HTML page, a 503 with JSON and a 504 "
    "HTML page (the session's transport answers them; the simulator never sees those "
    "requests). *Duplicate builds*: more than one build of a run's bundle id on a platform; "
    "*duplicate deploys*: more than one deploy of a build. *Outage end → run goes on*: from "
    "the end of the outage to each affected run's first answered request; the backoff is "
    "capped at 30 s. Retry jitter is random, so these delays vary between runs."
)


def run(runs: Sequence[int], outages: Sequence[float]) -> dict[str, Any]:
    """The matrix for ``python -m bench``: every phase."""
    return {"rows": run_matrix(PHASES, outages, runs)}


def markdown(data: dict[str, Any]) -> str:
    return table(data["rows"])


def headline(data: dict[str, Any]) -> tuple[str, str, str]:
    rows = data["rows"]
    failed = sum(r["failed_runs"] for r in rows)
    builds = sum(r["duplicate_builds"] for r in rows)
    deploys = sum(r["duplicate_deploys"] for r in rows)
    worst = max((r["recovery_max_s"] or 0.0 for r in rows), default=0.0)
    ok = "met" if failed == builds == deploys == 0 else "**not met**"
    return (
        "failed runs / duplicate builds / duplicate deploys over outages up to 5 min",
        f"{failed} / {builds} / {deploys} (worst outage end → run goes on: {worst:.0f} s)",
        f"0 / 0 / 0: {ok}",
    )


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The Markdown table of ``rows``."""
    head = ("| runs | outage | phase | failed runs | duplicate builds | duplicate deploys "
            "| requests failed | outage end → run goes on (median / worst) |")
    lines = [head, "|---:|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        delay = "no run met it" if r["recovery_max_s"] is None else (
            f"{r['recovery_median_s']:.1f} s / {r['recovery_max_s']:.1f} s")
        lines.append(
            f"| {r['runs']} | {_span(r['outage_s'])} | {r['phase']} | {r['failed_runs']} "
            f"| {r['duplicate_builds']} | {r['duplicate_deploys']} | {r['failed_requests']} "
            f"| {delay} |"
        )
    return "\n".join(lines)


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:g} min"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument("--outages", nargs="+", type=float, default=list(OUTAGES),
                        metavar="SECONDS")
    parser.add_argument("--runs", nargs="+", type=int, default=list(RUNS))
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows = run_matrix(args.phases, args.outages, args.runs)
    print(table(rows))
    failed = sum(r["failed_runs"] for r in rows)
    dupes = sum(r["duplicate_builds"] + r["duplicate_deploys"] for r in rows)
    print(f"\n{len(rows)} scenarios, {sum(r['runs'] for r in rows)} runs: {failed} failed, "
          f"{dupes} duplicates; {time.monotonic() - started:.0f} s of real time")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0 if failed == 0 and dupes == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
