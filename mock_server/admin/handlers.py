"""Handlers of the admin API, bound by operationId."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from mock_server.clock import Clock, ClockReading, isoformat_utc
from mock_server.errors import NotFound, Unauthenticated
from mock_server.flows.maco.callbacks import Backend, BackendCallbacks
from mock_server.flows.maco.service import TriggerService
from mock_server.store import Store

Answer = tuple[Any, int, dict[str, str]]


def _json(body: Any, status: int = 200) -> Answer:
    """Admin operations document problem+json beside JSON, so every answer names its content type."""
    return body, status, {"Content-Type": "application/json"}


class AdminHandlers:
    def __init__(
        self, store: Store, clock: Clock, triggers: TriggerService, callbacks: BackendCallbacks, admin_token: str
    ) -> None:
        self._store = store
        self._clock = clock
        self._triggers = triggers
        self._callbacks = callbacks
        self._token = admin_token

    def operations(self) -> dict[str, Any]:
        return {
            "reset_sandbox": self.reset_sandbox,
            "get_clock": self.get_clock,
            "set_clock": self.set_clock,
            "advance_clock": self.advance_clock,
            "list_maco_processes": self.list_maco_processes,
            "get_maco_process": self.get_maco_process,
            "list_deliveries": self.list_deliveries,
            "get_maco_backend": self.get_maco_backend,
            "set_maco_backend": self.set_maco_backend,
        }

    def verify_bearer(self, token: str, _request: object = None) -> dict[str, str]:
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            raise Unauthenticated("admin token is not valid")
        return {"sub": "admin"}

    async def reset_sandbox(self, sandbox: str) -> Answer:
        return _json({"sandbox": sandbox, "removed": self._store.reset_sandbox(sandbox)})

    async def get_clock(self, sandbox: str) -> Answer:
        return _json(_clock_body(sandbox, self._clock.reading(sandbox)))

    async def set_clock(self, sandbox: str, body: dict[str, Any]) -> Answer:
        now = datetime.fromisoformat(body["now"].replace("Z", "+00:00")) if "now" in body else None
        return _json(_clock_body(sandbox, self._clock.set(sandbox, now=now, frozen=bool(body["frozen"]))))

    async def advance_clock(self, sandbox: str, body: dict[str, Any]) -> Answer:
        return _json(_clock_body(sandbox, self._clock.advance(sandbox, float(body["seconds"]))))

    async def list_maco_processes(
        self,
        sandbox: str,
        prozess_id: str | None = None,
        eventname: str | None = None,
    ) -> Answer:
        return _json(self._triggers.processes(sandbox, prozess_id=prozess_id, eventname=eventname))

    async def get_maco_process(self, sandbox: str, business_key: str) -> Answer:
        return _json(self._triggers.process(sandbox, business_key))

    async def list_deliveries(self, sandbox: str) -> Answer:
        return _json(self._store.deliveries(sandbox))

    async def get_maco_backend(self, sandbox: str) -> Answer:
        backend = self._callbacks.backend(sandbox)
        if backend is None:
            raise NotFound(f"sandbox {sandbox!r} has no MaCo backend; PUT one to receive callbacks")
        return _json({"url": backend.url, "hasToken": bool(backend.token)})

    async def set_maco_backend(self, sandbox: str, body: dict[str, Any]) -> Answer:
        self._callbacks.set_backend(sandbox, Backend(url=body["url"], token=body.get("token", "")))
        return _json({"url": body["url"], "hasToken": bool(body.get("token"))})


def _clock_body(sandbox: str, reading: ClockReading) -> dict[str, Any]:
    return {"sandbox": sandbox, "now": isoformat_utc(reading.now), "frozen": reading.frozen}
