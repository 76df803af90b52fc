"""Progress for long runs: lines on stderr (through logging, never stdout), at most one every few seconds."""

from __future__ import annotations

import os
import time

PROGRESS_ENV = "MODELFLEET_PROGRESS_SECONDS"
DEFAULT_SECONDS = 10.0


class Throttle:
    """Says when the next progress line is due: every ``$MODELFLEET_PROGRESS_SECONDS`` (default 10 s)."""

    def __init__(self, every: float | None = None) -> None:
        if every is None:
            try:
                every = float(os.environ.get(PROGRESS_ENV, DEFAULT_SECONDS))
            except ValueError:
                every = DEFAULT_SECONDS
        self.every = every
        self.start = self._last = time.monotonic()

    def due(self) -> bool:
        """Whether a progress line is due now (and, if so, start the next interval)."""
        now = time.monotonic()
        if now - self._last < self.every:
            return False
        self._last = now
        return True

    @property
    def elapsed(self) -> float:
        """Seconds since the throttle was made."""
        return time.monotonic() - self.start

    def rate(self, done: int) -> float:
        """``done`` per second so far."""
        return done / max(self.elapsed, 1e-9)
