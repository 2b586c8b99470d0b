"""docs/benchmarks.md: every section's tables, the command that produced it and the machine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bench import e2e, faults, footprint, image, polling, scale, startup

Section = dict[str, Any]  # {"command", "machine", "seconds", "data"}

TITLES = {
    "startup": "1. Start-up: process start to the first API request",
    "polling": "2. Waiting efficiency: status requests and detection lag",
    "e2e": "3. End to end against the simulator",
    "scale": "4. Scale: parallel jobs sharing one API key",
    "footprint": "5. Footprint: memory and installed size",
    "image": "6. Image: its layers, and what a job pays before the action starts",
    "faults": "7. Faults: runs through API outages",
}

METHODS = {
    "startup": (
        "Each program is spawned from the benchmark in the image's virtualenv with the "
        "image's environment (the image mirrored by `tests/end_to_end/docker_mirror.py`). "
        "*Spawn → exit* is the wall time around the child; *spawn → first request received* "
        "is the simulator's timestamp of the first request it received (`RequestRecord.at`, "
        "`time.time()`, taken once the request is read and answered, before the answer is "
        "sent) minus `time.time()` just before the spawn, the same clock in the same process. "
        "So the floor (`import requests` plus one GET) and the action are measured alike. The "
        "programs run in turn, so that drift of the machine hits all of them alike. The "
        "action runs with `wait: false`, a fixed version and poll interval, so its first "
        "request is `POST /builds`. The image compiles the application's bytecode when it is "
        "built (and sets `PYTHONDONTWRITEBYTECODE=1`); the *precompiled* row compiles it once "
        "more, so it matches the plain row. The "
        "interpreter's exit (freeing every module) is part of *spawn → exit*, which is why "
        "`import requests` to exit takes longer than `import requests` plus a request."
    ),
    "polling": (
        "The action's real waiter on a virtual clock against a simulated build: every figure "
        "is a deterministic count, the same on any machine (details in `bench/README.md`)."
    ),
    "e2e": (
        "`entrypoint.py` of the mirrored image runs as a subprocess under the runner's "
        "environment (`tests/runner_files.RunnerEnv`) against the simulator on the real clock; "
        "the pull request lookup goes to a loopback GitHub API stand-in. *Overhead* = wall "
        "time (spawn → exit) - the slower build's duration (created → completed, from the "
        "simulator's records); it splits exactly into *before* (spawn → that build created), "
        "*detection lag* (build completed → the status request that saw it, from the "
        "simulator's request log) and *after* (that request → exit). Each run has a fresh "
        "simulator; `auto, history` seeds 10 earlier builds per platform of the same duration "
        "±5 %."
    ),
    "scale": (
        "All jobs are spawned at once, each its own app (bundle id) on one platform, with "
        "`poll-interval: auto` (so each lists recent builds first, for its history) and a fixed "
        "version. The simulator's limit is a sliding window per API key; a refused request "
        "gets 429 with `Retry-After` (seconds until a slot frees) and uses no slot. *Extra "
        "wait* = a job's wall time - its own build's duration; *all done after* = first spawn "
        "→ last request. The two cores are shared by all jobs, so start-up contends."
    ),
    "footprint": (
        "Peak RSS is `ru_maxrss` of the action's own process, read by a small launcher that "
        "forks it and waits for it (`os.wait4`): a process spawned straight from the "
        "benchmark would report the benchmark's own high-water mark, which the kernel carries "
        "across `exec`. Sizes are file "
        "sizes on this machine's file system of the mirrored image's virtualenv; the "
        "dependency layer is that virtualenv minus an empty one made by the same Python "
        "(the `python -m venv` layer before it). The base image is not measured (no Docker)."
    ),
    "image": (
        "Each layer the Dockerfile adds is rebuilt here as the files it holds and archived as "
        "a pushed layer is (tar, gzip level 6): the dependencies are the locked wheels of each "
        "platform (`pip download` of requirements.txt with its hashes, the only step that uses "
        "the package index) installed with the Dockerfile's flags; the bytecode layer is the "
        "Dockerfile's last RUN replayed on the mirrored image with `PYTHONPYCACHEPREFIX`. "
        "\"previous\" rows are what the Dockerfile before the prebuilt image added instead. The "
        "base image's compressed size is the one Docker Hub publishes for linux/amd64, as "
        "quoted in issue 15; Docker cannot run here.\n\n"
        "**Per job, before the action's first request.** With `image: Dockerfile` (main, "
        "forks, any commit of main) the runner pulls the base image and builds: issue 15 "
        "estimated 12-20 s for the previous Dockerfile (47.8 MB base pull, ensurepip 3.7-5.5 s, "
        "download and install of 14 wheels (8.5 MB) 1.7-2.0 s, layer export); the steps timed "
        "below on this loaded 2-core machine are slower than on a runner. This Dockerfile "
        "drops ensurepip and adds the bytecode step. A release (`docker://…@sha256:…`) builds "
        "nothing: the job pulls the base image and the compressed layers above, then starts "
        "the action with every module's bytecode at hand. Users of peer actions measured the "
        "same switch: 3 min 35 s → 6 s (wzieba/Firebase-Distribution-Github-Action#117), "
        "about 1 min → 9 s (reviewdog/action-detect-secrets#54), 30 s → 10 s "
        "(alstr/todo-to-issue-action#89). The estimate for a release is therefore the pull of "
        "about 60 MB plus our start-up (155 ms, section 1): a few seconds instead of 12-20 s. "
        "The measured figure comes from GitHub: CI's `container` job prints the time from "
        "`docker build` to the first request, the release's `verify` job the time from "
        "`docker pull` to the first request, on each platform."
    ),
    "faults": faults.METHOD,
}


def _polling_md(data: dict[str, Any]) -> str:
    rows = [polling.Row(**r) for r in data["rows"]]
    return (
        f"{data['points']} build durations per scenario.\n\n"
        + polling.markdown(rows)
        + "\n"
        + polling.sensitivity_markdown(data["sensitivity"])
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "startup": startup.markdown,
    "polling": _polling_md,
    "e2e": e2e.markdown,
    "scale": scale.markdown,
    "footprint": footprint.markdown,
    "image": image.render,
    "faults": faults.markdown,
}


def _machine_line(m: Mapping[str, str]) -> str:
    return f"{m['cores']} cores ({m['cpu']}), {m['memory']}, {m['os']}, {m['python']}"


def _headline(name: str, data: dict[str, Any]) -> tuple[str, str, str]:
    """(what, measured, target and whether met) for the summary table."""
    yes = "met" if data.get("met") else "**not met**"
    if name == "startup":
        return (
            "action's first request after the floor's (median)",
            f"{data['over_floor_ms']:.0f} ms",
            f"≤ {data['target_ms']:.0f} ms: {yes}",
        )
    if name == "e2e":
        fixed = data["rows"][0]
        return (
            "overhead over the slower build, `poll-interval: 1` (max)",
            f"{fixed['overhead']:.2f} s ({fixed['overhead_max']:.2f} s)",
            f"< {data['target']:g} s: {yes}",
        )
    if name == "footprint":
        rss = data["full_run"]["max_rss_mib"]
        return ("peak RSS of a full run", f"{rss:.1f} MiB", f"< {data['target_mib']:g} MiB: {yes}")
    if name == "image":
        ours, before = image.totals(data, "linux/amd64")
        return (
            "layers over the base image, compressed, linux/amd64",
            f"{ours / image.MB:.1f} MB (previous Dockerfile {before / image.MB:.1f} MB)",
            "smaller than before: " + ("met" if ours < before else "**not met**"),
        )
    if name == "scale":
        cells = [
            f"{s['jobs']} jobs: {s['succeeded']} ok, {len(s['failed'])} failed"
            for s in data["scales"]
        ]
        ok = all(not s["failed"] for s in data["scales"])
        return (
            "runs that succeed under 60 requests/min",
            "; ".join(cells),
            "every run succeeds: " + ("met" if ok else "**not met**"),
        )
    if name == "faults":
        return faults.headline(data)
    checks = polling.targets([polling.Row(**r) for r in data["rows"]])
    met = sum(c["met"] for c in checks)
    return ("`auto` polling targets met", f"{met} of {len(checks)}", "see section 2")


def summary(sections: Mapping[str, Section]) -> str:
    lines = ["| benchmark | figure | measured | target |\n|---|---|---|---|\n"]
    for name, title in TITLES.items():
        if name in sections:
            what, measured, target = _headline(name, sections[name]["data"])
            lines.append(f"| {title.split(':')[0]} | {what} | {measured} | {target} |\n")
    return "".join(lines)


def section(name: str, s: Section) -> str:
    return (
        f"## {TITLES[name]}\n\n"
        f"Command: `{s['command']}` (run {s['machine']['date']}, {s['seconds']:.0f} s); "
        f"machine: {_machine_line(s['machine'])}.\n\n"
        f"{METHODS[name]}\n\n{RENDERERS[name](s['data'])}\n"
    )


def document(sections: Mapping[str, Section], chart_name: str) -> str:
    machines = {_machine_line(s["machine"]) for s in sections.values()}
    parts = [
        "# Benchmarks\n\n",
        "Written by `make bench` (`python -m bench`), which runs every benchmark below and "
        "rewrites this page and its chart. `python -m bench --only startup e2e` reruns some of "
        "them (the others are kept from the last run, in `bench/out/results.json`); "
        "`python -m bench --quick` runs all of them on small sizes into `bench/out/`. Nothing "
        "leaves the machine but section 6's download of the locked wheels: the Capwrapper API "
        "is the simulator and the GitHub API a stand-in, both on 127.0.0.1. No test asserts any "
        "of these timings.\n\n",
        "Machine: " + "; ".join(sorted(machines)) + ".\n\n",
        summary(sections),
        f"\n![Start-up, polling, end-to-end and scale figures]({chart_name})\n\n",
    ]
    for name, title in TITLES.items():
        if name in sections:
            parts.append(section(name, sections[name]))
        else:
            parts.append(f"## {title}\n\nNot measured yet: `python -m bench --only {name}`.\n\n")
    return "".join(parts).rstrip("\n") + "\n"
