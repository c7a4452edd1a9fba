"""The outbox statements of both SQL backends: claim what is due (with a lease), finish an attempt, the journal of a
sandbox, redeliver the dead."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from pruefstand.mock_server.store.dialect import Connection, Dialect
from pruefstand.mock_server.store.protocol import Document


class SqlOutbox:
    """The outbox statements for both engines. `write` opens a transaction, `read` a connection for reads."""

    def __init__(
        self,
        dialect: Dialect,
        write: Callable[[], AbstractContextManager[Connection]],
        read: Callable[[], AbstractContextManager[Connection]],
        made_due: Callable[[], None] = lambda: None,
    ) -> None:
        self._d = dialect
        self._write = write
        self._read = read
        self._made_due = made_due  # after a commit that made deliveries due (redelivery): this process's worker looks

    def claim_due(self, now: float, owner: str, lease_seconds: float, limit: int) -> list[Document]:
        claimable = (
            "((o.status = 'pending' AND o.next_attempt_at <= ?) OR (o.status = 'sending' AND o.lease_until < ?))"
        )
        with self._read() as conn:  # a cheap read first: no write transaction unless something is due
            if (
                conn.execute(self._d.sql(f"SELECT 1 FROM outbox o WHERE {claimable} LIMIT 1"), (now, now)).fetchone()
                is None
            ):
                return []
        with self._write() as conn:
            # The streams with something due first, from the indexes of open rows (migrations: pending by next
            # attempt, sending by lease), materialised; then each stream's head (its first open row: pending, sending
            # or dead), claimed if it is due. A stream whose head is being sent, with hundreds queued behind it,
            # costs one look-up (checking every queued row for an earlier open one cost 12 ms a claim at 1,200).
            # `o.id + 0`: ordered by id, but never by walking the primary key to stop at LIMIT, which would pass
            # every delivered, waiting and dead row of every sandbox first (bench/outbox_claim.py).
            rows = conn.execute(
                self._d.sql(
                    "WITH due AS MATERIALIZED (SELECT sandbox, stream FROM outbox WHERE status = 'pending' "
                    "AND next_attempt_at <= ? UNION SELECT sandbox, stream FROM outbox WHERE status = 'sending' "
                    "AND lease_until < ?) "
                    "SELECT o.id, o.sandbox, o.stream, o.kind, o.target, o.payload, o.headers, "
                    "o.attempts - o.retries_from FROM outbox o WHERE o.id IN (SELECT (SELECT h.id FROM outbox h "
                    "WHERE h.sandbox = due.sandbox AND h.stream = due.stream "
                    "AND h.status IN ('pending', 'sending', 'dead') ORDER BY h.id LIMIT 1) FROM due) "
                    f"AND {claimable} ORDER BY o.id + 0 LIMIT ?{self._d.skip_locked}"
                ),
                (now, now, now, now, limit),
            ).fetchall()
            for row in rows:
                conn.execute(
                    self._d.sql("UPDATE outbox SET status = 'sending', lease_owner = ?, lease_until = ? WHERE id = ?"),
                    (owner, now + lease_seconds, row[0]),
                )
        return [_delivery(r) for r in rows]

    def finish_attempt(
        self, delivery_id: int, owner: str, attempt: Mapping[str, Any], status: str, next_attempt_at: float
    ) -> bool:
        with self._write() as conn:
            return self._finish(conn, delivery_id, owner, attempt, status, next_attempt_at)

    def finish_and_claim_next(
        self,
        delivery: Mapping[str, Any],
        owner: str,
        attempt: Mapping[str, Any],
        now: float,
        lease_seconds: float,
    ) -> tuple[bool, Document | None]:
        """Record a successful attempt and, in the same transaction, claim the next message of its stream when it is
        due (the stream's head now): one transaction a message for a busy stream instead of two, and no other
        worker's claim in between. (False, None) when the lease was lost meanwhile."""
        with self._write() as conn:
            if not self._finish(conn, int(delivery["id"]), owner, attempt, "delivered", now):
                return False, None
            head = conn.execute(
                self._d.sql(
                    "SELECT id, sandbox, stream, kind, target, payload, headers, attempts - retries_from, status, "
                    "next_attempt_at FROM outbox WHERE sandbox = ? AND stream = ? "
                    "AND status IN ('pending', 'sending', 'dead') ORDER BY id LIMIT 1"
                ),
                (delivery["sandbox"], delivery["stream"]),
            ).fetchone()
            if head is None or head[8] != "pending" or float(head[9]) > now:
                return True, None
            claimed = conn.execute(
                self._d.sql(
                    "UPDATE outbox SET status = 'sending', lease_owner = ?, lease_until = ? "
                    "WHERE id = ? AND status = 'pending'"  # another worker may have claimed it meanwhile
                ),
                (owner, now + lease_seconds, head[0]),
            ).rowcount
        return True, (_delivery(head) if claimed else None)

    def next_due(self, after: float) -> float | None:
        """When the next delivery falls due without anything new being committed: the earliest pending retry or
        lapsing lease later than `after` (None: none). Rows due by `after` that a claim at `after` left are waiting
        behind their stream's head, which wakes the worker when it moves (a delivery finished, a redelivery)."""
        with self._read() as conn:
            row = conn.execute(
                self._d.sql(
                    "SELECT (SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending' "
                    "AND next_attempt_at > ?), "
                    "(SELECT MIN(lease_until) FROM outbox WHERE status = 'sending' AND lease_until > ?)"
                ),
                (after, after),
            ).fetchone()
        found = [float(value) for value in (row or ()) if value is not None]
        return min(found) if found else None

    def _finish(
        self,
        conn: Connection,
        delivery_id: int,
        owner: str,
        attempt: Mapping[str, Any],
        status: str,
        next_attempt_at: float,
    ) -> bool:
        updated = conn.execute(
            self._d.sql(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id = ? AND lease_owner = ? AND status = 'sending'"
            ),
            (status, next_attempt_at, delivery_id, owner),
        ).rowcount
        if updated:
            conn.execute(
                self._d.sql(
                    "INSERT INTO delivery_attempts (outbox_id, attempt, at, status_code, error, latency_ms) "
                    "VALUES (?, (SELECT attempts FROM outbox WHERE id = ?), ?, ?, ?, ?)"
                ),
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

    def journal(self, sandbox: str) -> list[Document]:
        with self._read() as conn:
            rows = conn.execute(
                self._d.sql(
                    "SELECT id, stream, kind, target, payload, status, attempts, created_at FROM outbox "
                    "WHERE sandbox = ? ORDER BY id"
                ),
                (sandbox,),
            ).fetchall()
            attempts = conn.execute(
                self._d.sql(
                    "SELECT a.outbox_id, a.attempt, a.at, a.status_code, a.error, a.latency_ms FROM delivery_attempts "
                    "a JOIN outbox o ON o.id = a.outbox_id WHERE o.sandbox = ? ORDER BY a.outbox_id, a.attempt"
                ),
                (sandbox,),
            ).fetchall()
        by_delivery: dict[int, list[Document]] = {}
        for a in attempts:
            by_delivery.setdefault(int(a[0]), []).append(
                {"attempt": a[1], "at": a[2], "statusCode": a[3], "error": a[4], "latencyMs": a[5]}
            )
        return [
            {
                "id": int(r[0]),
                "stream": r[1],
                "kind": r[2],
                "target": r[3],
                "payload": json.loads(r[4]),
                "status": r[5],
                "attempts": by_delivery.get(int(r[0]), []),
                "createdAt": r[7],
            }
            for r in rows
        ]

    def redeliver_dead(self, sandbox: str, now: float) -> int:
        with self._write() as conn:
            count = int(
                conn.execute(
                    self._d.sql(
                        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, retries_from = attempts "
                        "WHERE sandbox = ? AND status = 'dead'"
                    ),
                    (now, sandbox),
                ).rowcount
            )
            if count and self._d.notify is not None:
                self._d.notify(conn)
        if count:
            self._made_due()
        return count


def _delivery(row: Any) -> Document:
    return {
        "id": int(row[0]),
        "sandbox": row[1],
        "stream": row[2],
        "kind": row[3],
        "target": row[4],
        "payload": json.loads(row[5]),
        "headers": json.loads(row[6]),
        "attempts": int(row[7]),
    }
