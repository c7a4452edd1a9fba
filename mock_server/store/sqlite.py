"""The embedded default store: one SQLite file (WAL), or `:memory:` for tests."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mock_server.store.protocol import Document, RecordExists

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    sandbox TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    doc     TEXT NOT NULL,
    PRIMARY KEY (sandbox, kind, key)
);
CREATE INDEX IF NOT EXISTS records_by_kind_key ON records (kind, key);
CREATE TABLE IF NOT EXISTS counters (
    sandbox TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   INTEGER NOT NULL,
    PRIMARY KEY (sandbox, name)
);
"""


def _dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


class _SQLiteUnitOfWork:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, sandbox: str, kind: str, key: str) -> Document | None:
        row = self._conn.execute(
            "SELECT doc FROM records WHERE sandbox = ? AND kind = ? AND key = ?", (sandbox, kind, key)
        ).fetchone()
        return dict(json.loads(row[0])) if row else None

    def insert(self, sandbox: str, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        try:
            self._conn.execute(
                "INSERT INTO records (sandbox, kind, key, doc) VALUES (?, ?, ?, ?)",
                (sandbox, kind, key, _dumps(doc)),
            )
        except sqlite3.IntegrityError as exc:
            raise RecordExists(f"{kind} {key!r} already exists in sandbox {sandbox!r}") from exc

    def put(self, sandbox: str, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        self._conn.execute(
            "INSERT INTO records (sandbox, kind, key, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sandbox, kind, key) DO UPDATE SET doc = excluded.doc",
            (sandbox, kind, key, _dumps(doc)),
        )

    def next_counter(self, sandbox: str, name: str) -> int:
        row = self._conn.execute(
            "INSERT INTO counters (sandbox, name, value) VALUES (?, ?, 1) "
            "ON CONFLICT (sandbox, name) DO UPDATE SET value = value + 1 RETURNING value",
            (sandbox, name),
        ).fetchone()
        return int(row[0])


class SQLiteStore:
    """Store on one SQLite connection. Calls are short and serialised by a lock, so it is safe from the event loop
    and from worker threads. Several processes share the file: readers never wait (WAL); writers queue on an
    advisory file lock beside the database, which wakes the next writer as soon as the current one commits (SQLite's
    own busy handler would sleep in steps of milliseconds)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._writer_lock_fd = (
            os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644) if self.path != ":memory:" else None
        )
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteUnitOfWork]:
        with self._lock, self._writer_turn():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteUnitOfWork(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

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
        with self._lock:
            return _SQLiteUnitOfWork(self._conn).get(sandbox, kind, key)

    def locate(self, kind: str, key: str) -> tuple[str, Document] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT sandbox, doc FROM records WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        return (str(row[0]), dict(json.loads(row[1]))) if row else None

    def find(self, sandbox: str, kind: str, where: Mapping[str, str] | None = None) -> list[Document]:
        sql = "SELECT doc FROM records WHERE sandbox = ? AND kind = ?"
        params: list[Any] = [sandbox, kind]
        for field, value in (where or {}).items():
            sql += " AND json_extract(doc, ?) = ?"
            params += [f'$."{field}"', value]
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY rowid", params).fetchall()
        return [dict(json.loads(row[0])) for row in rows]

    def reset_sandbox(self, sandbox: str) -> int:
        # Counters survive a reset on purpose: a number once handed out is never handed out again.
        with self.transaction():
            removed = self._conn.execute("DELETE FROM records WHERE sandbox = ?", (sandbox,)).rowcount
        return int(removed)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._writer_lock_fd is not None:
                os.close(self._writer_lock_fd)
                self._writer_lock_fd = None
