"""The statements both SQL backends run: index rows written and read, records read one or many (the query builder
for `find`/`count`), the re-index of a kind whose indexes changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pruefstand.mock_server.store.dialect import Connection, Dialect, loads
from pruefstand.mock_server.store.indexing import Index, Range, index_values
from pruefstand.mock_server.store.protocol import Document, Where


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
    return None if text is None else loads(text)


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
    source, params = _selection(dialect, indexes, sandbox, kind, where)
    bound = ""
    if offset >= SEEK_FROM and limit is not None:
        # Seek, then read: the seq at the offset from the sequence numbers alone (an index walk, no document read),
        # then the page from there, so a deep offset costs about what the first page costs.
        found = conn.execute(
            dialect.sql(f"SELECT s.seq FROM ({source}) s ORDER BY s.seq {order} LIMIT 1 OFFSET ?"),
            (*params, _bounded(offset)),
        ).fetchone()
        if found is None:
            return []
        bound, params, offset = f" WHERE s.seq {'<=' if descending else '>='} ?", [*params, int(found[0])], 0
    sql = f"SELECT r.doc FROM ({source}) s JOIN records r ON r.seq = s.seq{bound} ORDER BY s.seq {order}"
    if limit is not None or offset:
        sql += " LIMIT ? OFFSET ?"
        unlimited = -1 if dialect.name == "sqlite" else None
        params += [unlimited if limit is None else _bounded(limit), _bounded(offset)]
    return [loads(row[0]) for row in conn.execute(dialect.sql(sql), tuple(params)).fetchall()]


SEEK_FROM = 200  # an offset from which a page is sought by sequence number first


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
            write_index_rows(conn, dialect, indexes, sandbox, kind, key, int(seq), loads(doc))
        conn.execute(
            dialect.sql(
                "INSERT INTO index_catalog (kind, signature) VALUES (?, ?) "
                "ON CONFLICT (kind) DO UPDATE SET signature = excluded.signature"
            ),
            (kind, signatures[kind]),
        )
