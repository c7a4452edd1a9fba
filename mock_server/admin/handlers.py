"""Handlers of the admin API's own operations (cross-flow: sandboxes, clock, journal, faults, deliveries), bound by
operationId. Each flow's admin operations are mounted with the flow (its `AdminPart`)."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pruefstand.mock_server.clock import Clock, ClockReading, isoformat_utc
from pruefstand.mock_server.http.faults import FaultRules
from pruefstand.mock_server.http.journal import Journal
from pruefstand.mock_server.kernel.answers import Answer, json_answer
from pruefstand.mock_server.kernel.errors import Unauthenticated
from pruefstand.mock_server.store import Store


class AdminHandlers:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        admin_token: str,
        *,
        journal: Journal | None = None,
        faults: FaultRules | None = None,
        clock_moved: Callable[[str], object] = lambda _sandbox: None,
    ) -> None:
        self._journal = journal or Journal(store, 0)
        self._faults = faults or FaultRules(store)
        self._store = store
        self._clock = clock
        self._token = admin_token
        self._clock_moved = clock_moved

    def operations(self) -> dict[str, Any]:
        return {
            "list_sandboxes": self.list_sandboxes,
            "reset_sandbox": self.reset_sandbox,
            "get_clock": self.get_clock,
            "set_clock": self.set_clock,
            "advance_clock": self.advance_clock,
            "list_deliveries": self.list_deliveries,
            "list_requests": self.list_requests,
            "get_faults": self.get_faults,
            "set_faults": self.set_faults,
            "redeliver_dead": self.redeliver_dead,
        }

    def verify_bearer(self, token: str, _request: object = None) -> dict[str, str]:
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            raise Unauthenticated("admin token is not valid")
        return {"sub": "admin"}

    async def list_sandboxes(self) -> Answer:
        found = self._store.sandboxes()
        return json_answer({"sandboxes": [{"sandbox": name, "records": count} for name, count in found.items()]})

    async def reset_sandbox(self, sandbox: str) -> Answer:
        return json_answer({"sandbox": sandbox, "removed": self._store.reset_sandbox(sandbox)})

    async def get_clock(self, sandbox: str) -> Answer:
        return json_answer(_clock_body(sandbox, self._clock.reading(sandbox)))

    async def set_clock(self, sandbox: str, body: dict[str, Any]) -> Answer:
        now = datetime.fromisoformat(body["now"].replace("Z", "+00:00")) if "now" in body else None
        return json_answer(_clock_body(sandbox, self._clock.set(sandbox, now=now, frozen=bool(body["frozen"]))))

    async def advance_clock(self, sandbox: str, body: dict[str, Any]) -> Answer:
        reading = self._clock.advance(sandbox, float(body["seconds"]))
        self._clock_moved(sandbox)  # what fell due on the way happens now, not at the next poll
        return json_answer(_clock_body(sandbox, reading))

    async def list_requests(
        self,
        sandbox: str,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        failed: bool | None = None,
        limit: int = 100,
    ) -> Answer:
        found = self._journal.entries(sandbox, method=method, path=path, status=status, failed=failed, limit=limit)
        return json_answer(found)

    async def get_faults(self, sandbox: str) -> Answer:
        return json_answer({"rules": self._faults.get(sandbox)})

    async def set_faults(self, sandbox: str, body: dict[str, Any]) -> Answer:
        return json_answer({"rules": self._faults.set(sandbox, body["rules"])})

    async def list_deliveries(self, sandbox: str) -> Answer:
        return json_answer(self._store.outbox.journal(sandbox))

    async def redeliver_dead(self, sandbox: str) -> Answer:
        count = self._store.outbox.redeliver_dead(sandbox, time.time())  # the store wakes the delivery workers
        return json_answer({"sandbox": sandbox, "redelivered": count})


def _clock_body(sandbox: str, reading: ClockReading) -> dict[str, Any]:
    return {"sandbox": sandbox, "now": isoformat_utc(reading.now), "frozen": reading.frozen}
