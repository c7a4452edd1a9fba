"""Which backend a `db` setting names: a `postgresql://` (or `postgres://`) URL, else a SQLite file path."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from pruefstand.mock_server.store.indexing import Index
from pruefstand.mock_server.store.protocol import Store, StoreUnavailable
from pruefstand.mock_server.store.sqlite import SQLiteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(db: str) -> bool:
    return db.startswith(POSTGRES_SCHEMES)


def describe_store(db: str) -> str:
    """The `db` setting as the start banner shows it (a URL without its password)."""
    if is_postgres(db):
        from pruefstand.mock_server.store.postgres import redacted

        return redacted(db)
    return db


def check_store(db: str) -> None:
    """Open the state once and close it, so a wrong setting fails at start in one line (StoreUnavailable)."""
    open_store(db).close()


def open_store(db: str, *, indexes: list[Index] | None = None, wall_clock: Callable[[], float] = time.time) -> Store:
    if is_postgres(db):
        from pruefstand.mock_server.store.postgres import PostgresStore  # psycopg only when it is used

        return PostgresStore(db, indexes=indexes, wall_clock=wall_clock)
    try:
        return SQLiteStore(db, indexes=indexes, wall_clock=wall_clock)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StoreUnavailable(f"--db {db}: cannot open the SQLite state file: {reason}") from exc
