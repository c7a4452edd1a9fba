"""State of the mock: the Store protocol and its embedded SQLite implementation."""

from mock_server.store.protocol import RecordExists, Store, UnitOfWork
from mock_server.store.sqlite import SQLiteStore

__all__ = ["RecordExists", "SQLiteStore", "Store", "UnitOfWork"]
