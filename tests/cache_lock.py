"""One builder at a time for a test cache under `.cache/` (the Docker mirror's dependency layer,
the portable action's install).

The suite runs in parallel workers (pytest-xdist), and engineers run suites side by side in one
checkout: each entry is built by whoever takes its lock first, in a temporary folder renamed into
place when complete, and everyone else waits on the lock and then reuses the finished entry. A
session killed mid-build leaves only its temporary folder and a lock file that the next taker
reopens (the operating system releases the lock of a dead process).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock


@contextmanager
def building(entry: Path) -> Iterator[None]:
    """Hold the lock of the cache entry `entry` (a path that need not exist yet)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(entry.with_name(f"{entry.name}.lock")):
        yield
