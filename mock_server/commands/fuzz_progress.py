"""Overall progress of a fuzz run: how many operation × phase units are done, of how many, and about how long the
rest takes; the stateful phase (its length is not known ahead) says every few seconds that it is still running."""

from __future__ import annotations

import time
from collections.abc import Callable

PER_OPERATION_PHASES = ("examples", "coverage", "fuzzing")
SHOW_AFTER_SECONDS = 3.0
HEARTBEAT_SECONDS = 10.0


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds + 0.5), 60)
    return f"{minutes}:{rest:02d}"


class FuzzProgress:
    def __init__(self, operations: int, phases: tuple[str, ...], now: Callable[[], float] = time.monotonic) -> None:
        self.total = operations * len([p for p in phases if p in PER_OPERATION_PHASES])
        self.done = 0
        self._now = now
        self._started = now()
        self._last_heartbeat = self._started
        self.stateful_cases = 0

    def operation_done(self) -> str:
        """The suffix for an operation's line: `[37/120 31%, 0:12 elapsed, about 0:26 left]` once the run is longer
        than a few seconds (empty before)."""
        self.done = min(self.done + 1, self.total)
        elapsed = self._now() - self._started
        self._last_heartbeat = self._now()
        if elapsed < SHOW_AFTER_SECONDS or not self.total:
            return ""
        left = elapsed / self.done * (self.total - self.done)
        share = round(100 * self.done / self.total)
        tail = f", about {_clock(left)} left" if self.done < self.total else ""
        return f"  [{self.done}/{self.total} {share}%, {_clock(elapsed)} elapsed{tail}]"

    def stateful(self, cases: int) -> str | None:
        """A line every HEARTBEAT_SECONDS while the stateful phase runs (None in between)."""
        self.stateful_cases += cases
        now = self._now()
        if now - self._last_heartbeat < HEARTBEAT_SECONDS:
            return None
        self._last_heartbeat = now
        return (
            f"  stateful  sequences along the links: {self.stateful_cases} cases so far, "
            f"{_clock(now - self._started)} elapsed"
        )
