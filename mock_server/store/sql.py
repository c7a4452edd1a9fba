"""What the SQLite and PostgreSQL backends share: the store base (schema, migrations, declared indexes, reads outside
a transaction, cross-sandbox lookups, reset). The unit of work (unit_of_work.py), the statements (queries.py), the
outbox (sql_outbox.py) and the dialect (dialect.py) are rooms of their own."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from pruefstand.mock_server.store.dialect import Connection, Dialect, loads, sql_literal
from pruefstand.mock_server.store.generation import RecordCache
from pruefstand.mock_server.store.indexing import Index, by_kind, signature
from pruefstand.mock_server.store.migrations import migrations
from pruefstand.mock_server.store.protocol import Document, Where
from pruefstand.mock_server.store.queries import (
    read_count,
    read_many,
    read_one,
    read_text,
    reindex,
)
from pruefstand.mock_server.store.sandbox_unit import SandboxUnit, SandboxView
from pruefstand.mock_server.store.sql_outbox import SqlOutbox
from pruefstand.mock_server.store.unit_of_work import SqlUnitOfWork

__all__ = ["Connection", "Dialect", "SqlStore", "sql_literal"]


class SqlStore(ABC):
    """What both backends do alike, over their own connections: `_write` (one transaction), `_read`, and
    `_lock_schema` (replicas migrating at once take turns). The backends add how they connect."""

    def __init__(self, dialect: Dialect, wall_clock: Callable[[], float]) -> None:
        self._d = dialect
        self._wall_clock = wall_clock
        self._indexes: dict[str, dict[str, Index]] = {}
        self._listeners: list[Callable[[], None]] = []
        self._cache = RecordCache(None)  # a backend whose processes share a machine gives it a generation
        self._across: set[str] = set()
        self.outbox = SqlOutbox(dialect, self._write, self._read, self._published)

    @abstractmethod
    def _write(self) -> AbstractContextManager[Any]:
        """A connection in one transaction: committed when the block ends, rolled back on an exception."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """A connection for reads outside any unit of work."""

    @abstractmethod
    def _lock_schema(self, conn: Connection) -> None:
        """Serialise schema changes across processes (inside a `_write` transaction)."""

    def _migrate(self) -> None:
        """Apply the engine's numbered migrations not yet applied, in one transaction with their records."""
        with self._write() as conn:
            self._lock_schema(conn)
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
            done = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
            for migration in migrations(self._d.name):
                if migration.version in done:
                    continue
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(
                    self._d.sql("INSERT INTO schema_migrations (version, name) VALUES (?, ?)"),
                    (migration.version, migration.name),
                )

    def declare_indexes(self, indexes: list[Index]) -> None:
        grouped = by_kind(indexes)
        with self._write() as conn:
            self._lock_schema(conn)
            reindex(conn, self._d, grouped, {kind: signature(fields) for kind, fields in grouped.items()})
        self._indexes = {**self._indexes, **grouped}

    groups_commits = False

    def declare_across(self, kinds: Sequence[str]) -> None:
        """Kinds that `locate` and `sandboxes_with` look up without a sandbox: the backend indexes them for it."""
        fresh = [k for k in kinds if k not in self._across]
        self._across |= set(fresh)
        if fresh:
            self._index_across(fresh)

    @abstractmethod
    def _index_across(self, kinds: Sequence[str]) -> None:
        """Index these kinds for lookups across sandboxes."""

    def _kind_is(self, kind: str, column: str = "kind") -> tuple[str, list[Any]]:
        """The condition on a record's kind, as the backend's indexes for `kind` need it written."""
        return self._d.kind_is(kind, column)

    def declare_cached(self, kinds: Sequence[str]) -> None:
        self._cache.kinds = self._cache.kinds | frozenset(kinds)

    def on_publish(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _published(self) -> None:
        """Deliveries became due in a transaction just committed here: this process's listeners look now."""
        for listener in self._listeners:
            listener()

    @contextmanager
    def transaction(self) -> Iterator[SqlUnitOfWork]:
        with self._write() as conn:
            uow = SqlUnitOfWork(conn, self._d, self._indexes, self._wall_clock, self._cache)
            yield uow
            if uow.published and self._d.notify is not None:  # the other processes learn of it with the commit
                self._d.notify(conn)
        if uow.published:  # after the commit, never for a rollback
            self._published()

    @contextmanager
    def unit_of_work(self, sandbox: str) -> Iterator[SandboxUnit]:
        with self.transaction() as uow:
            yield SandboxUnit(uow, sandbox)

    def view(self, sandbox: str) -> SandboxView:
        return SandboxView(self, sandbox)

    def get(self, sandbox: str, kind: str, key: str) -> Document | None:
        if self._cache.covers(kind):
            text = self._cache.read(("get", sandbox, kind, key), lambda: self._read_text(sandbox, kind, key))
            return None if text is None else loads(text)
        with self._read() as conn:
            return read_one(conn, self._d, sandbox, kind, key)

    def _read_text(self, sandbox: str, kind: str, key: str) -> Any:
        with self._read() as conn:
            return read_text(conn, self._d, sandbox, kind, key)

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
        with self._read() as conn:
            return read_many(conn, self._d, self._indexes, sandbox, kind, where, limit, offset, descending)

    def count(self, sandbox: str, kind: str, where: Where | None = None) -> int:
        with self._read() as conn:
            return read_count(conn, self._d, self._indexes, sandbox, kind, where)

    def locate(self, kind: str, key: str) -> tuple[str, Document] | None:
        if self._cache.covers(kind):  # what was not found is not kept: anyone may send any key
            found = self._cache.read(("locate", kind, key), lambda: self._locate_row(kind, key), keep_none=False)
        else:
            found = self._locate_row(kind, key)
        return (str(found[0]), loads(found[1])) if found else None

    def _locate_row(self, kind: str, key: str) -> tuple[Any, Any] | None:
        condition, params = self._kind_is(kind)
        with self._read() as conn:
            sql = self._d.sql(f"SELECT sandbox, doc FROM records WHERE {condition} AND key = ? LIMIT 1")
            found = conn.execute(sql, (*params, key)).fetchone()
        return (found[0], found[1]) if found else None

    def sandboxes_with(self, kind: str, field: str, value: str) -> list[str]:
        condition, params = self._kind_is(kind)
        with self._read() as conn:
            rows = conn.execute(
                self._d.sql(f"SELECT DISTINCT sandbox FROM record_index WHERE {condition} AND field = ? AND value = ?"),
                (*params, field, value),
            ).fetchall()
        return sorted(str(r[0]) for r in rows)

    def sandboxes(self) -> dict[str, int]:
        """Every sandbox that holds records, with how many ("_"-named internal ones left out)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT sandbox, SUM(n) FROM record_counts GROUP BY sandbox ORDER BY sandbox"
            ).fetchall()
        return {str(name): int(total) for name, total in rows if int(total) > 0 and not str(name).startswith("_")}

    def reset_sandbox(self, sandbox: str) -> int:
        """Delete one sandbox's records, index rows and deliveries (counters stay: no number is handed out twice)."""
        with self._write() as conn:
            self._d.lock_sandbox(conn, sandbox)
            self._cache.changed_everything()
            removed = conn.execute(self._d.sql("DELETE FROM records WHERE sandbox = ?"), (sandbox,)).rowcount
            for table in ("record_index", "record_counts"):
                conn.execute(self._d.sql(f"DELETE FROM {table} WHERE sandbox = ?"), (sandbox,))
            conn.execute(
                self._d.sql(
                    "DELETE FROM delivery_attempts WHERE outbox_id IN (SELECT id FROM outbox WHERE sandbox = ?)"
                ),
                (sandbox,),
            )
            conn.execute(self._d.sql("DELETE FROM outbox WHERE sandbox = ?"), (sandbox,))
        return int(removed)
