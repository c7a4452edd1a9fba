"""State of the mock: the unit-of-work and outbox ports, and their SQLite (embedded) and PostgreSQL backends."""

from pruefstand.mock_server.store.factory import open_store
from pruefstand.mock_server.store.indexing import Index, Range, instant_key, number_key
from pruefstand.mock_server.store.protocol import (
    FlowStore,
    OutboundMessage,
    Outbox,
    Reader,
    RecordExists,
    Store,
    StoreUnavailable,
    UnitOfWork,
)
from pruefstand.mock_server.store.sandbox_unit import SandboxUnit, SandboxView
from pruefstand.mock_server.store.sqlite import SQLiteStore

__all__ = [
    "FlowStore",
    "Index",
    "OutboundMessage",
    "Outbox",
    "Range",
    "Reader",
    "RecordExists",
    "SQLiteStore",
    "SandboxUnit",
    "SandboxView",
    "Store",
    "StoreUnavailable",
    "UnitOfWork",
    "instant_key",
    "number_key",
    "open_store",
]
