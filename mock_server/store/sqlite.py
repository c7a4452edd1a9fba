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
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    sandbox         TEXT NOT NULL,
    stream          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    headers         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_owner     TEXT,
    lease_until     REAL,
    created_at      REAL NOT NULL,
    retries_from    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_stream ON outbox (sandbox, stream, id);
CREATE TABLE IF NOT EXISTS delivery_attempts (
    outbox_id   INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    at          REAL NOT NULL,
    status_code INTEGER,
    error       TEXT,
    latency_ms  REAL NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);
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
        cursor = self._conn.execute(
            "INSERT INTO outbox (sandbox, stream, kind, target, payload, headers, status, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (sandbox, stream, kind, target, _dumps(payload), _dumps(headers), now, now),
        )
        return int(cursor.lastrowid or 0)

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
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(outbox)")}
        if "retries_from" not in columns:  # a state file from before redelivery existed
            self._conn.execute("ALTER TABLE outbox ADD COLUMN retries_from INTEGER NOT NULL DEFAULT 0")

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

    def claim_due_deliveries(self, now: float, owner: str, lease_seconds: float, limit: int) -> list[Document]:
        """Claim the deliveries that are due and first in their stream (nothing earlier in the stream is open)."""
        claimable = (
            "((o.status = 'pending' AND o.next_attempt_at <= :now) OR (o.status = 'sending' AND o.lease_until < :now))"
        )
        with self._lock:  # a cheap read first: the writer lock is taken only when something is due
            if self._conn.execute(f"SELECT 1 FROM outbox o WHERE {claimable} LIMIT 1", {"now": now}).fetchone() is None:
                return []
        with self.transaction():
            rows = self._conn.execute(
                f"SELECT o.id, o.sandbox, o.stream, o.kind, o.target, o.payload, o.headers, "
                f"o.attempts - o.retries_from FROM outbox o "
                f"WHERE {claimable} AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.sandbox = o.sandbox "
                f"AND p.stream = o.stream AND p.id < o.id AND p.status IN ('pending', 'sending')) "
                f"ORDER BY o.id LIMIT :limit",
                {"now": now, "limit": limit},
            ).fetchall()
            for row in rows:
                self._conn.execute(
                    "UPDATE outbox SET status = 'sending', lease_owner = ?, lease_until = ? WHERE id = ?",
                    (owner, now + lease_seconds, row[0]),
                )
        return [
            {
                "id": r[0],
                "sandbox": r[1],
                "stream": r[2],
                "kind": r[3],
                "target": r[4],
                "payload": json.loads(r[5]),
                "headers": json.loads(r[6]),
                "attempts": r[7],
            }
            for r in rows
        ]

    def finish_attempt(
        self, delivery_id: int, owner: str, attempt: Mapping[str, Any], status: str, next_attempt_at: float
    ) -> bool:
        """Record one attempt and the delivery's new status (delivered, pending for a retry, dead); False if the
        lease was lost to another worker meanwhile (then nothing is recorded)."""
        with self.transaction():
            updated = self._conn.execute(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id = ? AND lease_owner = ? AND status = 'sending'",
                (status, next_attempt_at, delivery_id, owner),
            ).rowcount
            if updated:
                self._conn.execute(
                    "INSERT INTO delivery_attempts (outbox_id, attempt, at, status_code, error, latency_ms) "
                    "VALUES (?, (SELECT attempts FROM outbox WHERE id = ?), ?, ?, ?, ?)",
                    (
                        delivery_id,
                        delivery_id,
                        attempt["at"],
                        attempt.get("status_code"),
                        attempt.get("error"),
                        attempt["latency_ms"],
                    ),
                )
        return bool(updated)

    def deliveries(self, sandbox: str) -> list[Document]:
        """The journal of one sandbox: every delivery, oldest first, with its attempts."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, stream, kind, target, payload, status, attempts, created_at FROM outbox "
                "WHERE sandbox = ? ORDER BY id",
                (sandbox,),
            ).fetchall()
            attempts = self._conn.execute(
                "SELECT a.outbox_id, a.attempt, a.at, a.status_code, a.error, a.latency_ms FROM delivery_attempts a "
                "JOIN outbox o ON o.id = a.outbox_id WHERE o.sandbox = ? ORDER BY a.outbox_id, a.attempt",
                (sandbox,),
            ).fetchall()
        by_delivery: dict[int, list[Document]] = {}
        for a in attempts:
            by_delivery.setdefault(a[0], []).append(
                {"attempt": a[1], "at": a[2], "statusCode": a[3], "error": a[4], "latencyMs": a[5]}
            )
        return [
            {
                "id": r[0],
                "stream": r[1],
                "kind": r[2],
                "target": r[3],
                "payload": json.loads(r[4]),
                "status": r[5],
                "attempts": by_delivery.get(r[0], []),
                "createdAt": r[7],
            }
            for r in rows
        ]

    def redeliver_dead(self, sandbox: str, now: float) -> int:
        """Dead deliveries of a sandbox become due again with a fresh round of attempts (their journal stays)."""
        with self.transaction():
            return int(
                self._conn.execute(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = ?, retries_from = attempts "
                    "WHERE sandbox = ? AND status = 'dead'",
                    (now, sandbox),
                ).rowcount
            )

    def reset_sandbox(self, sandbox: str) -> int:
        # Counters survive a reset on purpose: a number once handed out is never handed out again.
        with self.transaction():
            removed = self._conn.execute("DELETE FROM records WHERE sandbox = ?", (sandbox,)).rowcount
            self._conn.execute(
                "DELETE FROM delivery_attempts WHERE outbox_id IN (SELECT id FROM outbox WHERE sandbox = ?)", (sandbox,)
            )
            self._conn.execute("DELETE FROM outbox WHERE sandbox = ?", (sandbox,))
        return int(removed)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._writer_lock_fd is not None:
                os.close(self._writer_lock_fd)
                self._writer_lock_fd = None
