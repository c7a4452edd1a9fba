"""The embedded default store: one SQLite file (WAL), or `:memory:` for tests. Nothing to install; one machine."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pruefstand.mock_server.store.checkpoint import WalCheckpointer
from pruefstand.mock_server.store.generation import FileGeneration, LocalGeneration
from pruefstand.mock_server.store.indexing import Index
from pruefstand.mock_server.store.sql import Connection, Dialect, SqlStore, sql_literal

# one writer at a time anyway: no sandbox locks; kinds written as literals (see Dialect.kind_is)
_DIALECT = Dialect(name="sqlite", param="?", lock_sandbox=lambda _conn, _sandbox: None, literal_kinds=True)


class SQLiteStore(SqlStore):
    """Store on one SQLite connection. Calls are short and serialised by a lock, so it is safe from the event loop
    and from worker threads. Several processes share the file: readers never wait (WAL); writers queue on an
    advisory file lock beside the database, which wakes the next writer as soon as the current one commits (SQLite's
    own busy handler would sleep in steps of milliseconds). The file and its siblings are created 0600: they hold
    the signing key and backend tokens."""

    def __init__(
        self,
        path: str | Path,
        *,
        indexes: list[Index] | None = None,
        wall_clock: Callable[[], float] = time.time,
        checkpoint_beside: bool = True,
    ) -> None:
        super().__init__(_DIALECT, wall_clock)
        self.path = str(path)
        self._lock = threading.RLock()
        memory = self.path == ":memory:"
        if not memory:  # created 0600; an existing file is not opened here: closing a descriptor of ours would drop
            # the POSIX locks SQLite holds on it for another store of this process
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        self._writer_lock_fd = None if memory else os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        # statements are kept per kind (kinds are literals in them): room for every flow's
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0, cached_statements=512
        )
        self._checkpointer: WalCheckpointer | None = None
        if not memory:
            self._conn.execute("PRAGMA journal_mode=WAL")
            if checkpoint_beside:
                self._conn.execute("PRAGMA wal_autocheckpoint=0")
                self._checkpointer = WalCheckpointer(self, self.path, f"{self.path}.lock")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA temp_store=MEMORY")  # savepoints keep their undo pages in memory
        self._migrate()
        # the cached kinds' generation, shared by every process on this file; moved on at open, so what a process
        # that died between a commit and its move kept elsewhere is not trusted past this start
        self._cache.generation = LocalGeneration() if memory else FileGeneration(f"{self.path}.gen")
        with self._write():
            self._cache.changed_everything()
        with self._write() as conn:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
            if "retries_from" not in columns:  # a state file from before redelivery existed
                conn.execute("ALTER TABLE outbox ADD COLUMN retries_from INTEGER NOT NULL DEFAULT 0")
        if indexes:
            self.declare_indexes(indexes)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._writer_turn():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
                self._cache.committed()  # still holding the writers' lock
            finally:
                self._cache.ended()
        if self._checkpointer is not None:
            self._checkpointer.committed()

    groups_commits = True  # one writer at a time: a shared transaction costs one lock, one commit

    def _index_across(self, kinds: Sequence[str]) -> None:
        """Partial indexes for just these kinds (records by key, index rows by field and value); the lookups name the
        kind as a literal (`Dialect.kind_is`), which is how SQLite knows the partial index applies."""
        with self._write() as conn:
            for kind in kinds:
                literal, name = sql_literal(kind), hashlib.sha256(kind.encode()).hexdigest()[:16]
                conn.execute(
                    f"CREATE INDEX IF NOT EXISTS records_across_{name} ON records (key) WHERE kind = {literal}"
                )
                conn.execute(
                    f"CREATE INDEX IF NOT EXISTS record_index_across_{name} ON record_index (field, value, sandbox) "
                    f"WHERE kind = {literal}"
                )

    def _lock_schema(self, conn: Connection) -> None:
        """Nothing more to take: `_write` began with BEGIN IMMEDIATE, which already holds the file's write lock."""

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

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            self._conn.close()
            if self._cache.generation is not None:
                self._cache.generation.close()
            if self._writer_lock_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._writer_lock_fd)
                self._writer_lock_fd = None
