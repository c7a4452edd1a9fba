"""The unit of work over one DB-API connection: reads, writes, counters, savepoints and `publish` (the outbox row in
the same transaction), with the index rows kept in step."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pruefstand.mock_server.store.dialect import Connection, Dialect, dumps, loads
from pruefstand.mock_server.store.generation import RecordCache
from pruefstand.mock_server.store.indexing import Index, index_values
from pruefstand.mock_server.store.protocol import Document, OutboundMessage, RecordExists, Where
from pruefstand.mock_server.store.queries import (
    insert_index_rows,
    read_count,
    read_many,
    read_one,
    read_text,
)


class SqlUnitOfWork:
    """One transaction on one connection. Each sandbox it touches is locked for the transaction's length (PostgreSQL:
    an advisory lock, so two replicas' read-modify-writes in one sandbox never interleave); messages published are
    written to the outbox here and announced after the commit by the store."""

    def __init__(
        self,
        conn: Connection,
        dialect: Dialect,
        indexes: Mapping[str, Mapping[str, Index]],
        wall_clock: Callable[[], float],
        cache: RecordCache | None = None,
    ) -> None:
        self._conn = conn
        self._d = dialect
        self._indexes = indexes
        self._wall_clock = wall_clock
        self._cache = cache or RecordCache(None)
        self._locked: set[str] = set()
        self.published = 0
        # the index rows of the indexed records this unit of work read or wrote, as the database holds them now: an
        # update or delete removes exactly those (no index by key to find them), or reads the document first
        self._rows: dict[tuple[str, str, str], set[tuple[str, str]]] = {}

    def _x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._d.sql(sql), tuple(params))

    def _touch(self, sandbox: str) -> None:
        if sandbox not in self._locked:
            self._d.lock_sandbox(self._conn, sandbox)
            self._locked.add(sandbox)

    # reads
    def get(self, sandbox: str, kind: str, key: str) -> Document | None:
        self._touch(sandbox)
        if self._cache.covers(kind):  # nobody committed a change since it was read (the writers are queued)
            text = self._cache.read(
                ("get", sandbox, kind, key), lambda: read_text(self._conn, self._d, sandbox, kind, key)
            )
            doc = None if text is None else loads(text)
        else:
            doc = read_one(self._conn, self._d, sandbox, kind, key)
        if doc is not None and kind in self._indexes:  # before the caller changes the document
            self._rows[(sandbox, kind, key)] = self._index_rows(kind, doc)
        return doc

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
        self._touch(sandbox)
        return read_many(self._conn, self._d, self._indexes, sandbox, kind, where, limit, offset, descending)

    def count(self, sandbox: str, kind: str, where: Where | None = None) -> int:
        self._touch(sandbox)
        return read_count(self._conn, self._d, self._indexes, sandbox, kind, where)

    # writes
    def insert(self, sandbox: str, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        self._touch(sandbox)
        self._cache.wrote(kind)
        row = self._x(
            "INSERT INTO records (sandbox, kind, key, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sandbox, kind, key) DO NOTHING RETURNING seq",
            (sandbox, kind, key, dumps(doc)),
        ).fetchone()
        if row is None:
            raise RecordExists(f"{kind} {key!r} already exists in sandbox {sandbox!r}")
        self._counted(sandbox, kind, +1)
        self._reindex(sandbox, kind, key, int(row[0]), set(), doc)

    def put(self, sandbox: str, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        self._touch(sandbox)
        self._cache.wrote(kind)
        text = dumps(doc)
        before = self._rows_before(sandbox, kind, key)
        kind_is, kind_params = self._d.kind_is(kind)
        row = self._x(
            f"UPDATE records SET doc = ? WHERE sandbox = ? AND {kind_is} AND key = ? RETURNING seq",
            (text, sandbox, *kind_params, key),
        ).fetchone()
        if row is None:  # new (the sandbox is locked: nobody inserts it meanwhile)
            row = self._x(
                "INSERT INTO records (sandbox, kind, key, doc) VALUES (?, ?, ?, ?) RETURNING seq",
                (sandbox, kind, key, text),
            ).fetchone()
            self._counted(sandbox, kind, +1)
            before = set()
        self._reindex(sandbox, kind, key, int(row[0]), before, doc)

    def put_many(self, sandbox: str, kind: str, items: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        if kind in self._indexes:  # index rows per record: one at a time
            for key, doc in items:
                self.put(sandbox, kind, key, doc)
            return
        self._touch(sandbox)
        self._cache.wrote(kind)
        latest = dict(items)  # a key given twice: the last document counts
        if not latest:
            return
        keys = list(latest)
        existing = 0
        kind_is, kind_params = self._d.kind_is(kind)
        for start in range(0, len(keys), 500):  # within every engine's limit of bound parameters
            part = keys[start : start + 500]
            marks = ", ".join("?" * len(part))
            sql = f"SELECT COUNT(*) FROM records WHERE sandbox = ? AND {kind_is} AND key IN ({marks})"
            existing += int(self._x(sql, (sandbox, *kind_params, *part)).fetchone()[0])
        rows = [(sandbox, kind, key, dumps(doc)) for key, doc in latest.items()]
        statement = self._d.sql(
            "INSERT INTO records (sandbox, kind, key, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sandbox, kind, key) DO UPDATE SET doc = excluded.doc"
        )
        many = getattr(self._conn, "executemany", None)
        if many is not None:  # sqlite3
            many(statement, rows)
        else:  # psycopg: on a cursor
            with self._conn.cursor() as cursor:  # type: ignore[attr-defined]
                cursor.executemany(statement, rows)
        added = len(rows) - existing
        if added:
            self._counted(sandbox, kind, added)

    def delete(self, sandbox: str, kind: str, key: str) -> bool:
        self._touch(sandbox)
        self._cache.wrote(kind)
        before = self._rows_before(sandbox, kind, key)
        kind_is, kind_params = self._d.kind_is(kind)
        row = self._x(
            f"DELETE FROM records WHERE sandbox = ? AND {kind_is} AND key = ? RETURNING seq",
            (sandbox, *kind_params, key),
        ).fetchone()
        if row is None:
            return False
        self._counted(sandbox, kind, -1)
        self._unindex(sandbox, kind, int(row[0]), before)
        self._rows.pop((sandbox, kind, key), None)
        return True

    def _counted(self, sandbox: str, kind: str, change: int) -> None:
        self._x(
            "INSERT INTO record_counts (sandbox, kind, n) VALUES (?, ?, ?) "
            "ON CONFLICT (sandbox, kind) DO UPDATE SET n = record_counts.n + excluded.n",
            (sandbox, kind, change),
        )

    def next_counter(self, sandbox: str, name: str) -> int:
        self._touch(sandbox)
        row = self._x(
            "INSERT INTO counters (sandbox, name, value) VALUES (?, ?, 1) "
            "ON CONFLICT (sandbox, name) DO UPDATE SET value = counters.value + 1 RETURNING value",
            (sandbox, name),
        ).fetchone()
        return int(row[0])

    def take_counters(self, sandbox: str, name: str, count: int) -> range:
        self._touch(sandbox)
        row = self._x(
            "INSERT INTO counters (sandbox, name, value) VALUES (?, ?, ?) "
            "ON CONFLICT (sandbox, name) DO UPDATE SET value = counters.value + excluded.value RETURNING value",
            (sandbox, name, count),
        ).fetchone()
        last = int(row[0])
        return range(last - count + 1, last + 1)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self._x("SAVEPOINT part")
        try:
            yield
        except BaseException:
            self._x("ROLLBACK TO SAVEPOINT part")
            self._x("RELEASE SAVEPOINT part")
            self._rows.clear()  # what the undone part wrote is gone: documents are read again where needed
            raise
        self._x("RELEASE SAVEPOINT part")

    def publish(self, sandbox: str, message: OutboundMessage) -> None:
        self._touch(sandbox)
        now = self._wall_clock()
        payload, headers = dumps(message.payload), dumps(message.headers)
        self._x(
            "INSERT INTO outbox (sandbox, stream, kind, target, payload, headers, status, next_attempt_at, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (sandbox, message.stream, message.kind, message.target, payload, headers, now, now),
        )
        self.published += 1

    def _index_rows(self, kind: str, doc: Mapping[str, Any]) -> set[tuple[str, str]]:
        return {(i.field, value) for i in self._indexes.get(kind, {}).values() for value in index_values(doc, i)}

    def _rows_before(self, sandbox: str, kind: str, key: str) -> set[tuple[str, str]]:
        """The index rows a record has now: remembered from this unit of work, else from its stored document."""
        if kind not in self._indexes:
            return set()
        remembered = self._rows.get((sandbox, kind, key))
        if remembered is not None:
            return remembered
        stored = read_one(self._conn, self._d, sandbox, kind, key)
        return set() if stored is None else self._index_rows(kind, stored)

    def _reindex(
        self, sandbox: str, kind: str, key: str, seq: int, before: set[tuple[str, str]], doc: Mapping[str, Any]
    ) -> None:
        """Index rows for the record's new document: the ones gone removed, the new ones added, the rest kept."""
        if kind not in self._indexes:
            return
        after = self._index_rows(kind, doc)
        self._unindex(sandbox, kind, seq, before - after)
        insert_index_rows(self._conn, self._d, sandbox, kind, key, seq, after - before)
        self._rows[(sandbox, kind, key)] = after

    def _unindex(self, sandbox: str, kind: str, seq: int, rows: set[tuple[str, str]]) -> None:
        kind_is, kind_params = self._d.kind_is(kind)
        for field, value in rows:
            self._x(
                f"DELETE FROM record_index WHERE sandbox = ? AND {kind_is} AND field = ? AND value = ? AND seq = ?",
                (sandbox, *kind_params, field, value, seq),
            )
