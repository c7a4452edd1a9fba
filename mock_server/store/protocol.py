"""What the flows may ask of a store. Records are JSON documents addressed by (sandbox, kind, key).

No SQL leaks out of here: a second backend (Redis, for many replicas) implements the same protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from mock_server.errors import MockError

Document = dict[str, Any]


class RecordExists(MockError):
    """An insert met a record with the same (sandbox, kind, key)."""


class UnitOfWork(Protocol):
    """Reads and writes inside one transaction: all of them happen, or none."""

    def get(self, sandbox: str, kind: str, key: str) -> Document | None: ...

    def insert(self, sandbox: str, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Add a record; raise RecordExists if the key is taken."""

    def put(self, sandbox: str, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Add or replace a record."""

    def next_counter(self, sandbox: str, name: str) -> int:
        """1, 2, 3 … per (sandbox, name); never repeats, also across restarts."""

    def enqueue_delivery(
        self,
        sandbox: str,
        stream: str,
        kind: str,
        target: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        now: float,
    ) -> int:
        """Put an outbound message in the outbox, in the same transaction as the change it reports."""


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work; committed when the block ends normally, rolled back on an exception."""

    def get(self, sandbox: str, kind: str, key: str) -> Document | None: ...

    def locate(self, kind: str, key: str) -> tuple[str, Document] | None:
        """The record of this kind and key in whichever sandbox holds it (keys that are unique across sandboxes)."""

    def find(self, sandbox: str, kind: str, where: Mapping[str, str] | None = None) -> list[Document]:
        """Records of a kind whose top-level fields equal `where`, oldest first."""

    def claim_due_deliveries(self, now: float, owner: str, lease_seconds: float, limit: int) -> list[Document]:
        """Claim due deliveries that are first in their stream (per-stream order), for `lease_seconds`."""

    def finish_attempt(
        self, delivery_id: int, owner: str, attempt: Mapping[str, Any], status: str, next_attempt_at: float
    ) -> bool:
        """Record an attempt and the new status; False when the lease was lost meanwhile."""

    def deliveries(self, sandbox: str) -> list[Document]:
        """The delivery journal of a sandbox, with every attempt."""

    def redeliver_dead(self, sandbox: str, now: float) -> int:
        """Make a sandbox's dead deliveries due again, each with a fresh round of attempts; return how many."""

    def reset_sandbox(self, sandbox: str) -> int:
        """Delete every record of one sandbox (counters stay, so no number is reused); return how many went."""

    def close(self) -> None: ...
