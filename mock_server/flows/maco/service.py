"""Use cases of the trigger API: start a process from a trigger, read processes back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from pruefstand.contracts import Violation
from pruefstand.mock_server.clock import Clock, isoformat_utc
from pruefstand.mock_server.flows.maco.callbacks import BackendCallbacks, message_numbers, update_process_data
from pruefstand.mock_server.flows.maco.events import MacoEvent
from pruefstand.mock_server.flows.maco.records import (
    PROCESS_KIND,
    ProcessRecord,
    read_process,
    read_processes,
    read_trigger,
)
from pruefstand.mock_server.flows.maco.trigger_rules import derive_pruefidentifikator, trigger_violations
from pruefstand.mock_server.kernel.errors import BadRequest, Conflict, NotFound
from pruefstand.mock_server.kernel.id_source import IdSource
from pruefstand.mock_server.store import FlowStore, Index, SandboxUnit, UnitOfWork

INDEXES = [Index(PROCESS_KIND, "prozessId", "prozessId"), Index(PROCESS_KIND, "eventname", "eventname")]
RECEIVED = "RECEIVED"
SENT = "SENT"


def payload_digest(body: Mapping[str, Any]) -> str:
    """Canonical JSON (sorted keys, no spaces) hashed: equal payloads, equal digests, whatever the key order. Written
    with orjson (a tenth of the time); what orjson does not write (an integer beyond 64 bits) as `stable_digest`."""
    try:
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return stable_digest(body)


def stable_digest(body: Mapping[str, Any]) -> str:
    """The digest with the standard library's JSON: the form of records written before `payload_digest` used orjson
    (compared when a digest differs), and the one in idempotency keys (`idempotency=payload`), which must not change."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def answer_of(process: ProcessRecord) -> dict[str, Any]:
    """The trigger's 201 answer, as it was given when the process started (and again for the same trigger)."""
    business_key = process["businessKey"]
    return {
        "businessKey": business_key,
        "message": f"received event {process['eventname']} with id {process['prozessId']} at {process['receivedAt']} "
        f"and started process with businessKey {business_key}",
    }


