"""Polling benchmark: status requests and detection lag of each poll strategy.

Runs the action's real waiter (``wait_for_builds``) on a virtual clock against a simulated
build, so every number is a deterministic count, not a timing. Detection lag is the time from
the build finishing to the waiter knowing. For each nominal build duration (1, 5, 10, 30 min)
the build's actual duration is spread over many values around it, so that every phase of a
fixed interval is hit; the table shows the mean number of requests and the worst lag.

Scenarios:

* no history: the build takes the nominal duration ±10 %;
* history: the app's 10 previous builds took the nominal duration ±5 % (spread evenly), and
  this one finishes inside that range (the case the targets are set for);
* history, build outside its range: the same history, this build takes ±20 %;
* early failure: the build fails at a tenth of the nominal duration (±10 %).

Run ``python -m bench.polling``; ``run()`` returns the rows as dicts for reports and charts.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from capwrapper_action.api.models import Build, BuildStatus
from capwrapper_action.ghio import ActionIO
from capwrapper_action.result import PlatformState
from capwrapper_action.wait.polling import PollStrategy, make_strategy
from capwrapper_action.wait.waiting import wait_for_builds
from tests.virtual_clock import VirtualClock

DURATIONS = (60.0, 300.0, 600.0, 1800.0)
FIXED_INTERVALS = (5.0, 10.0, 30.0, 60.0)
HISTORY_SIZE = 10
HISTORY_SPREAD = 0.05
BUILD_SPREAD = 0.10
OUTSIDE_SPREAD = 0.20
EARLY_SHARE = 0.1
POINTS = 101
NO_HISTORY, HISTORY, OUTSIDE = "none", "±5%", "±5%, build ±20%"
FINISH, EARLY_FAILURE = "finish", "early failure"


@dataclass(frozen=True)
class Measure:
    requests: int
    lag: float
    finished_at: float


@dataclass(frozen=True)
class Row:
    duration: float  # nominal build duration, seconds
    history: str  # NO_HISTORY, HISTORY or OUTSIDE
    case: str  # FINISH or EARLY_FAILURE
    strategy: str  # "auto" or "fixed 10s"
    requests_mean: float
    requests_max: int
    worst_lag: float  # seconds
    worst_lag_share: float  # worst lag / time at which the build finished
    fewer_than_fixed10: float  # share of the durations where it used fewer requests than 10 s


class _QuietIO(ActionIO):
    def _write(self, line: str) -> None:
        """The benchmark does not print the waiter's log."""


class SimulatedApi:
    """One build with a timeline: queued, building from ``starts_at``, final at ``ends_at``."""

    def __init__(self, clock: VirtualClock, *, starts_at: float, ends_at: float, outcome: str):
        self.clock, self.starts_at, self.ends_at, self.outcome = clock, starts_at, ends_at, outcome
        self.created = clock.wall()
        self.request_count = 0

    def get_build(
        self, build_id: str, *, deadline: float | None = None, retry: bool = True
    ) -> Build:
        self.request_count += 1
        now = self.clock.now()
        if now >= self.ends_at:
            status = self.outcome
        else:
            status = BuildStatus.BUILDING if now >= self.starts_at else BuildStatus.QUEUED
        done = self.created + timedelta(seconds=self.ends_at) if now >= self.ends_at else None
        return Build(
            id=build_id,
            status=status,
            platform="android",
            created_at=self.created,
            completed_at=done,
            error="simulated failure" if status == BuildStatus.FAILED else None,
        )


def measure(
    strategy: PollStrategy, ends_at: float, *, outcome: str = BuildStatus.SUCCESS
) -> Measure:
    """Wait for one simulated build with the real waiter; count requests and lag."""
    clock = VirtualClock()
    api = SimulatedApi(clock, starts_at=min(15.0, ends_at / 10), ends_at=ends_at, outcome=outcome)
    build = Build(
        id="bld_bench", status=BuildStatus.QUEUED, platform="android", created_at=api.created
    )
    state = PlatformState("android", build=build)
    wait_for_builds(
        api,
        {"android": state},
        timeout=10 * ends_at + 3600,
        queue_timeout=None,
        strategies={"android": strategy},
        clock=clock,
        cancel=threading.Event(),
        log=_QuietIO(io.StringIO()),
    )
    return Measure(api.request_count, clock.now() - ends_at, ends_at)


