"""The shared store for many replicas: PostgreSQL through psycopg 3 and its connection pool.

Every replica (`pruefstand serve --db postgresql://…`) works on the same tables. A unit of work takes a transaction-
scoped advisory lock per sandbox it touches, so read-modify-writes of one sandbox (an idempotency check and its
insert, an order's state change, a receipt's counters) never interleave across replicas, while different sandboxes
run in parallel. Counters are rows updated in the same transaction: gap-free. Delivery workers of all replicas claim
outbox rows with `FOR UPDATE SKIP LOCKED`, only the head of each stream, so per-stream order holds. A transaction
that makes deliveries due sends a NOTIFY with its commit; each replica LISTENs on a connection of its own and wakes
its delivery worker (instead of polling the claim), ignoring its own notifications (it wakes itself directly).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
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
CHANNEL = "pruefstand_outbox"  # NOTIFY: deliveries became due (the payload names the replica that committed)
REMOTE_WAKE = 0.1  # seconds: another replica's notifications wake this one's worker at most this often


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
        self._replica = uuid.uuid4().hex
        super().__init__(dataclasses.replace(_DIALECT, notify=self._notify), wall_clock)
        self.url = url
        self._closing = threading.Event()
        self._listening: threading.Thread | None = None
        self.listening = threading.Event()  # set once this replica LISTENs (tests wait on it)
        try:  # one direct connection first: a wrong URL fails at once, in one line, not after the pool's retries
            psycopg.connect(url, connect_timeout=max(1, int(connect_timeout))).close()
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreUnavailable(f"--db {redacted(url)}: PostgreSQL cannot be reached: {reason}") from exc
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=connect_timeout,
            name="pruefstand",
        )
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

    def _notify(self, conn: Connection) -> None:
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self._replica))

    def on_publish(self, callback: Callable[[], None]) -> None:
        """`callback` also runs when another replica commits deliveries that are due (its NOTIFY)."""
        super().on_publish(callback)
        if self._listening is None:
            self._listening = threading.Thread(target=self._listen, name="pruefstand-outbox-listen", daemon=True)
            self._listening.start()

    def _listen(self) -> None:
        """Wake this replica's worker on another replica's notification, at most every REMOTE_WAKE seconds: under a
        burst every commit notifies, and each wake costs a claim (the replica that committed wakes itself at once;
        a busy stream's next message is claimed by whoever delivered its last)."""
        again = False
        while not self._closing.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if again:  # listening again: what was committed meanwhile is looked at now
                        self._published()
                    again = True
                    self._relay(conn)
            except psycopg.Error:  # the server went away: the worker still polls; listen again once it is back
                self._closing.wait(1.0)

    def _relay(self, conn: psycopg.Connection[Any]) -> None:
        woken, waiting = 0.0, False
        while not self._closing.is_set():
            for note in conn.notifies(timeout=REMOTE_WAKE if waiting else 1.0):
                waiting = waiting or note.payload != self._replica
                if waiting and time.monotonic() - woken >= REMOTE_WAKE:
                    break
            if waiting and time.monotonic() - woken >= REMOTE_WAKE:
                woken, waiting = time.monotonic(), False
                self._published()

    def close(self) -> None:
        self._closing.set()
        if self._listening is not None:
            self._listening.join(timeout=5)
        self._pool.close()


def redacted(url: str) -> str:
    """The URL without its password, for messages and the start banner."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
