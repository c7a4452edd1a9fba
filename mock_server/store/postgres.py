"""The shared store for many replicas: PostgreSQL through psycopg 3 and its connection pool.

Every replica (`pruefstand serve --db postgresql://…`) works on the same tables. A unit of work takes a transaction-
scoped advisory lock per sandbox it touches, so read-modify-writes of one sandbox (an idempotency check and its
insert, an order's state change, a receipt's counters) never interleave across replicas, while different sandboxes
run in parallel. Counters are rows updated in the same transaction: gap-free. Delivery workers of all replicas claim
outbox rows with `FOR UPDATE SKIP LOCKED`, only the head of each stream, so per-stream order holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from mock_server.store.indexing import Index, by_kind, signature
from mock_server.store.migrations import migrations
from mock_server.store.protocol import Document, OutboundMessage, StoreUnavailable, Where
from mock_server.store.sql import (
    Connection,
    Dialect,
    SqlOutbox,
    SqlUnitOfWork,
    read_count,
    read_many,
    read_one,
    reindex,
    reset_rows,
    sandboxes_with,
)

_MIGRATION_LOCK = 7_305_001  # any constant: replicas starting together migrate one after the other


def _lock_sandbox(conn: Connection, sandbox: str) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (sandbox,))


_DIALECT = Dialect(
    name="postgresql", param="%s", lock_sandbox=_lock_sandbox, skip_locked=" FOR UPDATE OF o SKIP LOCKED"
)


class _Publishing(SqlUnitOfWork):
    def __init__(self, conn: Connection, indexes: dict[str, dict[str, Index]], now: Callable[[], float]) -> None:
        super().__init__(conn, _DIALECT, indexes)
        self._now = now

    def publish(self, sandbox: str, message: OutboundMessage) -> None:
        self.publish_at(sandbox, message, self._now())


class PostgresStore:
    def __init__(
        self,
        url: str,
        *,
        indexes: list[Index] | None = None,
        wall_clock: Callable[[], float] = time.time,
        pool_size: int = 8,
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self._wall_clock = wall_clock
        self._indexes: dict[str, dict[str, Index]] = {}
        self._listeners: list[Callable[[], None]] = []
        try:  # one direct connection first: a wrong URL fails at once, in one line, not after the pool's retries
            psycopg.connect(url, connect_timeout=max(1, int(connect_timeout))).close()
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreUnavailable(f"--db {redacted(url)}: PostgreSQL cannot be reached: {reason}") from exc
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, timeout=connect_timeout, name="pruefstand")
        self._migrate()
        self.outbox = SqlOutbox(_DIALECT, self._write, self._read)
        if indexes:
            self.declare_indexes(indexes)

    def _migrate(self) -> None:
        with self._pool.connection() as conn:
            conn.autocommit = True
            conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
                done = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
                for migration in migrations("postgresql"):
                    if migration.version in done:
                        continue
                    with conn.transaction():
                        for statement in migration.statements:
                            conn.execute(statement)
                        conn.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                            (migration.version, migration.name),
                        )
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
                conn.autocommit = False

    def declare_indexes(self, indexes: list[Index]) -> None:
        grouped = by_kind(indexes)
        with self._write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            reindex(conn, _DIALECT, grouped, {kind: signature(fields) for kind, fields in grouped.items()})
        self._indexes = {**self._indexes, **grouped}

    def on_publish(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    @contextmanager
    def transaction(self) -> Iterator[_Publishing]:
        with self._write() as conn:
            uow = _Publishing(conn, self._indexes, self._wall_clock)
            yield uow
        if uow.published:
            for listener in self._listeners:
                listener()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._pool.connection() as conn:
            yield conn

    def get(self, sandbox: str, kind: str, key: str) -> Document | None:
        with self._read() as conn:
            return read_one(conn, _DIALECT, sandbox, kind, key)

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
            return read_many(conn, _DIALECT, self._indexes, sandbox, kind, where, limit, offset, descending)

    def count(self, sandbox: str, kind: str, where: Where | None = None) -> int:
        with self._read() as conn:
            return read_count(conn, _DIALECT, self._indexes, sandbox, kind, where)

    def locate(self, kind: str, key: str) -> tuple[str, Document] | None:
        with self._read() as conn:
            row = conn.execute("SELECT sandbox, doc FROM records WHERE kind = %s AND key = %s LIMIT 1", (kind, key))
            found = row.fetchone()
        if found is None:
            return None
        return str(found[0]), dict(json.loads(found[1]))

    def sandboxes_with(self, kind: str, field: str, value: str) -> list[str]:
        with self._read() as conn:
            return sandboxes_with(conn, _DIALECT, kind, field, value)

    def reset_sandbox(self, sandbox: str) -> int:
        with self._write() as conn:
            _lock_sandbox(conn, sandbox)
            return reset_rows(conn, _DIALECT, sandbox)

    def close(self) -> None:
        self._pool.close()


def redacted(url: str) -> str:
    """The URL without its password, for messages and the start banner."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