def idempotency_key(eventname: str, prozess_id: str, sender: str) -> str:
    return json.dumps([eventname, prozess_id, sender], separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class PreparedTrigger:
    """A trigger that passed the rule layers, ready to be applied in a unit of work."""

    sandbox: str
    body: Mapping[str, Any]
    event: MacoEvent
    prozess_id: str
    sender: str
    digest: str
    received: datetime  # the sandbox clock when the rules were checked: the process's receivedAt


class TriggerService:
    def __init__(
        self,
        store: FlowStore,
        clock: Clock,
        catalog: Mapping[str, MacoEvent],
        *,
        strict_check_digits: bool,
        conflict_on_reuse: bool = True,
        callbacks: BackendCallbacks | None = None,
        ids: IdSource | None = None,
    ) -> None:
        self._ids = ids or IdSource()
        self._store = store
        self._clock = clock
        self._catalog = catalog
        self._strict = strict_check_digits
        self._conflict_on_reuse = conflict_on_reuse
        self._callbacks = callbacks

    def start(self, sandbox: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Validate layers 3–5, then start the process (or replay the first answer for the same trigger)."""
        trigger = self.prepare(sandbox, body)
        with self._store.unit_of_work(sandbox) as uow:
            return self._apply(uow, trigger)

    def prepare(self, sandbox: str, body: Mapping[str, Any]) -> PreparedTrigger:
        """What needs no transaction: the rule layers (BadRequest), the clock, the payload's digest."""
        event = self._event(body)
        received = self._clock.now(sandbox)
        violations = trigger_violations(event, body, strict_check_digits=self._strict, now=received)
        if violations:
            raise BadRequest(violations)
        td, zd = body["transaktionsdaten"], body["zusatzdaten"]
        prozess_id, sender = str(zd["prozessId"]), str(td["absender"]["rollencodenummer"])
        return PreparedTrigger(sandbox, body, event, prozess_id, sender, payload_digest(body), received)

    def apply(self, uow: UnitOfWork, trigger: PreparedTrigger) -> dict[str, Any]:
        """The fast path's group commit hands in a unit of work that may span sandboxes: this trigger's part."""
        return self._apply(SandboxUnit(uow, trigger.sandbox), trigger)

    def _apply(self, uow: SandboxUnit, trigger: PreparedTrigger) -> dict[str, Any]:
        """In a unit of work: start the process, or replay the first answer (Conflict for another payload)."""
        sandbox, body, event = trigger.sandbox, trigger.body, trigger.event
        prozess_id, sender, digest = trigger.prozess_id, trigger.sender, trigger.digest
        td = body["transaktionsdaten"]
        earlier = self._earlier(uow, trigger)
        if earlier is not None:
            same, answer = earlier
            if same:
                return answer
            raise Conflict(
                f"conflict: prozessId {prozess_id!r} was already used for {event.name} by sender {sender} "
                f"with a different payload (businessKey {answer['businessKey']}); "
                "use a new prozessId for a new document"
            )
        now = isoformat_utc(trigger.received)
        business_key = self._ids.record_key()
        process: ProcessRecord = {
            "businessKey": business_key,
            "prozessId": prozess_id,
            "eventname": event.name,
            "pruefidentifikator": derive_pruefidentifikator(event, body),
            "status": RECEIVED,
            "sender": sender,
            "receiver": str(td["empfaenger"]["rollencodenummer"]),
            "receivedAt": now,
            "updatedAt": now,
            "payload": dict(body),
            "history": [{"status": RECEIVED, "at": now}],
            "payloadDigest": digest,
        }
        if isinstance(td.get("lokationsId"), str):
            process["lokationsId"] = td["lokationsId"]
        backend = self._callbacks.backend(sandbox, uow) if self._callbacks else None
        if backend is not None and self._callbacks is not None:
            # The market message goes out (simulated) and the backend is told, in this same transaction.
            numbers = message_numbers(uow.next_counter("maco.message"))
            process["status"], process["message"] = SENT, dict(numbers)
            process["history"].append({"status": SENT, "at": now})
            body = update_process_data(process, numbers, now)
            self._callbacks.enqueue_update(uow, backend, body)
        uow.insert(PROCESS_KIND, business_key, process)
        return answer_of(process)

    def _earlier(self, uow: SandboxUnit, trigger: PreparedTrigger) -> tuple[bool, dict[str, Any]] | None:
        """The trigger met before: whether its payload was the same, and its answer. The same event from the same
        sender under the same prozessId (with `idempotency=payload`, also the same payload); None for a new one.

        Found through the processes' prozessId index: the process keeps its payload's digest, so a trigger costs one
        record and its index rows, not a second record under a key as random as the prozessId (about a quarter of the
        log pages a trigger wrote). Processes written before they kept it are decided by their trigger record."""
        found = read_processes(uow, {"prozessId": trigger.prozess_id})
        met = [p for p in found if p.get("eventname") == trigger.event.name and p.get("sender") == trigger.sender]
        for process in met:
            if process.get("payloadDigest") == trigger.digest:
                return True, answer_of(process)
        if any("payloadDigest" not in p for p in met):  # stored before processes kept it: its record decides
            recorded = self._recorded(uow, trigger)
            if recorded is not None and (recorded[0] or self._conflict_on_reuse):
                return recorded
        if met and self._conflict_on_reuse:
            return False, answer_of(met[0])
        return None

    def _recorded(self, uow: SandboxUnit, trigger: PreparedTrigger) -> tuple[bool, dict[str, Any]] | None:
        """The idempotency record an earlier version wrote beside each process (its digest with the standard
        library's JSON before orjson wrote it)."""
        key = idempotency_key(trigger.event.name, trigger.prozess_id, trigger.sender)
        if not self._conflict_on_reuse:
            key += stable_digest(trigger.body)
        earlier = read_trigger(uow, key)
        if earlier is None:
            return None
        same = earlier["digest"] == trigger.digest or earlier["digest"] == stable_digest(trigger.body)
        return same, dict(earlier["response"])

    def process(self, sandbox: str, business_key: str) -> ProcessRecord:
        found = read_process(self._store.view(sandbox), business_key)
        if found is None:
            raise NotFound(f"no MaCo process with businessKey {business_key} in sandbox {sandbox!r}")
        return found

    def processes(self, sandbox: str, *, prozess_id: str | None, eventname: str | None) -> list[ProcessRecord]:
        where = {k: v for k, v in (("prozessId", prozess_id), ("eventname", eventname)) if v is not None}
        return read_processes(self._store.view(sandbox), where)

    def _event(self, body: Mapping[str, Any]) -> MacoEvent:
        name = body.get("zusatzdaten", {}).get("eventname")
        event = self._catalog.get(str(name))
        if event is None:  # the contract validator dispatches first; this guards direct callers
            raise BadRequest([Violation("$.zusatzdaten.eventname", f"unknown event {name!r}")])
        return event
