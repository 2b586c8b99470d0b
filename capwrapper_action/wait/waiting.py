"""Wait for the builds: one loop, one schedule per platform, on an injected clock.

Each platform's next status check is planned by its ``PollStrategy``; the loop sleeps until
the earliest one (two platforms take as long as the slower, not the sum), checks every build
that is due, and logs one line per status change and a heartbeat at most once a minute.
A status check that fails in a transient way is planned again by the retry policy
(``retry``), one log line each, until the ``timeout``; an error that retrying cannot fix
(401, 400, a 404 after the read-after-write grace) ends the wait.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from capwrapper_action.api.http import one_line
from capwrapper_action.api.models import Build, Platform
from capwrapper_action.errors import ApiError, CancelledError, NotFoundError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.result import PlatformState, RunStatus
from capwrapper_action.retry import Retrier, is_transient
from capwrapper_action.timeutil import Clock, format_duration
from capwrapper_action.wait.polling import PollStrategy
from capwrapper_action.wait.tracking import Track

READ_AFTER_WRITE_GRACE = 30.0  # a build made moments ago may not be readable yet: 404s wait
HEARTBEAT_SECONDS = 60.0
BATCH_SECONDS = 1.0  # checks due this close together are made together


class BuildReader(Protocol):
    """What the waiter needs from the API client."""

    def get_build(
        self, build_id: str, *, deadline: float | None = None, retry: bool = True
    ) -> Build: ...


def wait_for_builds(
    client: BuildReader,
    states: Mapping[Platform, PlatformState],
    *,
    timeout: float,
    queue_timeout: float | None,
    strategies: Mapping[Platform, PollStrategy],
    clock: Clock,
    cancel: threading.Event,
    log: ActionIO,
    retrier: Retrier | None = None,
) -> RunStatus:
    """Wait until every build in ``states`` is final, the timeout passes or a cancel comes.

    Returns ``RunStatus.SUCCESS`` (all succeeded), ``FAILED`` (all final, one or more failed),
    ``TIMED_OUT`` (``timeout`` passed, or a build was still queued after ``queue_timeout``; the
    builds keep running) or ``CANCELLED``. Updates ``states[p].build`` with every answer and
    ``states[p].started_at``. Raises the ``ApiError`` of a status check that retrying
    cannot fix (401, 400, 404) or whose Retry-After reaches past the timeout."""
    start = clock.now()
    queue_deadline = None if queue_timeout is None else start + queue_timeout
    waiter = _Waiter(client, clock, cancel, log, retrier or Retrier(clock, cancel, log), start,
                     deadline=start + max(0.0, timeout), queue_deadline=queue_deadline,
                     last_line=start)
    tracks = [waiter.track(p, s, strategies[p]) for p, s in states.items()]
    try:
        return waiter.run(tracks)
    except CancelledError:
        return waiter.stop(tracks, RunStatus.CANCELLED)


@dataclass(eq=False)
class _Waiter:
    client: BuildReader
    clock: Clock
    cancel: threading.Event
    log: ActionIO
    retrier: Retrier
    start: float
    deadline: float
    queue_deadline: float | None
    last_line: float  # clock time of the last log line, for the heartbeat

    def track(self, platform: Platform, state: PlatformState, strategy: PollStrategy) -> Track:
        track = Track.begin(platform, state, strategy, now=self.start, clock=self.clock)
        self._schedule(track, self.start)
        return track

    def run(self, tracks: list[Track]) -> RunStatus:
        self._opening(tracks)
        while True:
            pending = [t for t in tracks if not t.final]
            if not pending:
                return self._finished(tracks)
            if self.cancel.is_set():
                return self.stop(tracks, RunStatus.CANCELLED)
            wake = min(*(t.next_at for t in pending), self.deadline)
            now = self.clock.now()
            if wake > now and self.clock.sleep(wake - now, self.cancel):
                return self.stop(tracks, RunStatus.CANCELLED)
            now = self.clock.now()
            timed_out = now >= self.deadline
            due = pending if timed_out else [t for t in pending if t.next_at <= now + BATCH_SECONDS]
            changed = [t for t in due if self._check(t)]
            if self.cancel.is_set():
                return self.stop(tracks, RunStatus.CANCELLED)
            stuck = self._stuck_in_queue(pending)
            if stuck:
                return self._queue_timed_out(tracks, stuck)
            if timed_out and any(not t.final for t in tracks):
                return self.stop(tracks, RunStatus.TIMED_OUT)
            if not changed:
                self._heartbeat(tracks)

    def _check(self, track: Track) -> bool:
        """One status check; True when the status changed."""
        try:
            build = self.client.get_build(track.build_id, deadline=self.deadline, retry=False)
        except ApiError as err:
            if not (is_transient(err, status_check=True) or self._settling(track, err)):
                raise
            self._failed(track, err)
            return False
        track.failing = None
        changed = self._observe(track, build)
        self._schedule(track, self.clock.now())
        return changed

    def _observe(self, track: Track, build: Build) -> bool:
        status, now = build.status, self.clock.now()
        if track.record(build, self.clock):
            meaning = "the build has ended" if track.final else "waiting on as still running"
            self._say(f"{track.platform}: unknown status '{status}': {meaning}")
        if status == track.status:
            return False
        line = f"{track.platform}: {track.status} → {status} ({_elapsed(now - self.start)})"
        if build.failed and build.error:
            line += f": {one_line(build.error)}"
        track.status, track.since = status, now
        self._say(line)
        return True

    def _settling(self, track: Track, err: ApiError) -> bool:
        """A 404 for a build this run made or adopted moments ago: the API may not have
        caught up with its own write yet."""
        fresh = track.state.adopted or track.state.created
        age = self.clock.now() - self.start
        return isinstance(err, NotFoundError) and fresh and age < READ_AFTER_WRITE_GRACE

    def _failed(self, track: Track, err: ApiError) -> None:
        """Plan the next check by the retry policy (one log line), or raise ``err`` when the
        server asks to wait past the timeout or the read-after-write grace is over."""
        grace_only = track.failing is not None and track.failing.deadline != self.deadline
        if track.failing is None or (grace_only and not isinstance(err, NotFoundError)):
            deadline = self.deadline
            if isinstance(err, NotFoundError):
                deadline = min(deadline, self.start + READ_AFTER_WRITE_GRACE)
            track.failing = self.retrier.budget(deadline, until_deadline=True)
        budget, now = track.failing, self.clock.now()
        delay = self.retrier.plan(budget, err)
        message = one_line(err.message)
        if delay is None and (budget.refusal or now < self.deadline):
            self._say(f"{track.platform}: giving up on the status checks ({message})")
            raise self.retrier.given_up(budget, err)
        if delay is None:
            track.next_at = self.deadline
            return
        track.next_at = now + delay.seconds
        self._say(
            f"{track.platform}: status check failed ({message}); checking again in "
            f"{_elapsed(delay.seconds)} ({delay.reason}; {budget.progress(now)})"
        )

    def _schedule(self, track: Track, now: float) -> None:
        track.next_at = now + track.strategy.delay(track.age0 + (now - self.start))
        if not track.left_queue and self.queue_deadline is not None:
            track.next_at = max(now, min(track.next_at, self.queue_deadline))

    def _stuck_in_queue(self, pending: list[Track]) -> list[Track]:
        if self.queue_deadline is None or self.clock.now() < self.queue_deadline:
            return []
        return [t for t in pending if not t.left_queue]

    def _queue_timed_out(self, tracks: list[Track], stuck: list[Track]) -> RunStatus:
        names = ", ".join(t.platform for t in stuck)
        waited = _elapsed(self.clock.now() - self.start)
        self._say(f"{names}: still queued after {waited} (queue-timeout)")
        return self.stop(tracks, RunStatus.TIMED_OUT)

    def stop(self, tracks: list[Track], outcome: RunStatus) -> RunStatus:
        """Log why the wait ends early; the builds keep running on Capwrapper."""
        how = "timed out" if outcome == RunStatus.TIMED_OUT else "cancelled"
        now = self.clock.now()
        statuses = ", ".join(f"{t.platform} {t.status}" for t in tracks)
        failing = [t.failing.started for t in tracks if t.failing is not None and not t.final]
        unanswered = (f"; the status checks have failed for the last "
                      f"{_elapsed(now - min(failing))}") if failing else ""
        self._say(
            f"stopped waiting ({how}) after {_elapsed(now - self.start)}: "
            f"{statuses}{unanswered}; the builds keep running on Capwrapper"
        )
        return outcome

    def _finished(self, tracks: list[Track]) -> RunStatus:
        statuses = ", ".join(f"{t.platform} {t.status}" for t in tracks)
        self._say(
            f"all builds finished after {_elapsed(self.clock.now() - self.start)}: {statuses}"
        )
        failed = any(t.state.build is not None and t.state.build.failed for t in tracks)
        return RunStatus.FAILED if failed else RunStatus.SUCCESS

    def _heartbeat(self, tracks: list[Track]) -> None:
        now = self.clock.now()
        if now - self.last_line < HEARTBEAT_SECONDS:
            return
        parts = [f"{t.platform} {t.status}" + ("" if t.final else f" {_elapsed(now - t.since)}")
                 for t in tracks]
        self._say("still waiting: " + ", ".join(parts))

    def _opening(self, tracks: list[Track]) -> None:
        builds = ", ".join(f"{t.platform} {t.build_id} ({t.status})" for t in tracks)
        self._say(f"waiting up to {_elapsed(self.deadline - self.start)} for {builds}")
        plans = {t.platform: t.strategy.describe() for t in tracks}
        if len(set(plans.values())) == 1:
            self._say(next(iter(plans.values())))
            return
        for platform, plan in plans.items():
            self._say(f"{platform}: {plan}")

    def _say(self, line: str) -> None:
        self.log.info(line)
        self.last_line = self.clock.now()


def _elapsed(seconds: float) -> str:
    return format_duration(max(0.0, seconds))  # the one time format of the log and summary