def spread(center: float, share: float, points: int = POINTS) -> list[float]:
    """``points`` values evenly over ``center`` ±``share``."""
    if points == 1:
        return [center]
    return [center * (1 - share + 2 * share * i / (points - 1)) for i in range(points)]


def history_for(duration: float) -> list[float]:
    return spread(duration, HISTORY_SPREAD, HISTORY_SIZE)


def scenarios(duration: float, points: int = POINTS) -> Iterator[tuple[str, str, list[float]]]:
    """(history, case, the times at which the build ends) for one nominal duration."""
    yield NO_HISTORY, FINISH, spread(duration, BUILD_SPREAD, points)
    yield HISTORY, FINISH, spread(duration, HISTORY_SPREAD, points)
    yield OUTSIDE, FINISH, spread(duration, OUTSIDE_SPREAD, points)
    yield NO_HISTORY, EARLY_FAILURE, spread(duration * EARLY_SHARE, BUILD_SPREAD, points)
    yield HISTORY, EARLY_FAILURE, spread(duration * EARLY_SHARE, BUILD_SPREAD, points)


def strategies(history: Sequence[float]) -> dict[str, PollStrategy]:
    named: dict[str, PollStrategy] = {"auto": make_strategy(None, history)}
    for interval in FIXED_INTERVALS:
        named[f"fixed {interval:g}s"] = make_strategy(interval, ())
    return named


def evaluate(duration: float, points: int = POINTS, only: Sequence[str] = ()) -> list[Row]:
    rows: list[Row] = []
    for history, case, ends in scenarios(duration, points):
        outcome = BuildStatus.FAILED if case == EARLY_FAILURE else BuildStatus.SUCCESS
        named = strategies(history_for(duration) if history != NO_HISTORY else ())
        runs = {
            n: [measure(s, t, outcome=outcome) for t in ends]
            for n, s in named.items()
            if not only or n in only or n == "fixed 10s"
        }
        base = runs["fixed 10s"]
        for name, results in runs.items():
            if only and name not in only:
                continue
            fewer = sum(m.requests < b.requests for m, b in zip(results, base, strict=True))
            rows.append(
                Row(
                    duration=duration,
                    history=history,
                    case=case,
                    strategy=name,
                    requests_mean=sum(m.requests for m in results) / len(results),
                    requests_max=max(m.requests for m in results),
                    worst_lag=max(m.lag for m in results),
                    worst_lag_share=max(m.lag / m.finished_at for m in results),
                    fewer_than_fixed10=fewer / len(results),
                )
            )
    return rows


def run(points: int = POINTS) -> list[dict[str, Any]]:
    """Every row of the benchmark, as plain dicts."""
    return [asdict(row) for d in DURATIONS for row in evaluate(d, points)]


SENSITIVITY_SPREADS = (0.05, 0.075, 0.10, 0.20)


def sensitivity(points: int = POINTS) -> list[dict[str, Any]]:
    """``auto`` when the history is wider: the build finishes inside the history's range."""
    rows: list[dict[str, Any]] = []
    for share in SENSITIVITY_SPREADS:
        for d in DURATIONS:
            strategy = make_strategy(None, spread(d, share, HISTORY_SIZE))
            results = [measure(strategy, t) for t in spread(d, share, points)]
            rows.append(
                {
                    "history_spread": share,
                    "duration": d,
                    "requests_mean": sum(m.requests for m in results) / len(results),
                    "requests_max": max(m.requests for m in results),
                    "worst_lag": max(m.lag for m in results),
                }
            )
    return rows


def sensitivity_markdown(rows: Sequence[dict[str, Any]]) -> str:
    head = "| history spread | " + " | ".join(_minutes(d) for d in DURATIONS) + " |\n"
    lines = [
        "**`auto` with a wider history** — max status requests · worst detection lag, for "
        "builds inside the history's range\n\n",
        head,
        "|---|" + "---|" * len(DURATIONS) + "\n",
    ]
    for share in SENSITIVITY_SPREADS:
        cells = [
            f"{r['requests_max']} · {r['worst_lag']:.1f} s"
            for r in rows
            if r["history_spread"] == share
        ]
        lines.append(f"| ±{share:.1%} | " + " | ".join(cells) + " |\n")
    return "".join(lines)


