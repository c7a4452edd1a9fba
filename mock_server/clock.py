"""Time as each sandbox sees it: real by default, frozen or moved forward through the admin API.

Deadlines and token expiry read this clock, so tests advance it instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pruefstand.contracts import Violation
from pruefstand.mock_server.kernel.errors import BadRequest
from pruefstand.mock_server.store import Store

_KIND = "clock"
_KEY = "clock"
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ClockReading:
    now: datetime
    frozen: bool


class Clock:
    """Per-sandbox time: `real() + offset`, or a fixed instant while frozen. State lives in the store."""

    def __init__(self, store: Store, real: Callable[[], float] = time.time) -> None:
        store.declare_cached([_KIND])  # read several times per request, set by the admin API
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
        moment = now or self.now(sandbox)
        if not EARLIEST <= moment < LATEST:
            raise BadRequest(
                [Violation("$.now", f"{moment.isoformat()} is outside the clock's range {EARLIEST.year}-{LATEST.year}")]
            )
        target = moment.timestamp()
        with self._store.transaction() as uow:
            state = {"offset": target - self._real(), "frozen_at": target if frozen else None}
            uow.put(sandbox, _KIND, _KEY, state)
        return self.reading(sandbox)

    def advance(self, sandbox: str, seconds: float) -> ClockReading:
        reading = self.reading(sandbox)
        if reading.now.timestamp() + seconds >= LATEST.timestamp():
            raise BadRequest([Violation("$.seconds", f"moves the clock past {LATEST.year}")])
        target = datetime.fromtimestamp(reading.now.timestamp() + seconds, UTC)
        return self.set(sandbox, now=target, frozen=reading.frozen)


def isoformat_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z and whole seconds, as the MACO APP writes timestamps."""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
