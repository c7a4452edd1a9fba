"""What the flows may ask of state. Records are JSON documents addressed by (sandbox, kind, key).

Flows touch state through one door per sandbox: `unit_of_work(sandbox)` (one transaction: everything in it happens,
or nothing) and `view(sandbox)` (reads outside a transaction); the store-wide calls are for the admin API, the
delivery worker and the HTTP layer. Outbound messages are published in the unit of work and written to the outbox
at commit; the delivery worker reads the outbox through its own port. No SQL leaks out of the store package: the
SQLite and PostgreSQL backends implement the same protocols and pass the same contract tests (tests/store/).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.store.indexing import Condition, Index

if TYPE_CHECKING:
    from pruefstand.mock_server.store.sandbox_unit import SandboxUnit, SandboxView

Document = dict[str, Any]
Where = Mapping[str, Condition]


class StoreUnavailable(MockError):
    """The state cannot be opened: a missing folder, no permission, a database that cannot be reached."""


class RecordExists(MockError):
    """An insert met a record with the same (sandbox, kind, key)."""


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message for the outbox: delivered in order with the others of its (sandbox, stream)."""

    stream: str
    kind: str
    target: str
    payload: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


class Reader(Protocol):
    """Reads, inside a unit of work or on their own."""

    def get(self, sandbox: str, kind: str, key: str) -> Document | None: ...

    def find(
        self,
        sandbox: str,
        kind: str,
        where: Where | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        descending: bool = False,
    ) -> list[Document]:
        """Records of a kind, oldest first (newest first with `descending`). `where` names indexed fields (see
        `Index`: equality, any of several values, or a `Range`) or top-level fields (equality with the stored
        value); several conditions all hold."""

    def count(self, sandbox: str, kind: str, where: Where | None = None) -> int: ...


class UnitOfWork(Reader, Protocol):
    """Reads and writes inside one transaction: all of them happen, or none."""

    def insert(self, sandbox: str, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Add a record; raise RecordExists if the key is taken (the transaction stays usable)."""

    def put(self, sandbox: str, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Add or replace a record."""

    def put_many(self, sandbox: str, kind: str, items: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Add or replace several records of one kind at once (a key given twice: the last document)."""

    def delete(self, sandbox: str, kind: str, key: str) -> bool:
        """Remove a record; whether there was one."""

    def next_counter(self, sandbox: str, name: str) -> int:
        """1, 2, 3 … per (sandbox, name); never repeats and never skips, also across restarts and replicas."""

    def take_counters(self, sandbox: str, name: str, count: int) -> range:
        """The next `count` values of the counter at once (as `count` calls of next_counter would give them)."""

    def savepoint(self) -> AbstractContextManager[None]:
        """A part of the unit of work undone alone when its block raises (the rest goes on and commits)."""

    def publish(self, sandbox: str, message: OutboundMessage) -> None:
        """Put an outbound message in the outbox, in the same transaction as the change it reports; the delivery
        worker is woken once the transaction has committed."""


class Outbox(Protocol):
    """The delivery worker's side of the outbox: claim what is due, record attempts; and the journal."""

    def claim_due(self, now: float, owner: str, lease_seconds: float, limit: int) -> list[Document]:
        """Claim due deliveries that are first in their stream (per-stream order), for `lease_seconds`: nothing
        earlier in the same stream is pending, being sent, or dead. Several workers (processes, replicas) may
        claim at once; each delivery goes to one of them."""

    def finish_attempt(
        self, delivery_id: int, owner: str, attempt: Mapping[str, Any], status: str, next_attempt_at: float
    ) -> bool:
        """Record an attempt and the new status; False when the lease was lost meanwhile."""

    def finish_and_claim_next(
        self, delivery: Mapping[str, Any], owner: str, attempt: Mapping[str, Any], now: float, lease_seconds: float
    ) -> tuple[bool, Document | None]:
        """Record a successful attempt and claim the next message of its stream if it is due, in one transaction;
        (False, None) when the lease was lost meanwhile."""

    def next_due(self, after: float) -> float | None:
        """The earliest time after `after` at which a pending retry or a lapsing lease makes a delivery due (None:
        none); what a claim at `after` left waits behind its stream's head, whose move wakes the worker."""

    def journal(self, sandbox: str) -> list[Document]:
        """The delivery journal of a sandbox, with every attempt."""

    def redeliver_dead(self, sandbox: str, now: float) -> int:
        """Make a sandbox's dead deliveries due again, each with a fresh round of attempts; return how many."""


class FlowStore(Protocol):
    """What a flow gets of the store (MountContext.store): one door per sandbox, and the lookups of kinds it declared
    as found across sandboxes. No transaction over any sandboxes, no reset, no outbox: those are the store's own."""

    def unit_of_work(self, sandbox: str) -> AbstractContextManager[SandboxUnit]:
        """One sandbox's unit of work; committed when the block ends normally, rolled back on an exception."""

    def view(self, sandbox: str) -> SandboxView:
        """One sandbox's reads outside a transaction (what a GET shows)."""

    def locate(self, kind: str, key: str) -> tuple[str, Document] | None:
        """The record of this kind and key in whichever sandbox holds it (keys that are unique across sandboxes)."""

    def sandboxes_with(self, kind: str, field: str, value: str) -> list[str]:
        """The sandboxes that hold a record of `kind` whose indexed `field` has `value`."""


class Store(FlowStore, Reader, Protocol):
    """The whole store: the flows' door, and the store-wide side for the app, the admin API, the delivery worker and
    the HTTP layer (transactions over any sandboxes, reset, outbox, declarations)."""

    @property
    def outbox(self) -> Outbox: ...

    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work over any sandboxes (the admin API, group commit); flows use `unit_of_work(sandbox)`."""

    @property
    def groups_commits(self) -> bool:
        """Whether writers of unrelated units of work gain from sharing one transaction (one writer at a time
        anyway: SQLite); PostgreSQL replicas lock per sandbox and keep them apart."""

    def declare_indexes(self, indexes: list[Index]) -> None:
        """The fields `find` looks up in the index table, per kind (each flow declares its kinds' indexes when
        it is built); records of a kind whose index changed are indexed again."""

    def declare_across(self, kinds: Sequence[str]) -> None:
        """Kinds that `locate` and `sandboxes_with` look up without naming a sandbox (bearer tokens, automatic
        plans): indexed for it (SQLite: partial indexes for just these kinds; other kinds stay unindexed there)."""

    def declare_cached(self, kinds: Sequence[str]) -> None:
        """Kinds read by nearly every request and written rarely (a sandbox's clock, bearer tokens): where the
        backend's processes share a machine, reads of them are answered from memory while no process has committed
        a change to any of them since (SQLite); elsewhere they are read through."""

    def on_publish(self, callback: Callable[[], None]) -> None:
        """Called after every commit that published a message (wakes the delivery worker)."""

    def sandboxes(self) -> dict[str, int]:
        """Every sandbox that holds records, with how many."""

    def reset_sandbox(self, sandbox: str) -> int:
        """Delete every record and delivery of one sandbox (counters stay, so no number is reused); return how
        many records went."""

    def close(self) -> None: ...
