"""Start-up benchmark: from process start to the action's first API request.

Method. Every program runs in the image's virtualenv with the image's environment
(``PYTHONDONTWRITEBYTECODE=1`` …), from the mirrored image (``bench.harness``). The clock is the
wall clock (``time.time()``) of this one machine: the benchmark reads it just before spawning
the process, and the simulator stamps each request it receives with the same clock
(``RequestRecord.at``, taken when the request has been read and answered, just before the
answer is sent; the simulator runs in this process). So "time to first request" is
``at - spawn`` for both the action and the floor, measured the same way. The programs, run in
turn (interleaved, so that drift of the machine hits all alike), ``runs`` times each:

* ``python -c pass``, spawn to exit: the interpreter alone;
* ``python -c "import requests"``, spawn to exit: the floor as the issue names it;
* ``python -c "import requests; requests.get(…)"``, spawn to the simulator receiving the GET: the
  same floor measured like the action;
* ``entrypoint.py`` (``wait: false``, fixed version and poll interval, so its first request is
  ``POST /builds``), spawn to the simulator receiving the POST: the image as it ships, where
  the application's modules are compiled from source at every start;
* the same with the application's bytecode compiled in advance (``compileall``), which the
  image does not do: what that would save.

The import breakdown runs the entrypoint once under ``python -X importtime`` with an audit hook
that marks the first ``socket.connect``: the imports above the mark are on the path to the first
request. It also counts PyGithub's modules before the mark, in a whole run and in a dry run.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench import harness as H
from capwrapper_simulator import SimConfig, Simulator

RUNS = 20
TARGET_MS = 150.0
MARK = "@@first-socket-connect"

PASS, IMPORT, FLOOR, ACTION, PRECOMPILED = (
    "python -c pass",
    'python -c "import requests"',
    "import requests + first request",
    "entrypoint.py (image as shipped)",
    "entrypoint.py (bytecode precompiled)",
)
TO_EXIT = "spawn → exit"
TO_REQUEST = "spawn → first request received"


@dataclass(frozen=True)
class Variant:
    name: str
    measures: str  # TO_EXIT or TO_REQUEST
    median_ms: float
    min_ms: float
    max_ms: float
    runs: int


def _floor_code(base_url: str) -> str:
    return (
        "import requests; "
        f"requests.get({base_url + '/builds'!r}, headers={{'Authorization': 'Bearer sim-key'}})"
    )


class _Bench:
    """One simulator and GitHub stand-in for every run; each action run uses its own app."""

    def __init__(self, sim: Simulator, gh: Any) -> None:
        self.sim, self.gh = sim, gh
        self.image = H.action_image()
        self.precompiled = H.action_image(precompiled=True)
        self.run = H.runner("startup")
        self.count = 0

    def plain(self, code: str) -> float:
        """Spawn to exit, in ms, of ``python -c code`` in the image's venv."""
        env = self.image.environ({"PATH": self.run.env["PATH"]})
        done = H.run_child([self.image.argv[0], "-c", code], env, self.run.workspace)
        if done.returncode != 0:
            raise RuntimeError(f"python -c {code!r} failed:\n{done.output}")
        return done.wall * 1000

    def to_request(self, argv: list[str], env: dict[str, str]) -> float:
        """Spawn to the simulator receiving the first request, in ms."""
        before = len(self.sim.requests())
        done = H.run_child(argv, env, self.run.workspace)
        log = self.sim.requests()
        if done.returncode != 0 or len(log) <= before:
            raise RuntimeError(f"{argv} sent no request (exit {done.returncode}):\n{done.output}")
        return (log[before].at - done.started) * 1000

    def floor(self) -> float:
        env = self.image.environ({"PATH": self.run.env["PATH"]})
        return self.to_request([self.image.argv[0], "-c", _floor_code(self.sim.base_url)], env)

    def action(self, precompiled: bool) -> float:
        self.count += 1
        image = self.precompiled if precompiled else self.image
        given = H.action_inputs(
            self.sim.base_url,
            bundle_id=f"com.example.start{self.count}",
            wait="false",
            poll_interval="5",
        )
        return self.to_request(image.argv, H.runner_env(image, self.run, given, self.gh))


