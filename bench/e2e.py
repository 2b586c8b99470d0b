"""End-to-end benchmark: the whole action against the simulator, on the real clock.

A 2-platform run (Android and iOS) whose builds take ``build_seconds`` from creation to
completion (2 s queued, the rest building), with ``poll-interval: 1``, then the same with
``poll-interval: auto`` without history and with a history of 10 earlier builds per platform
(the same duration ±5 %). The action is ``entrypoint.py`` of the mirrored image, spawned as a
subprocess under the runner's environment; the pull request lookup goes to the loopback GitHub
stand-in. Each configuration gets a fresh simulator.

From the simulator's records and request log (stamped with the same wall clock as the spawn):

* **overhead** = the action's wall time (spawn → reaped) - the duration of the slower build;
  it splits exactly into *before* (spawn → that build created), *lag* (build completed → the
  status request that saw it) and *after* (that request → exit: outputs, summary, exit);
* **requests**: every request the simulator received, by endpoint, and the GitHub API's.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench import harness as H
from capwrapper_simulator import SimConfig, Simulator

BUILD_SECONDS = 20.0
QUEUE_SECONDS = 2.0
REPEATS = 2
TARGET_OVERHEAD = 1.5
HISTORY = 10
FIXED_1, AUTO, AUTO_HISTORY = "poll-interval: 1", "auto, no history", "auto, history ±5%"
CONFIGS = (FIXED_1, AUTO, AUTO_HISTORY)


@dataclass(frozen=True)
class Run:
    config: str
    ok: bool
    wall: float
    slower_build: float
    overhead: float
    before: float  # spawn → the slower build created
    lag: float  # the slower build completed → the request that saw it
    after: float  # that request → exit
    startup: float  # spawn → first request
    requests: int  # to the Capwrapper API
    by_endpoint: dict[str, int]
    github_requests: int


def _seed(sim: Simulator, duration: float) -> None:
    for platform in ("android", "ios"):
        for i in range(HISTORY):
            share = -0.05 + 0.1 * i / (HISTORY - 1)
            sim.seed_build(
                platform=platform,
                bundle_id="com.example.shop",
                version=f"0.9.{i}",
                duration=duration * (1 + share),
                finished_ago=3600.0 * (HISTORY - i),
            )


def _seen_at(sim: Simulator, build_id: str, completed: float) -> float:
    """When the action first asked for the build after it had completed."""
    return min(
        r.at
        for r in sim.requests("get_build")
        if r.path.endswith("/" + build_id) and r.at >= completed and r.status == 200
    )


def run_once(config: str, build_seconds: float = BUILD_SECONDS) -> Run:
    queue = min(QUEUE_SECONDS, build_seconds / 4)
    sim_config = SimConfig(queue_seconds=queue, build_seconds=build_seconds - queue)
    with Simulator(sim_config) as sim, H.github_standin() as gh:
        if config == AUTO_HISTORY:
            _seed(sim, build_seconds)
        image, run = H.action_image(), H.runner("e2e")
        poll = "1" if config == FIXED_1 else "auto"
        given = H.action_inputs(sim.base_url, poll_interval=poll, timeout="10m")
        done = H.run_child(image.argv, H.runner_env(image, run, given, gh), run.workspace)
        made = sim.builds(seeded=False)
        if done.returncode != 0 or len(made) != 2:
            raise RuntimeError(
                f"{config}: the action failed (exit {done.returncode}):\n{done.output}"
            )
        slower = max(made, key=lambda b: b.record.completed_at).record
        seen = _seen_at(sim, slower.id, slower.completed_at)
        log = sim.requests()
        duration = slower.completed_at - slower.created_at
        return Run(
            config=config,
            ok=run.outputs().get("status") == "success",
            wall=done.wall,
            slower_build=duration,
            overhead=done.wall - duration,
            before=slower.created_at - done.started,
            lag=seen - slower.completed_at,
            after=done.ended - seen,
            startup=log[0].at - done.started,
            requests=len(log),
            by_endpoint=dict(Counter(f"{r.method} {r.endpoint}" for r in log)),
            github_requests=len(gh.requests),
        )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def summarise(runs: Sequence[Run]) -> list[dict[str, Any]]:
    rows = []
    for config in dict.fromkeys(r.config for r in runs):
        mine = [r for r in runs if r.config == config]
        rows.append(
            {
                "config": config,
                "runs": len(mine),
                "all_ok": all(r.ok for r in mine),
                **{
                    key: _mean([getattr(r, key) for r in mine])
                    for key in (
                        "wall",
                        "slower_build",
                        "overhead",
                        "before",
                        "lag",
                        "after",
                        "startup",
                        "requests",
                        "github_requests",
                    )
                },
                "overhead_max": max(r.overhead for r in mine),
                "by_endpoint": mine[0].by_endpoint,
            }
        )
    return rows


def run(
    build_seconds: float = BUILD_SECONDS,
    repeats: int = REPEATS,
    configs: Sequence[str] = CONFIGS,
) -> dict[str, Any]:
    """Every configuration ``repeats`` times (``poll-interval: 1`` must be among them)."""
    runs = [run_once(c, build_seconds) for _ in range(repeats) for c in configs]
    rows = summarise(runs)
    fixed = next(r for r in rows if r["config"] == FIXED_1)
    return {
        "build_seconds": build_seconds,
        "queue_seconds": min(QUEUE_SECONDS, build_seconds / 4),
        "repeats": repeats,
        "rows": rows,
        "runs": [asdict(r) for r in runs],
        "target": TARGET_OVERHEAD,
        "met": fixed["overhead_max"] < TARGET_OVERHEAD,
    }


def markdown(data: dict[str, Any]) -> str:
    lines = [
        f"Two platforms, builds of {data['build_seconds']:g} s ({data['queue_seconds']:g} s "
        f"queued), mean of {data['repeats']} run(s) per configuration.\n\n",
        "| configuration | wall | slower build | **overhead** (max) | before | detection lag | "
        "after | requests | GitHub API requests |\n",
        "|---|---|---|---|---|---|---|---|---|\n",
    ]
    for r in data["rows"]:
        lines.append(
            f"| {r['config']} | {r['wall']:.2f} s | {r['slower_build']:.2f} s | "
            f"**{r['overhead']:.2f} s** ({r['overhead_max']:.2f} s) | {r['before']:.2f} s | "
            f"{r['lag']:.2f} s | {r['after']:.2f} s | {r['requests']:.1f} | "
            f"{r['github_requests']:.0f} |\n"
        )
    fixed = next(r for r in data["rows"] if r["config"] == FIXED_1)
    met = "met" if data["met"] else "**not met**"
    lines.append(
        f"\nWith `poll-interval: 1` the overhead is {fixed['overhead']:.2f} s on average and "
        f"{fixed['overhead_max']:.2f} s at most (target < {data['target']:g} s: {met}).\n"
    )
    for r in data["rows"]:
        if r["config"] != FIXED_1:
            lines.append(
                f"`{r['config']}` costs {r['overhead'] - fixed['overhead']:+.2f} s against it "
                f"(its detection lag {r['lag']:.2f} s vs {fixed['lag']:.2f} s) with "
                f"{r['requests']:.1f} requests instead of {fixed['requests']:.1f}.\n"
            )
    if any(r["config"] == AUTO for r in data["rows"]) and data["build_seconds"] % 5 == 0:
        lines.append(
            f"\n`auto` without history checks every 5 s from the build's `createdAt` for the first "
            f"50 s, and {data['build_seconds']:g} s is a multiple of 5 s, so one of its checks "
            "lands just after the finish: its small lag here is that alignment. For other "
            "durations its lag is up to 5 s (section 2).\n"
        )
    lines.append("\nRequests of one run, by endpoint:\n\n")
    for r in data["rows"]:
        parts = ", ".join(f"{k} x {v}" for k, v in sorted(r["by_endpoint"].items()))
        lines.append(f"- {r['config']}: {parts}\n")
    return "".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__)
    parser.add_argument("--build-seconds", type=float, default=BUILD_SECONDS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    print(markdown(run(args.build_seconds, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
