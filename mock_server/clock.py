"""Time as each sandbox sees it: real by default, frozen or moved forward through the admin API.

Deadlines and token expiry read this clock, so tests advance it instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from mock_server.store import Store

_KIND = "clock"
_KEY = "clock"


@dataclass(frozen=True, slots=True)
class ClockReading:
    now: datetime
    frozen: bool


class Clock:
    """Per-sandbox time: `real() + offset`, or a fixed instant while frozen. State lives in the store."""

    def __init__(self, store: Store, real: Callable[[], float] = time.time) -> None:
        self._store = store
        self._real = real

    def now(self, sandbox: str) -> datetime:
        return self.reading(sandbox).now

    def reading(self, sandbox: str) -> ClockReading:
        state = self._store.get(sandbox, _KIND, _KEY)
        if state is None:
            return ClockReading(datetime.fromtimestamp(self._real(), UTC), frozen=False)
        if state.get("frozen_at") is not None:
            return ClockReading(datetime.fromtimestamp(float(state["frozen_at"]), UTC), frozen=True)
        return ClockReading(datetime.fromtimestamp(self._real() + float(state["offset"]), UTC), frozen=False)

    def set(self, sandbox: str, *, now: datetime | None, frozen: bool) -> ClockReading:
        """Make the sandbox read `now` (default: its current reading) and stand still or run on."""
        target = (now or self.now(sandbox)).timestamp()
        with self._store.transaction() as uow:
            state = {"offset": target - self._real(), "frozen_at": target if frozen else None}
            uow.put(sandbox, _KIND, _KEY, state)
        return self.reading(sandbox)

    def advance(self, sandbox: str, seconds: float) -> ClockReading:
        reading = self.reading(sandbox)
        return self.set(
            sandbox, now=datetime.fromtimestamp(reading.now.timestamp() + seconds, UTC), frozen=reading.frozen
        )


def isoformat_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z and whole seconds, as the MACO APP writes timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
