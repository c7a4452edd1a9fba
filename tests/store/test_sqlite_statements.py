"""SQLite statements name the kind as a literal: a bound kind compared with a partial index's condition (the kinds
looked up across sandboxes have partial indexes) makes SQLite plan the statement again at every execution."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from pruefstand.mock_server.store import Index, SQLiteStore


class _Recording:
    """The connection, recording the SQL text as the store passes it (before parameters are bound)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.statements: list[str] = []

    def execute(self, sql: str, params: Any = ()) -> Any:
        self.statements.append(sql)
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        self.statements.append(sql)
        return self._conn.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_reads_updates_and_deletes_of_records_and_index_rows_name_the_kind_as_a_literal(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db", indexes=[Index("order", "state", "state")])
    store.declare_across(["token"])  # a partial index on record_index and records, as the MaCo tokens have
    recording = _Recording(store._conn)
    store._conn = recording  # type: ignore[assignment]
    try:
        with store.transaction() as uow:
            uow.insert("a", "order", "1", {"state": "open"})
            uow.put("a", "order", "1", {"state": "done"})
            uow.put_many("a", "ring", [("0", {"n": 0})])
            assert uow.find("a", "order", {"state": "done"}) == [{"state": "done"}]
            assert uow.get("a", "order", "1") == {"state": "done"}
            assert uow.delete("a", "order", "1")
        assert store.find("a", "ring") == [{"n": 0}]
        assert store.count("a", "order", {"state": "done"}) == 0
    finally:
        store._conn = recording._conn
        store.close()
    on_records = [s for s in recording.statements if re.search(r"\b(records|record_index)\b", s)]
    planned = [s for s in on_records if not s.lstrip().upper().startswith("INSERT")]
    assert len(planned) >= 8, planned
    for sql in planned:
        assert not re.search(r"kind = \?", sql), sql
        assert re.search(r"kind = '(order|ring)'", sql), sql
