"""Calls from the MACO APP into the customer's backend ("Rückkanäle"), written to the outbox with the process change.

After a trigger the app builds and sends the market message and then "continues the Vorgang" by calling the
backend's `updateProcessData` with the message data (domain/maco.md §3.5 step 3). The body is checked against the
backend contract (`specs/maco/backend.yaml`) before it is queued: the mock never sends what its contract forbids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pruefstand.contracts import SchemaValidator, Spec, Violation
from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.flows.maco.records import BACKEND_KIND, BackendRecord, ProcessRecord, read_backend
from pruefstand.mock_server.kernel.errors import BadRequest, MockError
from pruefstand.mock_server.store import FlowStore, OutboundMessage, SandboxUnit, SandboxView

UPDATE_COMMAND = "AKTUALISIEREN_PROZESSDATEN"


class CallbackContractError(MockError):
    """A callback the mock built breaks the backend contract: a defect of the mock, never sent."""


@dataclass(frozen=True, slots=True)
class Backend:
    url: str
    token: str


def message_numbers(sequence: int) -> dict[str, str]:
    """The numbers of the outgoing market message, from one per-sandbox counter (never reused)."""
    return {
        "dokumentennummer": f"PSD{sequence:012d}",
        "nachrichtenreferenznummer": f"PSN{sequence:011d}",
        "datenaustauschreferenz": f"PSX{sequence:011d}",
        "vorgangsnummer": f"PSV{sequence:012d}",
    }


def update_process_data(process: ProcessRecord, numbers: Mapping[str, str], sent_at: str) -> dict[str, Any]:
    """The `updateProcessData` body after the message went out: the trigger's data, the message's numbers and date,
    the derived Prüfidentifikator, and the keys the backend correlates by."""
    payload = process["payload"]
    transaktionsdaten = {
        **payload.get("transaktionsdaten", {}),
        **numbers,
        "nachrichtendatum": sent_at,
        "pruefidentifikator": process["pruefidentifikator"],
    }
    if process["pruefidentifikator"] == "25001":
        transaktionsdaten["kategorie"] = "Z36"
    return {
        "stammdaten": payload.get("stammdaten", {}),
        "transaktionsdaten": transaktionsdaten,
        "zusatzdaten": {
            "businessKey": process["businessKey"],
            "targetBusinessKey": process["businessKey"],
            "prozessId": process["prozessId"],
        },
    }


class BackendCallbacks:
    def __init__(
        self, store: FlowStore, backend_spec: Spec, default: Backend | None, targets: TargetPolicy | None = None
    ) -> None:
        self._store = store
        self._targets = targets or TargetPolicy()
        self._default = default
        schema = backend_spec.operation("updateProcessData")["requestBody"]["content"]["application/json"]["schema"]
        self._validator = SchemaValidator(schema)

    def backend(self, sandbox: str, view: SandboxView | None = None) -> Backend | None:
        """The sandbox's backend (admin API), else the configured default, else none (no callbacks); read in the
        caller's unit of work when it gives one."""
        record = read_backend(view or self._store.view(sandbox))
        if record is not None:
            return Backend(url=record["url"], token=record.get("token", ""))
        return self._default

    def set_backend(self, sandbox: str, backend: Backend) -> None:
        """A sandbox's backend; a URL the mock may not send to is refused here (400), not first at delivery."""
        refusal = self._targets.refusal(backend.url)
        if refusal is not None:
            raise BadRequest([Violation("$.url", refusal)])
        with self._store.unit_of_work(sandbox) as uow:
            record: BackendRecord = {"url": backend.url, "token": backend.token}
            uow.put(BACKEND_KIND, "backend", record)

    def enqueue_update(self, uow: SandboxUnit, backend: Backend, body: Mapping[str, Any]) -> None:
        violations = self._validator.violations(body)
        if violations:
            raise CallbackContractError("; ".join(str(v) for v in violations))
        headers = {"Authorization": f"Bearer {backend.token}"} if backend.token else {}
        target = f"{backend.url.rstrip('/')}/updateProcessData?command={UPDATE_COMMAND}"
        uow.publish(OutboundMessage("maco.backend", "updateProcessData", target, body, headers))
