"""The one door a flow has to state: `store.unit_of_work(sandbox)` (reads, writes, counters, publish, in one
transaction of one sandbox) and `store.view(sandbox)` (reads outside a transaction, for what a GET shows; it cannot
write). Cross-sandbox calls (reset, locate, the outbox, the journals) stay on the store, for the admin API, the
delivery worker and the HTTP layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from pruefstand.mock_server.store.protocol import Document, OutboundMessage, Reader, UnitOfWork, Where


class SandboxView:
    """Reads of one sandbox."""

    def __init__(self, reader: Reader, sandbox: str) -> None:
        self._reader = reader
        self.sandbox = sandbox

    def get(self, kind: str, key: str) -> Document | None:
        return self._reader.get(self.sandbox, kind, key)

    def find(
        self,
        kind: str,
        where: Where | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        descending: bool = False,
    ) -> list[Document]:
        return self._reader.find(self.sandbox, kind, where, limit=limit, offset=offset, descending=descending)

    def count(self, kind: str, where: Where | None = None) -> int:
        return self._reader.count(self.sandbox, kind, where)


class SandboxUnit(SandboxView):
    """One transaction's work in one sandbox: all of it happens, or none."""

    def __init__(self, uow: UnitOfWork, sandbox: str) -> None:
        super().__init__(uow, sandbox)
        self._uow = uow

    def insert(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Add a record; RecordExists if the key is taken (the transaction stays usable)."""
        self._uow.insert(self.sandbox, kind, key, doc)

    def put(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        self._uow.put(self.sandbox, kind, key, doc)

    def put_many(self, kind: str, items: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        self._uow.put_many(self.sandbox, kind, items)

    def delete(self, kind: str, key: str) -> bool:
        return self._uow.delete(self.sandbox, kind, key)

    def next_counter(self, name: str) -> int:
        return self._uow.next_counter(self.sandbox, name)

    def take_counters(self, name: str, count: int) -> range:
        return self._uow.take_counters(self.sandbox, name, count)

    def savepoint(self) -> AbstractContextManager[None]:
        return self._uow.savepoint()

    def publish(self, message: OutboundMessage) -> None:
        """An outbound message, written to the outbox with this transaction's changes."""
        self._uow.publish(self.sandbox, message)