def measure(runs: int = RUNS) -> list[Variant]:
    """Every variant ``runs`` times, interleaved."""
    with Simulator(SimConfig()) as sim, H.github_standin() as gh:
        bench = _Bench(sim, gh)
        programs: dict[str, tuple[str, Callable[[], float]]] = {
            PASS: (TO_EXIT, lambda: bench.plain("pass")),
            IMPORT: (TO_EXIT, lambda: bench.plain("import requests")),
            FLOOR: (TO_REQUEST, bench.floor),
            ACTION: (TO_REQUEST, lambda: bench.action(precompiled=False)),
            PRECOMPILED: (TO_REQUEST, lambda: bench.action(precompiled=True)),
        }
        for _, warm in programs.values():  # fill the page cache, not counted
            warm()
        times: dict[str, list[float]] = defaultdict(list)
        for i in range(runs):
            order = list(programs)
            order = order[i % len(order) :] + order[: i % len(order)]
            for name in order:
                times[name].append(programs[name][1]())
    return [
        Variant(name, measures, H.median(t), min(t), max(t), len(t))
        for name, (measures, _) in programs.items()
        for t in [times[name]]
    ]


# -- import breakdown ----------------------------------------------------------------------

_WRAPPER = f"""
import sys
_seen = []
def _hook(event, args):
    if event == "socket.connect" and not _seen:
        _seen.append(1)
        sys.stderr.write("{MARK}\\n")
        sys.stderr.flush()
sys.addaudithook(_hook)
_path = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[0] = _path.rsplit("/", 1)[0]
with open(_path, encoding="utf-8") as _f:
    _code = compile(_f.read(), _path, "exec")
exec(_code, {{"__name__": "__main__", "__file__": _path}})
"""


@dataclass(frozen=True)
class Imported:
    module: str
    self_us: int
    cumulative_us: int
    depth: int
    before_request: bool


def parse_importtime(text: str) -> list[Imported]:
    """The ``-X importtime`` lines of ``text``; those above ``MARK`` are before the request."""
    found: list[Imported] = []
    before = True
    for line in text.splitlines():
        if line.strip() == MARK:
            before = False
            continue
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line[len("import time:") :].split("|", 2)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        found.append(Imported(name.strip(), int(self_us), int(cumulative), depth, before))
    return found


GROUPS = (
    ("capwrapper_action", ("capwrapper_action",)),
    ("requests stack", ("requests", "urllib3", "idna", "certifi", "charset_normalizer")),
    ("PyYAML", ("yaml", "_yaml")),
    ("actions-toolkit", ("actions_toolkit",)),
    ("PyGithub and its deps", ("github", "jwt", "nacl", "cryptography", "cffi", "_cffi_backend")),
)


def group_of(module: str) -> str:
    top = module.split(".", 1)[0]
    for name, tops in GROUPS:
        if top in tops:
            return name
    return "standard library"


def _importtime(argv: list[str], env: dict[str, str], cwd: Any) -> list[Imported]:
    argv = [argv[0], "-X", "importtime", "-c", _WRAPPER, *argv[1:]]
    return parse_importtime(H.run_child(argv, env, cwd).output)


