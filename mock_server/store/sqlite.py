"""The embedded default store: one SQLite file (WAL), or `:memory:` for tests. Nothing to install; one machine."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mock_server.store.indexing import Index, by_kind, signature
from mock_server.store.migrations import migrations
from mock_server.store.protocol import Document, OutboundMessage, Where
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

_DIALECT = Dialect(name="sqlite", param="?", lock_sandbox=lambda _conn, _sandbox: None)


class _Publishing(SqlUnitOfWork):
    def __init__(self, conn: Connection, indexes: dict[str, dict[str, Index]], now: Callable[[], float]) -> None:
        super().__init__(conn, _DIALECT, indexes)
        self._now = now

    def publish(self, sandbox: str, message: OutboundMessage) -> None:
        self.publish_at(sandbox, message, self._now())


class SQLiteStore:
    """Store on one SQLite connection. Calls are short and serialised by a lock, so it is safe from the event loop
    and from worker threads. Several processes share the file: readers never wait (WAL); writers queue on an
    advisory file lock beside the database, which wakes the next writer as soon as the current one commits (SQLite's
    own busy handler would sleep in steps of milliseconds). The file and its siblings are created 0600: they hold
    the signing key and backend tokens."""

    def __init__(
        self, path: str | Path, *, indexes: list[Index] | None = None, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._wall_clock = wall_clock
        self._indexes: dict[str, dict[str, Index]] = {}
        self._listeners: list[Callable[[], None]] = []
        memory = self.path == ":memory:"
        if not memory:
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self._writer_lock_fd = None if memory else os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        if not memory:
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()
        self.outbox = SqlOutbox(_DIALECT, self._write, self._read)
        if indexes:
            self.declare_indexes(indexes)

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
            done = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
            for migration in migrations("sqlite"):
                if migration.version in done:
                    continue
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (migration.version, migration.name)
                )
            columns = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
            if "retries_from" not in columns:  # a state file from before redelivery existed
                conn.execute("ALTER TABLE outbox ADD COLUMN retries_from INTEGER NOT NULL DEFAULT 0")

    def declare_indexes(self, indexes: list[Index]) -> None:
        grouped = by_kind(indexes)
        with self._write() as conn:
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
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._writer_turn():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        if self._writer_lock_fd is None:
            yield
            return
        fcntl.flock(self._writer_lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_UN)

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
            row = conn.execute("SELECT sandbox, doc FROM records WHERE kind = ? AND key = ? LIMIT 1", (kind, key))
            found = row.fetchone()
        return (str(found[0]), dict(json.loads(found[1]))) if found else None

    def sandboxes_with(self, kind: str, field: str, value: str) -> list[str]:
        with self._read() as conn:
            return sandboxes_with(conn, _DIALECT, kind, field, value)

    def reset_sandbox(self, sandbox: str) -> int:
        with self._write() as conn:
            return reset_rows(conn, _DIALECT, sandbox)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._writer_lock_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._writer_lock_fd)
                self._writer_lock_fd = None
