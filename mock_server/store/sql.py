"""What the SQLite and PostgreSQL backends share: the unit of work over one DB-API connection, the index rows, the
query builder for `find`/`count`, and the outbox statements. A `Dialect` holds the few differences."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from pruefstand.mock_server.store.generation import RecordCache
from pruefstand.mock_server.store.indexing import Index, Range, by_kind, index_values, signature
from pruefstand.mock_server.store.migrations import migrations
from pruefstand.mock_server.store.protocol import Document, OutboundMessage, RecordExists, Where


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: Any = ...) -> Any: ...


@dataclass(frozen=True)
class Dialect:
    """`param` is the placeholder (`?` or `%s`); `lock_sandbox` serialises the writers of one sandbox where the
    engine does not already serialise all writers; `skip_locked` is appended to the outbox claim."""

    name: str
    param: str
    lock_sandbox: Callable[[Connection, str], None]
    skip_locked: str = ""
    literal_kinds: bool = False

    def sql(self, text: str) -> str:
        return text if self.param == "?" else text.replace("?", self.param)

    def kind_is(self, kind: str, column: str = "kind") -> tuple[str, list[Any]]:
        """The condition on a record's kind in a query, and its parameters. SQLite (`literal_kinds`) gets the kind
        as a literal: compared with the condition of a partial index (the kinds looked up across sandboxes have
        them), a bound kind makes SQLite plan the statement again at every execution (about 5 µs each time), and
        only a literal tells it which partial index applies. Kinds are the flows' own names, quoted anyway."""
        if self.literal_kinds:
            return f"{column} = {sql_literal(kind)}", []
        return f"{column} = ?", [kind]


