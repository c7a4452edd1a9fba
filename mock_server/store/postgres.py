"""The shared store for many replicas: PostgreSQL through psycopg 3 and its connection pool.

Every replica (`pruefstand serve --db postgresql://…`) works on the same tables. A unit of work takes a transaction-
scoped advisory lock per sandbox it touches, so read-modify-writes of one sandbox (an idempotency check and its
insert, an order's state change, a receipt's counters) never interleave across replicas, while different sandboxes
run in parallel. Counters are rows updated in the same transaction: gap-free. Delivery workers of all replicas claim
outbox rows with `FOR UPDATE SKIP LOCKED`, only the head of each stream, so per-stream order holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from pruefstand.mock_server.store.indexing import Index
from pruefstand.mock_server.store.protocol import StoreUnavailable
from pruefstand.mock_server.store.sql import Connection, Dialect, SqlStore

_SCHEMA_LOCK = 7_305_001  # any constant: replicas starting together migrate and re-index one after the other


def _lock_sandbox(conn: Connection, sandbox: str) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (sandbox,))


_DIALECT = Dialect(
    name="postgresql", param="%s", lock_sandbox=_lock_sandbox, skip_locked=" FOR UPDATE OF o SKIP LOCKED"
)


class PostgresStore(SqlStore):
    def __init__(
        self,
        url: str,
        *,
        indexes: list[Index] | None = None,
        wall_clock: Callable[[], float] = time.time,
        pool_size: int = 8,
        connect_timeout: float = 10.0,
    ) -> None:
        super().__init__(_DIALECT, wall_clock)
        self.url = url
        try:  # one direct connection first: a wrong URL fails at once, in one line, not after the pool's retries
            psycopg.connect(url, connect_timeout=max(1, int(connect_timeout))).close()
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreUnavailable(f"--db {redacted(url)}: PostgreSQL cannot be reached: {reason}") from exc
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, timeout=connect_timeout, name="pruefstand")
        self._migrate()
        if indexes:
            self.declare_indexes(indexes)

    def _index_across(self, kinds: Sequence[str]) -> None:
        """Nothing to add: the schema indexes every kind's records by (kind, key) and index rows by value."""

    def _lock_schema(self, conn: Connection) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._pool.connection() as conn:
            yield conn

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
