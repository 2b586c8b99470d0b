"""Fixtures for every test.

- `urllib3_backoff` (autouse): in this process, urllib3's retry backoff is recorded instead of
  slept. PyGithub retries a GET twice inside urllib3 (`retry.quick_get_retry`), 0.5 s apart on
  the second try; the runner files point the action at a closed GitHub port unless a test starts
  the stand-in, so an in-process run used to sleep ~2 s of real time on those retries, beside
  waits that a virtual clock already takes out. The tries themselves are unchanged. The action
  run as a subprocess (tests/end_to_end) sleeps them for real.
"""

from __future__ import annotations

import pytest
from urllib3.util.retry import Retry


@pytest.fixture(autouse=True)
def urllib3_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoffs urllib3 would have slept, in order."""
    slept: list[float] = []

    def record(retry: Retry) -> None:
        backoff = retry.get_backoff_time()
        if backoff > 0:
            slept.append(backoff)

    monkeypatch.setattr(Retry, "_sleep_backoff", record)
    return slept
