"""Handlers of the admin API, bound by operationId."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pruefstand.mock_server.clock import Clock, ClockReading, isoformat_utc
from pruefstand.mock_server.errors import NotFound, Unauthenticated
from pruefstand.mock_server.faults import FaultRules
from pruefstand.mock_server.flows.maco.callbacks import Backend, BackendCallbacks
from pruefstand.mock_server.flows.maco.service import TriggerService
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.journal import Journal
from pruefstand.mock_server.store import Store

Answer = tuple[Any, int, dict[str, str]]


def _json(body: Any, status: int = 200) -> Answer:
    """Admin operations document problem+json beside JSON, so every answer names its content type."""
    return body, status, {"Content-Type": "application/json"}


class AdminHandlers:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        triggers: TriggerService,
        callbacks: BackendCallbacks,
        admin_token: str,
        orders: OrderService,
        wake: Callable[[], None] = lambda: None,
        journal: Journal | None = None,
        faults: FaultRules | None = None,
    ) -> None:
        self._journal = journal or Journal(store, 0)
        self._faults = faults or FaultRules(store)
        self._orders = orders
        self._wake = wake
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
            "get_tmf622_profile": self.get_tmf622_profile,
            "set_tmf622_profile": self.set_tmf622_profile,
            "list_maco_processes": self.list_maco_processes,
            "get_maco_process": self.get_maco_process,
            "list_deliveries": self.list_deliveries,
            "list_requests": self.list_requests,
            "get_faults": self.get_faults,
            "set_faults": self.set_faults,
            "redeliver_dead": self.redeliver_dead,
            "get_maco_backend": self.get_maco_backend,
            "set_maco_backend": self.set_maco_backend,
            "get_tmf622_inventory": self.get_tmf622_inventory,
            "seed_tmf622_inventory": self.seed_tmf622_inventory,
            "create_tmf622_termination": self.create_tmf622_termination,
            "set_tmf622_state": self.set_tmf622_state,
            "add_tmf622_supplier_contact": self.add_tmf622_supplier_contact,
            "set_tmf622_termination_date": self.set_tmf622_termination_date,
            "run_tmf622_next_step": self.run_tmf622_next_step,
            "add_tmf622_milestone": self.add_tmf622_milestone,
            "require_tmf622_information": self.require_tmf622_information,
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
        reading = self._clock.advance(sandbox, float(body["seconds"]))
        self._orders.progress_due(sandbox)  # what fell due on the way happens now, not at the next poll
        return _json(_clock_body(sandbox, reading))

    async def list_maco_processes(
        self,
        sandbox: str,
        prozess_id: str | None = None,
        eventname: str | None = None,
    ) -> Answer:
        return _json(self._triggers.processes(sandbox, prozess_id=prozess_id, eventname=eventname))

    async def get_maco_process(self, sandbox: str, business_key: str) -> Answer:
        return _json(self._triggers.process(sandbox, business_key))

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
        return _json(found)

    async def get_faults(self, sandbox: str) -> Answer:
        return _json({"rules": self._faults.get(sandbox)})

    async def set_faults(self, sandbox: str, body: dict[str, Any]) -> Answer:
        return _json({"rules": self._faults.set(sandbox, body["rules"])})

    async def list_deliveries(self, sandbox: str) -> Answer:
        return _json(self._store.outbox.journal(sandbox))

    async def redeliver_dead(self, sandbox: str) -> Answer:
        count = self._store.outbox.redeliver_dead(sandbox, time.time())
        self._wake()
        return _json({"sandbox": sandbox, "redelivered": count})

    async def get_maco_backend(self, sandbox: str) -> Answer:
        backend = self._callbacks.backend(sandbox)
        if backend is None:
            raise NotFound(f"sandbox {sandbox!r} has no MaCo backend; PUT one to receive callbacks")
        return _json({"url": backend.url, "hasToken": bool(backend.token)})

    async def set_maco_backend(self, sandbox: str, body: dict[str, Any]) -> Answer:
        self._callbacks.set_backend(sandbox, Backend(url=body["url"], token=body.get("token", "")))
        return _json({"url": body["url"], "hasToken": bool(body.get("token"))})

    async def get_tmf622_profile(self, sandbox: str) -> Answer:
        chosen = self._orders.chosen_profile(self._store, sandbox) or "auto"
        return _json({"profile": chosen, "effective": self._orders.profile_for(self._store, sandbox).name})

    async def set_tmf622_profile(self, sandbox: str, body: dict[str, Any]) -> Answer:
        return _json(self._orders.choose_profile(sandbox, str(body["profile"])))

    async def get_tmf622_inventory(self, sandbox: str) -> Answer:
        return _json(self._orders.inventory.holding(sandbox))

    async def seed_tmf622_inventory(self, sandbox: str, body: dict[str, Any]) -> Answer:
        return _json(self._orders.inventory.seed(sandbox, body.get("agreements", []), body.get("products", [])))

    async def create_tmf622_termination(self, sandbox: str, body: dict[str, Any]) -> Answer:
        delay = body.get("stepDelaySeconds")
        order = self._orders.terminate_by_seller(
            sandbox,
            body["buyer"],
            body["productId"],
            requested=body["requestedCompletionDate"],
            external_id=body.get("externalId"),
            category=body.get("category", "terminationBySeller"),
            order_posted=body.get("orderPostedDate"),
            mode=body.get("progress", "manual"),
            delay=delay,
            expected_completion=body.get("expectedCompletionDate"),
            termination_date=body.get("terminationDate"),
        )
        return _json(order, 201)

    async def set_tmf622_state(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        changed = self._orders.change_state(
            sandbox, order_id, body["state"], body.get("reasonCode"), state_change_date=body.get("stateChangeDate")
        )
        return _json(changed)

    async def add_tmf622_supplier_contact(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        order = self._orders.add_supplier_contact(
            sandbox, order_id, body["expectedCompletionDate"], body.get("contact")
        )
        return _json(order)

    async def set_tmf622_termination_date(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        return _json(self._orders.set_termination_date(sandbox, order_id, body["terminationDate"]))

    async def add_tmf622_milestone(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        return _json(self._orders.add_milestone(sandbox, order_id, body["name"], body.get("message")))

    async def require_tmf622_information(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        return _json(self._orders.require_information(sandbox, order_id, body["fields"], body.get("reasonCode")))

    async def run_tmf622_next_step(self, sandbox: str, order_id: str, body: dict[str, Any] | None = None) -> Answer:
        return _json(self._orders.run_next(sandbox, order_id, (body or {}).get("stateChangeDate")))


def _clock_body(sandbox: str, reading: ClockReading) -> dict[str, Any]:
    return {"sandbox": sandbox, "now": isoformat_utc(reading.now), "frozen": reading.frozen}
