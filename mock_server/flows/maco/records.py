"""The documents the MaCo flow stores and reads fields from, typed (the store keeps JSON documents; these say which
fields a flow relies on). Read back with the `read_*` helpers, which type what the store returns."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict, cast

from pruefstand.mock_server.store import SandboxView

PROCESS_KIND = "maco.process"
TRIGGER_KIND = "maco.trigger"  # idempotency records of processes stored before they kept their payload's digest
TOKEN_KIND = "maco.token"
BACKEND_KIND = "maco.backend"


class HistoryEntry(TypedDict):
    status: str
    at: str


class ProcessRecord(TypedDict):
    """A process started by a trigger (the admin API's MacoProcess schema)."""

    businessKey: str
    prozessId: str
    eventname: str
    pruefidentifikator: str | None
    status: str
    sender: str
    receiver: str
    lokationsId: NotRequired[str]
    receivedAt: str
    updatedAt: str
    payload: dict[str, Any]
    history: list[HistoryEntry]
    payloadDigest: NotRequired[str]  # processes stored before it was kept lack it (their TRIGGER_KIND record decides)
    message: NotRequired[dict[str, str]]  # the market message's numbers, once sent


class TriggerRecord(TypedDict):
    digest: str
    response: dict[str, Any]


class TokenRecord(TypedDict):
    """A bearer token, stored under the SHA-256 of the token (never the token itself)."""

    expires_at: float
    username: str
    client_id: str


class BackendRecord(TypedDict):
    url: str
    token: str


def read_process(view: SandboxView, business_key: str) -> ProcessRecord | None:
    return cast(ProcessRecord | None, view.get(PROCESS_KIND, business_key))


def read_processes(view: SandboxView, where: dict[str, Any]) -> list[ProcessRecord]:
    return cast(list[ProcessRecord], view.find(PROCESS_KIND, where))


def read_trigger(view: SandboxView, key: str) -> TriggerRecord | None:
    return cast(TriggerRecord | None, view.get(TRIGGER_KIND, key))


def read_backend(view: SandboxView) -> BackendRecord | None:
    return cast(BackendRecord | None, view.get(BACKEND_KIND, "backend"))
