"""Footprint benchmark: memory of a full run and disk size of what the image installs.

* **Peak RSS**: ``ru_maxrss`` of the action's process (read by ``harness``'s launcher) for a
  full run: two platforms, ``version: auto`` over a seeded history, ``poll-interval: auto``,
  the pull request lookup with a label gate (``deploy-labels``), deploy, download of both
  binaries and the job summary. For scale, the same figure for ``python -c pass`` and
  ``python -c "import requests"`` in the same virtualenv.
* **Disk**: the mirrored image's virtualenv (what ``pip install -r requirements.txt`` makes,
  with the Dockerfile's flags); an empty virtualenv made by the same Python (the image's
  ``python -m venv`` layer); their difference, which is the dependency layer's content; each
  installed distribution's files (from its ``RECORD``); and the application's files. The base
  image itself cannot be measured without Docker.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import harness as H
from capwrapper_simulator import SimConfig, Simulator

TARGET_MIB = 60.0
BUILD_SECONDS = 3.0

_DISTS = """
import json, os, importlib.metadata as md
sizes = {}
for dist in md.distributions():
    total = 0
    for f in dist.files or ():
        path = dist.locate_file(f)
        if os.path.isfile(path):
            total += os.path.getsize(path)
    sizes[dist.metadata["Name"]] = total
print(json.dumps(sizes))
"""


def tree_size(path: Path) -> dict[str, int]:
    """Apparent bytes (``du --apparent-size``), disk bytes (``du``) and files under ``path``."""
    apparent = disk = files = 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            apparent += st.st_size
            disk += st.st_blocks * 512
            files += 1
    return {"apparent": apparent, "disk": disk, "files": files}


def full_run(build_seconds: float = BUILD_SECONDS) -> dict[str, Any]:
    """One run of everything the action does; its peak RSS and what it did."""
    image = H.action_image()
    with (
        Simulator(SimConfig(queue_seconds=0.5, build_seconds=build_seconds)) as sim,
        H.github_standin() as gh,
    ):
        for platform in ("android", "ios"):
            for i in range(5):
                sim.seed_build(
                    platform=platform,
                    bundle_id="com.example.shop",
                    version=f"1.3.{i}",
                    duration=build_seconds + 0.5 + i * 0.05,
                    finished_ago=3600.0 * (5 - i),
                )
        run = H.runner("footprint")
        given = H.action_inputs(
            sim.base_url,
            version="auto",
            deploy="true",
            deploy_labels="release",
            download="true",
            deploy_options='{"track": "internal"}',
        )
        env = H.runner_env(image, run, given, gh)
        done = H.run_child(image.argv, env, run.workspace, rss=True)
        outputs = run.outputs()
        return {
            "ok": done.returncode == 0 and outputs.get("status") == "success",
            "deploys": len(sim.deploys()),
            "downloads": sim.request_count("download"),
            "version": outputs.get("version", ""),
            "max_rss_mib": H.rss_mib(done),
            "cpu_seconds": done.cpu_seconds,
            "wall": done.wall,
            "output": done.output if done.returncode else "",
        }


def python_rss(code: str) -> float:
    image = H.action_image()
    run = H.runner("rss")
    done = H.run_child([image.argv[0], "-c", code], image.environ({}), run.workspace, rss=True)
    return H.rss_mib(done)


def sizes() -> dict[str, Any]:
    image = H.action_image()
    empty = H.scratch() / "empty-venv"
    subprocess.run([sys.executable, "-m", "venv", str(empty)], check=True)
    venv, base = tree_size(image.venv), tree_size(empty)
    probe = subprocess.run(
        [image.argv[0], "-c", _DISTS], capture_output=True, text=True, check=True
    )
    dists: dict[str, int] = json.loads(probe.stdout)
    site = next(image.venv.glob("lib/python*/site-packages"))
    return {
        "venv": venv,
        "site_packages": tree_size(site),
        "empty_venv": base,
        "layer": {k: venv[k] - base[k] for k in venv},
        "distributions": dict(sorted(dists.items(), key=lambda kv: -kv[1])),
        "app": tree_size(image.path("/opt/capwrapper")),
    }


def run(build_seconds: float = BUILD_SECONDS) -> dict[str, Any]:
    full = full_run(build_seconds)
    return {
        "full_run": full,
        "rss_pass_mib": python_rss("pass"),
        "rss_requests_mib": python_rss("import requests"),
        "target_mib": TARGET_MIB,
        "met": full["max_rss_mib"] < TARGET_MIB,
        "sizes": sizes(),
    }


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def markdown(data: dict[str, Any]) -> str:
    full, s = data["full_run"], data["sizes"]
    met = "met" if data["met"] else "**not met**"
    ok = "succeeded" if full["ok"] else "**failed**"
    lines = [
        f"**Peak RSS of a full run**: **{full['max_rss_mib']:.1f} MiB** (target < "
        f"{data['target_mib']:g} MiB: {met}); the run {ok} with version {full['version']}, "
        f"{full['deploys']} deploys and {full['downloads']} downloads, "
        f"{full['cpu_seconds']:.2f} s of CPU in {full['wall']:.1f} s. For scale: "
        f'`python -c pass` {data["rss_pass_mib"]:.1f} MiB, `python -c "import requests"` '
        f"{data['rss_requests_mib']:.1f} MiB.\n\n",
        "| on disk | size (apparent) | disk usage | files |\n|---|---|---|---|\n",
    ]
    for label, key in (
        ("runtime virtualenv (`/opt/venv`)", "venv"),
        ("its site-packages", "site_packages"),
        ("an empty virtualenv (the `python -m venv` layer)", "empty_venv"),
        ("**dependency layer** (`pip install -r requirements.txt`)", "layer"),
        ("application (`/opt/capwrapper`)", "app"),
    ):
        t = s[key]
        lines.append(f"| {label} | {_mb(t['apparent'])} | {_mb(t['disk'])} | {t['files']} |\n")
    lines.append("\nInstalled distributions (files listed in each `RECORD`):\n\n")
    lines.append("| distribution | size |\n|---|---|\n")
    lines += [f"| {name} | {_mb(n)} |\n" for name, n in s["distributions"].items()]
    return "".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.footprint", description=__doc__)
    parser.add_argument("--build-seconds", type=float, default=BUILD_SECONDS)
    args = parser.parse_args(argv)
    print(markdown(run(args.build_seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
