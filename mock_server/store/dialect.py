"""What the SQL backends differ in (`Dialect`), the DB-API shapes they share, and how documents become JSON text."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from pruefstand.mock_server.store.protocol import Document


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: Any = ...) -> Any: ...


@dataclass(frozen=True)
class Dialect:
    """`param` is the placeholder (`?` or `%s`); `lock_sandbox` serialises the writers of one sandbox where the
    engine does not already serialise all writers; `skip_locked` is appended to the outbox claim; `notify` tells
    the other processes that deliveries are due."""

    name: str
    param: str
    lock_sandbox: Callable[[Connection, str], None]
    skip_locked: str = ""
    literal_kinds: bool = False
    # run in a transaction that made deliveries due, delivered to the other processes on commit (PostgreSQL: NOTIFY
    # on the outbox channel; SQLite: none, each process wakes its own worker)
    notify: Callable[[Connection], None] | None = None

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


def loads(text: Any) -> Document:
    # the standard library: orjson reads an integer beyond 64 bits as a float (a quantity of 10^20 would come back
    # as 1e+20, no longer an integer)
    return dict(json.loads(text)) if isinstance(text, str | bytes) else dict(text)
