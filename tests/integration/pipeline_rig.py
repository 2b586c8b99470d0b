"""Whole release pipelines: several runs of the action (``main.run`` in process, the runner's
environment and file commands) against one simulator in virtual time and one GitHub API
stand-in, as re-runs and repeats meet them on GitHub.

``Pipeline.run`` starts one run (a fresh runner folder; the same ``GITHUB_RUN_ID`` with a
higher ``GITHUB_RUN_ATTEMPT`` for a re-run) and keeps its exit code and outputs; ``table``
renders every pipeline of a test session as Markdown (``tests/integration/test_pipelines.py``
writes it to ``.cache/pipelines.md`` and prints it under ``pytest -s``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from capwrapper_action.cancel import Cancellation
from capwrapper_action.main import run
from capwrapper_simulator import BuildSnapshot, Simulator
from tests.github_standin import GitHubStandin
from tests.integration.client_rig import LinkedClock
from tests.runner_files import DEFAULT_REPOSITORY, DEFAULT_SHA, RunnerEnv

TOKEN = "ghs_runner-test-token"  # what tests.runner_files passes as github-token
BUNDLE = "com.example.shop"
BASE_INPUTS = {
    "app-url": "https://shop.example.com", "app-name": "Example Shop", "bundle-id": BUNDLE,
    "poll-interval": "10", "timeout": "30m",
}  # fmt: skip


@dataclass
class Run:
    label: str
    code: int
    outputs: dict[str, str]
    log: str
    summary: str

    def row(self) -> list[str]:
        out = self.outputs
        reused = f"{out.get('android-reused', '')}/{out.get('ios-reused', '')}"
        error = " ".join(out.get("error", "").split())
        error = error if len(error) <= 110 else error[:109] + "…"
        return [self.label, str(self.code), out.get("status", ""), out.get("version", ""),
                reused, error or "—"]


@dataclass
class Pipeline:
    name: str
    sim: Simulator
    github: GitHubStandin
    root: Path
    runs: list[Run] = field(default_factory=list)
    after: str = ""  # what the server holds once the pipeline is over
    _started: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run(
        self, label: str, *, attempt: int = 1, run_id: str = "7301234567",
        sha: str = DEFAULT_SHA, inputs: Mapping[str, str] | None = None,
        session: requests.Session | None = None, cancellation: Cancellation | None = None,
        **given: str,
    ) -> Run:
        with self._lock:  # racing runs start at once: each gets its own runner folder
            self._started += 1
            folder = self.root / f"run{self._started}"
        runner = RunnerEnv(folder, sha=sha)
        runner.env.update(GITHUB_API_URL=self.github.url, GITHUB_RUN_ID=run_id,
                          GITHUB_RUN_ATTEMPT=str(attempt))
        full = {"api-key": self.sim.api_key, "api-url": self.sim.base_url, **BASE_INPUTS}
        full.update(inputs or {})
        full.update({k.replace("_", "-"): v for k, v in given.items()})
        out = io.StringIO()
        clock = LinkedClock(self.sim.clock)  # type: ignore[arg-type]
        code = run(runner.with_inputs(full), stdout=out, clock=clock, session=session,
                   cancellation=cancellation)
        done = Run(label, code, runner.outputs(), out.getvalue(), runner.summary_text())
        assert "Traceback" not in done.log, done.log
        with self._lock:
            self.runs.append(done)
        return done

    def finish(self) -> None:
        """Note what the server holds now: every build made (not seeded) and every deploy."""
        builds = sorted(
            (b for b in self.sim.builds(seeded=False)), key=lambda b: (b.platform, b.record.seq)
        )
        made = ", ".join(f"{b.platform} {b.record.version} {b.status}" for b in builds) or "none"
        deploys = self.sim.deploys()
        by_id = {b.id: b for b in builds}
        shown = ", ".join(
            _built(by_id[d.build_id]) if d.build_id in by_id else d.build_id for d in deploys
        )
        self.after = f"builds: {made}; deploys: {len(deploys)}" + (f" ({shown})" if shown else "")
        PIPELINES.append(self)

    def statuses(self, sha: str = DEFAULT_SHA) -> dict[str, Any]:
        """The commit's current statuses: context -> (state, description)."""
        return {c: (s.state, s.description) for c, s in self.github.statuses.current(sha).items()}


PIPELINES: list[Pipeline] = []


def _built(build: BuildSnapshot) -> str:
    return f"{build.platform} {build.record.version}"


def table(pipelines: list[Pipeline]) -> str:
    head = ["Pipeline", "Run", "Exit", "status", "version", "reused (android/ios)", "error",
            "On the server afterwards"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for pipeline in pipelines:
        for index, one in enumerate(pipeline.runs):
            first = pipeline.name if index == 0 else ""
            last = pipeline.after if index == len(pipeline.runs) - 1 else ""
            cells = [first, *one.row(), last]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def standin() -> GitHubStandin:
    return GitHubStandin(repository=DEFAULT_REPOSITORY)