def _row(rows: Sequence[Row], duration: float, history: str, case: str, strategy: str) -> Row:
    return next(
        r
        for r in rows
        if (r.duration, r.history, r.case, r.strategy) == (duration, history, case, strategy)
    )


def targets(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The issue's targets for ``auto``, each with what was measured and whether it is met."""
    return [
        {"target": target, "duration": d, "measured": measured, "met": met}
        for d in sorted({r.duration for r in rows})
        for target, measured, met in _targets_for(rows, d)
    ]


def _targets_for(rows: Sequence[Row], d: float) -> list[tuple[str, str, bool]]:
    hist = _row(rows, d, HISTORY, FINISH, "auto")
    none = _row(rows, d, NO_HISTORY, FINISH, "auto")
    fixed = _row(rows, d, NO_HISTORY, FINISH, "fixed 10s")
    found = [("history: worst lag ≤ 5 s", f"{hist.worst_lag:.1f} s", hist.worst_lag <= 5 + 1e-6)]
    if d == 600.0:
        found.append(
            ("history, 10 min: ≤ 25 requests", f"max {hist.requests_max}", hist.requests_max <= 25)
        )
    share_ok = none.worst_lag_share <= 0.1 + 1e-9 and none.worst_lag <= 60
    found.append(
        (
            "no history: worst lag ≤ 10 % of elapsed, ≤ 60 s",
            f"{none.worst_lag:.1f} s = {none.worst_lag_share:.1%}",
            share_ok,
        )
    )
    found.append(
        (
            "no history: fewer requests than fixed 10 s",
            f"mean {none.requests_mean:.1f} vs {fixed.requests_mean:.1f}; fewer at "
            f"{none.fewer_than_fixed10:.0%} of durations",
            none.fewer_than_fixed10 == 1.0,
        )
    )
    for history in (NO_HISTORY, HISTORY):
        early = _row(rows, d, history, EARLY_FAILURE, "auto")
        label = "no history" if history == NO_HISTORY else f"history {history}"
        found.append(
            (
                f"early failure noticed within 60 s ({label})",
                f"{early.worst_lag:.1f} s",
                early.worst_lag <= 60,
            )
        )
    return found


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min"


def _cell(row: Row) -> str:
    return f"{row.requests_mean:.1f} · {row.worst_lag:.1f} s"


def markdown(rows: Sequence[Row]) -> str:
    """Two tables (build finishes; early failure) and the target checks."""
    names = list(dict.fromkeys(r.strategy for r in rows))
    head = "| build | history | " + " | ".join(names) + " |\n"
    head += "|---|---|" + "---|" * len(names) + "\n"
    parts = []
    for case, title in ((FINISH, "Build finishes"), (EARLY_FAILURE, "Early failure")):
        lines = [f"**{title}** — mean status requests · worst detection lag\n\n", head]
        keys = dict.fromkeys((r.duration, r.history) for r in rows if r.case == case)
        for d, history in keys:
            cells = [_cell(_row(rows, d, history, case, n)) for n in names]
            lines.append(f"| {_minutes(d)} | {history} | " + " | ".join(cells) + " |\n")
        parts.append("".join(lines))
    checks = ["| target | build | measured | met |\n|---|---|---|---|\n"]
    for c in targets(rows):
        mark = "yes" if c["met"] else "**no**"
        checks.append(f"| {c['target']} | {_minutes(c['duration'])} | {c['measured']} | {mark} |\n")
    parts.append("**Targets for `auto`**\n\n" + "".join(checks))
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    points = int(args[0]) if args else POINTS
    rows = [row for d in DURATIONS for row in evaluate(d, points)]
    print(f"Polling benchmark (virtual clock, {points} durations per scenario)\n")
    print(markdown(rows))
    print(sensitivity_markdown(sensitivity(points)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