def sql_literal(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def dumps(doc: Mapping[str, Any]) -> str:
    """Compact JSON, with orjson (a tenth of the standard library's time); what orjson does not write (an integer
    beyond 64 bits, a key that is not a string) with the standard library."""
    try:
        return orjson.dumps(doc).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _loads(text: Any) -> Document:
    # the standard library: orjson reads an integer beyond 64 bits as a float (a quantity of 10^20 would come back
    # as 1e+20, no longer an integer)
    return dict(json.loads(text)) if isinstance(text, str | bytes) else dict(text)


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
            doc = None if text is None else _loads(text)
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


def write_index_rows(
    conn: Connection,
    dialect: Dialect,
    indexes: Mapping[str, Index],
    sandbox: str,
    kind: str,
    key: str,
    seq: int,
    doc: Mapping[str, Any],
) -> None:
    rows = {(index.field, value) for index in indexes.values() for value in index_values(doc, index)}
    insert_index_rows(conn, dialect, sandbox, kind, key, seq, rows)


def insert_index_rows(
    conn: Connection, dialect: Dialect, sandbox: str, kind: str, key: str, seq: int, rows: set[tuple[str, str]]
) -> None:
    for field, value in rows:
        conn.execute(
            dialect.sql("INSERT INTO record_index (sandbox, kind, field, value, seq, key) VALUES (?, ?, ?, ?, ?, ?)"),
            (sandbox, kind, field, value, seq, key),
        )


def read_one(conn: Connection, dialect: Dialect, sandbox: str, kind: str, key: str) -> Document | None:
    text = read_text(conn, dialect, sandbox, kind, key)
    return None if text is None else _loads(text)


def read_text(conn: Connection, dialect: Dialect, sandbox: str, kind: str, key: str) -> Any:
    """The record's document as stored (JSON text, or what the driver made of JSONB), or None."""
    kind_is, kind_params = dialect.kind_is(kind)
    row = conn.execute(
        dialect.sql(f"SELECT doc FROM records WHERE sandbox = ? AND {kind_is} AND key = ?"),
        (sandbox, *kind_params, key),
    ).fetchone()
    return row[0] if row else None


def read_many(
    conn: Connection,
    dialect: Dialect,
    indexes: Mapping[str, Mapping[str, Index]],
    sandbox: str,
    kind: str,
    where: Where | None,
    limit: int | None,
    offset: int,
    descending: bool,
) -> list[Document]:
    """The first indexed condition drives the query through the index table (its rows are ordered by seq within a
    value, so a page costs what it holds); the other conditions are checked with EXISTS on the same table."""
    order = "DESC" if descending else "ASC"
    if where:
        source, params = _selection(dialect, indexes, sandbox, kind, where)
        sql = f"SELECT r.doc FROM ({source}) s JOIN records r ON r.seq = s.seq ORDER BY s.seq {order}"
    else:
        kind_is, kind_params = dialect.kind_is(kind)
        sql = f"SELECT doc FROM records WHERE sandbox = ? AND {kind_is} ORDER BY seq {order}"
        params = [sandbox, *kind_params]
    if limit is not None or offset:
        sql += " LIMIT ? OFFSET ?"
        unlimited = -1 if dialect.name == "sqlite" else None
        params += [unlimited if limit is None else _bounded(limit), _bounded(offset)]
    return [_loads(row[0]) for row in conn.execute(dialect.sql(sql), tuple(params)).fetchall()]


def _bounded(number: int) -> int:
    """A page bound as the engines take it: 0 … 2^62 (a client may ask for any offset)."""
    return min(max(number, 0), 2**62)


def read_count(
    conn: Connection,
    dialect: Dialect,
    indexes: Mapping[str, Mapping[str, Index]],
    sandbox: str,
    kind: str,
    where: Where | None,
) -> int:
    if not where:  # kept with every insert and delete: one row, whatever the sandbox holds
        row = conn.execute(
            dialect.sql("SELECT n FROM record_counts WHERE sandbox = ? AND kind = ?"), (sandbox, kind)
        ).fetchone()
        return int(row[0]) if row else 0
    source, params = _selection(dialect, indexes, sandbox, kind, where)
    row = conn.execute(dialect.sql(f"SELECT COUNT(*) FROM ({source}) s"), tuple(params)).fetchone()
    return int(row[0])


def _selection(
    dialect: Dialect,
    indexes: Mapping[str, Mapping[str, Index]],
    sandbox: str,
    kind: str,
    where: Where | None,
) -> tuple[str, list[Any]]:
    """A sub-select of the `seq` of every matching record."""
    if not where:
        kind_is, kind_params = dialect.kind_is(kind)
        return f"SELECT seq FROM records WHERE sandbox = ? AND {kind_is}", [sandbox, *kind_params]
    declared = indexes.get(kind, {})
    unknown = sorted(set(where) - set(declared))
    if unknown:
        raise ValueError(f"{kind}: {', '.join(unknown)} not indexed (declared: {', '.join(sorted(declared))})")
    (first, condition), *rest = where.items()
    test, values = _condition(condition)
    distinct = "DISTINCT " if len(values) > 1 else ""  # one value: the index walks in seq order, a page stays cheap
    kind_is, kind_params = dialect.kind_is(kind, "i.kind")
    sql = (
        f"SELECT {distinct}i.seq AS seq FROM record_index i "
        f"WHERE i.sandbox = ? AND {kind_is} AND i.field = ? AND {test}"
    )
    params: list[Any] = [sandbox, *kind_params, first, *values]
    for field, other in rest:
        other_test, other_values = _condition(other, "j")
        sql += (
            " AND EXISTS (SELECT 1 FROM record_index j WHERE j.sandbox = i.sandbox AND j.kind = i.kind "
            f"AND j.seq = i.seq AND j.field = ? AND {other_test})"
        )
        params += [field, *other_values]
    return sql, params


def _condition(condition: str | Sequence[str] | Range, alias: str = "i") -> tuple[str, list[str]]:
    if isinstance(condition, Range):
        bounds = list(condition.bounds())
        if not bounds:
            return "1 = 1", []
        return " AND ".join(f"{alias}.value {op} ?" for op, _ in bounds), [value for _, value in bounds]
    values = [condition] if isinstance(condition, str) else list(condition)
    if not values:
        return "1 = 0", []
    return f"{alias}.value IN ({', '.join('?' * len(values))})", values


class SqlOutbox:
    """The outbox statements for both engines. `write` opens a transaction, `read` a connection for reads."""

    def __init__(
        self,
        dialect: Dialect,
        write: Callable[[], AbstractContextManager[Connection]],
        read: Callable[[], AbstractContextManager[Connection]],
    ) -> None:
        self._d = dialect
        self._write = write
        self._read = read

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
            rows = conn.execute(
                self._d.sql(
                    "SELECT o.id, o.sandbox, o.stream, o.kind, o.target, o.payload, o.headers, "
                    f"o.attempts - o.retries_from FROM outbox o WHERE {claimable} AND NOT EXISTS (SELECT 1 FROM "
                    "outbox p WHERE p.sandbox = o.sandbox AND p.stream = o.stream AND p.id < o.id "
                    "AND p.status IN ('pending', 'sending', 'dead')) "
                    f"ORDER BY o.id LIMIT ?{self._d.skip_locked}"
                ),
                (now, now, limit),
            ).fetchall()
            for row in rows:
                conn.execute(
                    self._d.sql("UPDATE outbox SET status = 'sending', lease_owner = ?, lease_until = ? WHERE id = ?"),
                    (owner, now + lease_seconds, row[0]),
                )
        return [
            {
                "id": int(r[0]),
                "sandbox": r[1],
                "stream": r[2],
                "kind": r[3],
                "target": r[4],
                "payload": json.loads(r[5]),
                "headers": json.loads(r[6]),
                "attempts": int(r[7]),
            }
            for r in rows
        ]

    def finish_attempt(
        self, delivery_id: int, owner: str, attempt: Mapping[str, Any], status: str, next_attempt_at: float
    ) -> bool:
        with self._write() as conn:
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
            return int(
                conn.execute(
                    self._d.sql(
                        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, retries_from = attempts "
                        "WHERE sandbox = ? AND status = 'dead'"
                    ),
                    (now, sandbox),
                ).rowcount
            )


def reindex(
    conn: Connection, dialect: Dialect, by_kind: Mapping[str, Mapping[str, Index]], signatures: Mapping[str, str]
) -> None:
    """Build the index rows again for each kind whose declared indexes changed since they were written."""
    stored = dict(conn.execute("SELECT kind, signature FROM index_catalog").fetchall())
    for kind, indexes in by_kind.items():
        if stored.get(kind) == signatures[kind]:
            continue
        conn.execute(dialect.sql("DELETE FROM record_index WHERE kind = ?"), (kind,))
        for sandbox, key, seq, doc in conn.execute(
            dialect.sql("SELECT sandbox, key, seq, doc FROM records WHERE kind = ?"), (kind,)
        ).fetchall():
            write_index_rows(conn, dialect, indexes, sandbox, kind, key, int(seq), _loads(doc))
        conn.execute(
            dialect.sql(
                "INSERT INTO index_catalog (kind, signature) VALUES (?, ?) "
                "ON CONFLICT (kind) DO UPDATE SET signature = excluded.signature"
            ),
            (kind, signatures[kind]),
        )


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
        self.outbox = SqlOutbox(dialect, self._write, self._read)

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

    @contextmanager
    def transaction(self) -> Iterator[SqlUnitOfWork]:
        with self._write() as conn:
            uow = SqlUnitOfWork(conn, self._d, self._indexes, self._wall_clock, self._cache)
            yield uow
        if uow.published:  # after the commit, never for a rollback
            for listener in self._listeners:
                listener()

    def get(self, sandbox: str, kind: str, key: str) -> Document | None:
        if self._cache.covers(kind):
            text = self._cache.read(("get", sandbox, kind, key), lambda: self._read_text(sandbox, kind, key))
            return None if text is None else _loads(text)
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
        return (str(found[0]), _loads(found[1])) if found else None

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
