"""``python -m bench`` (``make bench``): run the benchmarks, write docs/benchmarks.md and its chart.

    python -m bench                       # everything, full size (about 8 minutes on 2 cores)
    python -m bench --only startup e2e    # some; the others are kept from the last full-size run
    python -m bench --quick               # everything on small sizes, into bench/out/quick/
    python -m bench --render              # run nothing: rebuild the page from stored results

Sizes can be set one by one (``--startup-runs 50``, ``--scale-jobs 20``…). Each section's data
is stored beside the page (``bench/out/results.json`` for docs/), so that a later ``--only``
run replaces those sections and keeps the others; each section names the command that
produced it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import chart, e2e, faults, footprint, image, polling, report, scale, startup
from bench import harness as H

SECTIONS = tuple(report.TITLES)
DOCS = H.ROOT / "docs"
STORE = H.OUT_DIR / "results.json"
QUICK_DIR = H.OUT_DIR / "quick"
CHART = "benchmarks.png"
PAGE = "benchmarks.md"

FULL: dict[str, Any] = {
    "startup_runs": startup.RUNS,
    "polling_points": polling.POINTS,
    "e2e_build_seconds": e2e.BUILD_SECONDS,
    "e2e_repeats": e2e.REPEATS,
    "scale_jobs": list(scale.JOBS),
    "scale_build_seconds": scale.BUILD_SECONDS,
    "footprint_build_seconds": footprint.BUILD_SECONDS,
    "image_runs": image.RUNS,
    "faults_runs": list(faults.RUNS),
    "faults_outages": list(faults.OUTAGES),
}
QUICK: dict[str, Any] = {
    "startup_runs": 3,
    "polling_points": 11,
    "e2e_build_seconds": 3.0,
    "e2e_repeats": 1,
    "scale_jobs": [5],
    "scale_build_seconds": 3.0,
    "footprint_build_seconds": 1.0,
    "image_runs": 1,
    "faults_runs": [1, 3],
    "faults_outages": [30.0],
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        metavar="NAME",
        help=f"run only these: {', '.join(SECTIONS)}",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, into bench/out/quick/")
    parser.add_argument("--out", type=Path, help="folder for the page and chart (default: docs/)")
    parser.add_argument(
        "--render", action="store_true", help="run nothing: rebuild the page from stored results"
    )
    parser.add_argument("--startup-runs", type=int)
    parser.add_argument("--polling-points", type=int)
    parser.add_argument("--e2e-build-seconds", type=float)
    parser.add_argument("--e2e-repeats", type=int)
    parser.add_argument("--scale-jobs", type=int, nargs="+")
    parser.add_argument("--scale-build-seconds", type=float)
    parser.add_argument("--footprint-build-seconds", type=float)
    parser.add_argument("--image-runs", type=int)
    parser.add_argument("--faults-runs", type=int, nargs="+")
    parser.add_argument("--faults-outages", type=float, nargs="+")
    return parser.parse_args(argv)


def sizes(args: argparse.Namespace) -> dict[str, Any]:
    chosen = dict(QUICK if args.quick else FULL)
    for key in FULL:
        if getattr(args, key) is not None:
            chosen[key] = getattr(args, key)
    return chosen


def jobs(z: dict[str, Any]) -> dict[str, tuple[str, Callable[[], dict[str, Any]]]]:
    """Per section: the command that reproduces it on its own, and the call that runs it."""
    jobs_args = " ".join(str(n) for n in z["scale_jobs"])
    return {
        "startup": (
            f"python -m bench.startup --runs {z['startup_runs']}",
            lambda: startup.run(z["startup_runs"]),
        ),
        "polling": (
            f"python -m bench.polling {z['polling_points']}",
            lambda: _polling(z["polling_points"]),
        ),
        "e2e": (
            f"python -m bench.e2e --build-seconds {z['e2e_build_seconds']:g} "
            f"--repeats {z['e2e_repeats']}",
            lambda: e2e.run(z["e2e_build_seconds"], z["e2e_repeats"]),
        ),
        "scale": (
            f"python -m bench.scale --jobs {jobs_args} "
            f"--build-seconds {z['scale_build_seconds']:g}",
            lambda: scale.run(z["scale_jobs"], z["scale_build_seconds"]),
        ),
        "footprint": (
            f"python -m bench.footprint --build-seconds {z['footprint_build_seconds']:g}",
            lambda: footprint.run(z["footprint_build_seconds"]),
        ),
        "image": (
            f"python -m bench.image --runs {z['image_runs']}",
            lambda: image.run(z["image_runs"]),
        ),
        "faults": (
            f"python -m bench.faults --runs {' '.join(str(n) for n in z['faults_runs'])} "
            f"--outages {' '.join(f'{s:g}' for s in z['faults_outages'])}",
            lambda: faults.run(z["faults_runs"], z["faults_outages"]),
        ),
    }


def _polling(points: int) -> dict[str, Any]:
    return {
        "points": points,
        "rows": polling.run(points),
        "sensitivity": polling.sensitivity(points),
    }


def run_sections(names: Sequence[str], z: dict[str, Any]) -> dict[str, report.Section]:
    done: dict[str, report.Section] = {}
    table = jobs(z)
    for name in names:
        command, call = table[name]
        print(f"bench: {name} ({command}) …", file=sys.stderr, flush=True)
        began = time.monotonic()
        data = call()
        seconds = time.monotonic() - began
        print(f"bench: {name} took {seconds:.0f} s", file=sys.stderr, flush=True)
        done[name] = {"command": command, "machine": H.machine(), "seconds": seconds, "data": data}
    return done


def load(path: Path) -> dict[str, report.Section]:
    if not path.is_file():
        return {}
    stored: dict[str, report.Section] = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in stored.items() if k in SECTIONS}


def write(sections: dict[str, report.Section], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    chart.render(sections, out / CHART)
    page = out / PAGE
    page.write_text(report.document(sections, CHART), encoding="utf-8")
    return page


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = [] if args.render else args.only or list(SECTIONS)
    out = args.out or (QUICK_DIR if args.quick else DOCS)
    store = STORE if out == DOCS else out / "results.json"
    fresh = run_sections(names, sizes(args))
    sections = {**load(store), **fresh}
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(sections, indent=1, ensure_ascii=False), encoding="utf-8")
    page = write({k: sections[k] for k in SECTIONS if k in sections}, out)
    print(f"bench: wrote {page} and {page.with_name(CHART)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
