"""Cancellation: SIGINT and SIGTERM for a process that runs as PID 1 in the action's container.

The kernel applies no default action to PID 1, so without a handler SIGTERM does nothing and
the runner's cancel only lands with the SIGKILL 10 s later, leaving no outputs and no summary.
The runner sends SIGINT, then SIGTERM 7.5 s later.

On either signal the handler records it and, unless a ``shield()`` is active, raises
``CancelledError`` in the main thread: a blocked socket read or sleep stops at once (a handler
that returns would let PEP 475 resume the read). A burst of signals raises once; a signal more
than ``RAISE_AGAIN_AFTER`` seconds after the last raise raises again, in case the first one was
swallowed somewhere. Inside ``shield()`` (writing outputs and the summary) signals are only
recorded, so a second signal never interrupts reporting.

The handler does not set the ``threading.Event`` itself, nor print: the interrupted code may
hold that event's lock or be half-way through writing to stdout, and the handler runs in the
same thread (a deadlock, or "reentrant call" RuntimeError). It writes one byte to a pipe
instead; a small watcher thread sets ``event`` and logs "cancel requested (SIGTERM)".
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from capwrapper_action.errors import CancelledError
from capwrapper_action.ghio import ActionIO

SIGNALS = (signal.SIGINT, signal.SIGTERM)
RAISE_AGAIN_AFTER = 1.0  # seconds
HINT = (
    "The builds keep running on Capwrapper (the API cannot cancel them); re-run with "
    "'build-id' to wait for them again."
)


class Cancellation:
    """Turns SIGINT/SIGTERM into ``event`` being set and, outside ``shield()``, into a
    ``CancelledError`` raised where the main thread is."""

    def __init__(
        self, log: ActionIO | None = None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.event = threading.Event()
        self.log = log
        self.signals: list[str] = []  # names of the signals received, in order
        self._monotonic = monotonic
        self._shield_depth = 0
        self._last_raise: float | None = None
        self._previous: dict[int, Any] = {}
        self._wake_fd = -1
        self._watcher: threading.Thread | None = None

    @property
    def requested(self) -> bool:
        """True once a signal came (known in the handler already, before ``event`` is set)."""
        return bool(self.signals) or self.event.is_set()

    @property
    def shielded(self) -> bool:
        return self._shield_depth > 0

    @property
    def installed(self) -> bool:
        return bool(self._previous)

    def install(self) -> bool:
        """Install the handlers; False (and nothing done) when not on the main thread."""
        if self.installed:
            return True
        if threading.current_thread() is not threading.main_thread():
            return False
        read_fd, self._wake_fd = os.pipe()
        os.set_blocking(self._wake_fd, False)
        self._watcher = threading.Thread(
            target=self._watch, args=(read_fd,), name="cancel-watcher", daemon=True
        )
        self._watcher.start()
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return True

    def restore(self) -> None:
        """Put the previous handlers back and stop the watcher."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        wake_fd, self._wake_fd = self._wake_fd, -1
        if wake_fd >= 0:
            os.close(wake_fd)  # the watcher reads end-of-file and ends
        if self._watcher is not None:
            self._watcher.join(timeout=2.0)
            self._watcher = None

    def __enter__(self) -> Cancellation:
        self.install()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.restore()

    @contextlib.contextmanager
    def shield(self) -> Iterator[None]:
        """While inside, signals are recorded (and ``event`` set) but raise nothing."""
        self._shield_depth += 1
        try:
            yield
        finally:
            self._shield_depth -= 1

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signals.append(signal.Signals(signum).name)
        if self._wake_fd >= 0:
            with contextlib.suppress(OSError):  # a full pipe already holds a wake-up
                os.write(self._wake_fd, bytes([signum & 0xFF]))
        if self.shielded:
            return
        now = self._monotonic()
        if self._last_raise is not None and now - self._last_raise < RAISE_AGAIN_AFTER:
            return
        self._last_raise = now
        raise CancelledError(f"Cancelled by {self.signals[0]}.", hint=HINT)

    def _watch(self, read_fd: int) -> None:
        line = "cancel requested ({}): stopping; the builds keep running on Capwrapper"
        try:
            while data := os.read(read_fd, 64):
                self.event.set()
                for signum in data:
                    self._say(line.format(signal.Signals(signum).name))
                    line = "{} received: already stopping"  # every signal after the first
        finally:
            os.close(read_fd)

    def _say(self, line: str) -> None:
        if self.log is not None:
            with contextlib.suppress(Exception):  # a closed stream must not kill the watcher
                self.log.info(line)