def breakdown() -> dict[str, Any]:
    """Import costs on the path to the first request, by group and by module."""
    image = H.action_image()
    run = H.runner("importtime")
    with Simulator(SimConfig()) as sim, H.github_standin() as gh:
        given = H.action_inputs(sim.base_url, wait="false", poll_interval="5")
        full = _importtime(image.argv, H.runner_env(image, run, given, gh), run.workspace)
        dry_given = {**given, "dry-run": "true"}
        dry = _importtime(image.argv, H.runner_env(image, run, dry_given, gh), run.workspace)
    before = [m for m in full if m.before_request]
    groups: dict[str, int] = defaultdict(int)
    for m in before:
        groups[group_of(m.module)] += m.self_us
    top = sorted((m for m in before if m.depth == 0), key=lambda m: -m.cumulative_us)
    return {
        "total_before_ms": sum(m.self_us for m in before) / 1000,
        "modules_before": len(before),
        "groups_ms": {k: v / 1000 for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
        "top": [asdict(m) for m in top[:12]],
        "slowest_self": [asdict(m) for m in sorted(before, key=lambda m: -m.self_us)[:12]],
        "github_before": sum(group_of(m.module).startswith("PyGithub") for m in before),
        "github_after": sum(
            group_of(m.module).startswith("PyGithub") for m in full if not m.before_request
        ),
        "github_dry_run": sum(group_of(m.module).startswith("PyGithub") for m in dry),
        "yaml_before": sum(group_of(m.module) == "PyYAML" for m in before),
    }


def run(runs: int = RUNS) -> dict[str, Any]:
    variants = measure(runs)
    by_name = {v.name: v for v in variants}
    gap = by_name[ACTION].median_ms - by_name[FLOOR].median_ms
    gap_pre = by_name[PRECOMPILED].median_ms - by_name[FLOOR].median_ms
    return {
        "runs": runs,
        "python": H.python_version_of(H.action_image().argv[0]),
        "variants": [asdict(v) for v in variants],
        "over_floor_ms": gap,
        "over_floor_precompiled_ms": gap_pre,
        "over_import_ms": by_name[ACTION].median_ms - by_name[IMPORT].median_ms,
        "target_ms": TARGET_MS,
        "met": gap <= TARGET_MS,
        "imports": breakdown(),
    }


def _ms(value: float) -> str:
    return f"{value:.0f} ms"


def markdown(data: dict[str, Any]) -> str:
    lines = [
        f"Median of {data['runs']} runs each, interleaved; Python {data['python']} in the "
        "image's virtualenv and environment.\n\n",
        "| program | measured | median | min | max |\n|---|---|---|---|---|\n",
    ]
    for v in data["variants"]:
        lines.append(
            f"| {v['name']} | {v['measures']} | **{_ms(v['median_ms'])}** | "
            f"{_ms(v['min_ms'])} | {_ms(v['max_ms'])} |\n"
        )
    met = "met" if data["met"] else "**not met**"
    lines.append(
        f"\nThe action's first request comes **{_ms(data['over_floor_ms'])}** after the floor's "
        f"(target ≤ {_ms(data['target_ms'])}: {met}); "
        f"{_ms(data['over_floor_precompiled_ms'])} with precompiled bytecode. Against "
        f"`import requests` to exit it is {_ms(data['over_import_ms'])} more.\n"
    )
    lines.append("\n" + imports_markdown(data["imports"]))
    return "".join(lines)


def imports_markdown(imp: dict[str, Any]) -> str:
    lines = [
        f"**Imports before the first request** (`-X importtime`, image as shipped, one run): "
        f"{imp['modules_before']} modules, {imp['total_before_ms']:.0f} ms of import time "
        "(importtime's own bookkeeping included, so more than the real cost).\n\n",
        "| group | self time |\n|---|---|\n",
    ]
    lines += [f"| {g} | {ms:.1f} ms |\n" for g, ms in imp["groups_ms"].items()]
    lines.append("\n| top-level import | cumulative | | slowest module (self) | self |\n")
    lines.append("|---|---|---|---|---|\n")
    for a, b in zip(imp["top"], imp["slowest_self"], strict=False):
        lines.append(
            f"| `{a['module']}` | {a['cumulative_us'] / 1000:.1f} ms | | `{b['module']}` | "
            f"{b['self_us'] / 1000:.1f} ms |\n"
        )
    lines.append(
        f"\nPyGithub modules imported before the first request: **{imp['github_before']}**; "
        f"in a dry run: **{imp['github_dry_run']}**; after the first request (for the pull "
        f"request lookup): {imp['github_after']}.\n"
    )
    return "".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    print(markdown(run(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
