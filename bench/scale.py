"""Scale benchmark: many action processes at once sharing one API key under a rate limit.

Like a matrix of ``jobs`` jobs using one API key: ``jobs`` copies of ``entrypoint.py`` (the
mirrored image) are spawned at once, each building its own app (bundle id
``com.example.matrix<i>``) for one platform, with the default ``poll-interval: auto`` (so each
also lists the recent builds first) and a fixed version. The simulator allows ``limit``
requests per ``window`` seconds per API key (sliding window) and answers the rest 429 with a
``Retry-After`` of the seconds until a slot frees; a refused request does not use a slot.

Reported: how many runs succeeded and how many failed (and on what), the simulator's total
requests and its 429 answers, and per run the *extra wait*: wall time (spawn → exit) minus its
own build's duration. The runs' start-up contends for the machine's cores.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench import harness as H
from capwrapper_action.release.create_phase import NO_HISTORY
from capwrapper_simulator import SimConfig, Simulator

JOBS = (20, 100)
LIMIT, WINDOW = 60, 60.0
BUILD_SECONDS = 10.0
QUEUE_SECONDS = 1.0
TIMEOUT = "15m"


@dataclass(frozen=True)
class JobRun:
    index: int
    returncode: int
    status: str
    wall: float
    build_seconds: float | None  # of its own build, None when none was made
    extra: float | None  # wall - build_seconds
    retry_lines: int  # log lines about waiting for a rate limit or retrying
    no_history: bool  # gave up the optional build history (polled without it)
    error: str  # the step's `error` output, when it failed
    max_rss_mib: float


def _retry_lines(output: str) -> int:
    return sum(
        ("Retrying" in line or "checking again" in line or "429" in line)
        for line in output.splitlines()
    )


def run_jobs(
    jobs: int,
    *,
    limit: int = LIMIT,
    window: float = WINDOW,
    build_seconds: float = BUILD_SECONDS,
    poll_interval: str = "auto",
) -> dict[str, Any]:
    queue = min(QUEUE_SECONDS, build_seconds / 4)
    config = SimConfig(
        queue_seconds=queue, build_seconds=build_seconds - queue, rate_limit=(limit, window)
    )
    image = H.action_image()
    with Simulator(config) as sim, H.github_standin() as gh:
        started: list[tuple[Any, H.Child]] = []
        for i in range(jobs):
            run = H.runner(f"job{i}")
            given = H.action_inputs(
                sim.base_url,
                bundle_id=f"com.example.matrix{i}",
                platforms="android",
                timeout=TIMEOUT,
                poll_interval=poll_interval,
            )
            env = H.runner_env(image, run, given, gh)
            started.append((run, H.Child(image.argv, env, run.workspace, rss=True)))
        results = []
        for i, (run, child) in enumerate(started):
            done = child.finish()
            outputs = run.outputs()
            build_id = outputs.get("android-build-id", "")
            record = sim.build(build_id).record if build_id else None
            duration = record.completed_at - record.created_at if record else None
            results.append(
                JobRun(
                    index=i,
                    returncode=done.returncode,
                    status=outputs.get("status", ""),
                    wall=done.wall,
                    build_seconds=duration,
                    extra=done.wall - duration if duration is not None else None,
                    retry_lines=_retry_lines(done.output),
                    no_history=NO_HISTORY in done.output,
                    error=outputs.get("error", ""),
                    max_rss_mib=H.rss_mib(done),
                )
            )
        log = sim.requests()
    first_spawn = min(c.started for _, c in started)
    statuses = Counter(str(r.status) for r in log)
    extras = [r.extra for r in results if r.extra is not None]
    return {
        "jobs": jobs,
        "limit": limit,
        "window": window,
        "build_seconds": build_seconds,
        "poll_interval": poll_interval,
        "succeeded": sum(r.returncode == 0 and r.status == "success" for r in results),
        "failed": [asdict(r) for r in results if r.returncode != 0 or r.status != "success"],
        "failed_on_429": sum(
            ("429" in r.error or "rate" in r.error.lower()) for r in results if r.returncode != 0
        ),
        "requests": len(log),
        "answered_429": statuses.get("429", 0),
        "by_status": dict(statuses),
        "by_endpoint": dict(Counter(f"{r.method} {r.endpoint}" for r in log if r.status != 429)),
        "span": max(r.at for r in log) - first_spawn if log else 0.0,
        "extra_max": max(extras) if extras else None,
        "extra_median": H.median(extras) if extras else None,
        "wall_max": max(r.wall for r in results),
        "retry_lines": sum(r.retry_lines for r in results),
        "no_history": sum(r.no_history for r in results),
        "max_rss_mib": max(r.max_rss_mib for r in results),
        "runs": [asdict(r) for r in results],
    }


def run(
    jobs: Sequence[int] = JOBS, build_seconds: float = BUILD_SECONDS, poll_interval: str = "auto"
) -> dict[str, Any]:
    scales = [run_jobs(n, build_seconds=build_seconds, poll_interval=poll_interval) for n in jobs]
    return {"scales": scales}


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def markdown(data: dict[str, Any]) -> str:
    first = data["scales"][0]
    lines = [
        f"One API key, a limit of {first['limit']} requests per {first['window']:g} s; "
        f"builds of {first['build_seconds']:g} s, one platform per job, "
        f"`poll-interval: {first['poll_interval']}`.\n\n",
        "| jobs | succeeded | failed (on 429) | requests answered | 429 answers | "
        "all done after | extra wait: median | slowest | peak RSS of one |\n",
        "|---|---|---|---|---|---|---|---|---|\n",
    ]
    for s in data["scales"]:
        answered = s["requests"] - s["answered_429"]
        lines.append(
            f"| {s['jobs']} | {s['succeeded']} | {len(s['failed'])} ({s['failed_on_429']}) | "
            f"{answered} | {s['answered_429']} | {_s(s['span'])} | {_s(s['extra_median'])} | "
            f"**{_s(s['extra_max'])}** | {s['max_rss_mib']:.1f} MiB |\n"
        )
    for s in data["scales"]:
        parts = ", ".join(f"{k} x {v}" for k, v in sorted(s["by_endpoint"].items()))
        lines.append(f"\n{s['jobs']} jobs, answered requests by endpoint: {parts}.")
        lines.append(_pace(s))
        if s["failed"]:
            if s["failed_on_429"] == len(s["failed"]):
                lines.append(
                    f" **{len(s['failed'])} of {s['jobs']} runs failed, every one on a 429** "
                    "that the client stopped retrying."
                )
            if s["by_endpoint"].get("POST create_build", 0) == s["succeeded"]:
                lines.append(" The failed runs made no build (one create answered per success).")
            walls = sorted(f["wall"] for f in s["failed"])
            lines.append(
                f" The failed runs ended after {walls[0]:.0f}-{walls[-1]:.0f} s "
                f"(median {H.median(walls):.0f} s); their errors:\n"
            )
            errors = Counter(_first_sentence(f["error"]) for f in s["failed"])
            lines += [f"\n- {n} x {text}" for text, n in errors.most_common(5)]
        lines.append("\n")
    return "".join(lines)


def _pace(s: dict[str, Any]) -> str:
    """How the last run compares with the least time the limit allows for the requests: in a
    sliding window the k-th request can come no sooner than ``(k - 1) // limit`` windows
    after the first."""
    answered = s["requests"] - s["answered_429"]
    floor = (answered - 1) // s["limit"] * s["window"] if answered else 0.0
    text = (f" At {s['limit']} per {s['window']:g} s (sliding), {answered} answered requests "
            f"need {floor:.0f} s at the least; the last run was done after {s['span']:.0f} s.")
    skipped = s.get("no_history", 0)
    if skipped:
        text += (f" {skipped} runs gave up the build history (only used to tune polling) "
                 "after a minute of 429s and polled without it.")
    return text


def _first_sentence(error: str) -> str:
    """The error without its run-specific tail (attempt counts, seconds)."""
    return error.split(" (gave up", 1)[0].split(" The API key", 1)[0][:200]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--jobs", type=int, nargs="+", default=list(JOBS))
    parser.add_argument("--build-seconds", type=float, default=BUILD_SECONDS)
    parser.add_argument("--poll-interval", default="auto")
    args = parser.parse_args(argv)
    print(markdown(run(args.jobs, args.build_seconds, args.poll_interval)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
