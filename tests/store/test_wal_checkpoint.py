"""The SQLite store checkpoints its write-ahead log beside the writers: requests never run SQLite's automatic
checkpoint, and under sustained writes the log still stays bounded."""

from __future__ import annotations

import gc
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from pruefstand.mock_server.store import SQLiteStore
from pruefstand.mock_server.store.checkpoint import WalCheckpointer

DOC = {"text": "x" * 3000}


def _write(store: SQLiteStore, n: int, prefix: str) -> None:
    for i in range(n):
        with store.transaction() as uow:
            uow.insert("default", "thing", f"{prefix}-{i}", DOC)


def test_the_stores_connection_never_checkpoints_inside_a_commit(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    try:
        assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        _write(store, 1, "a")
        assert store._checkpointer is not None
        assert store._checkpointer._thread is not None
    finally:
        store.close()
    assert store._checkpointer._thread is not None
    assert not store._checkpointer._thread.is_alive()


def test_the_log_is_copied_and_restarted_under_sustained_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SQLiteStore(path, checkpoint_beside=False)
    store._conn.execute("PRAGMA wal_autocheckpoint=0")
    checkpointer = WalCheckpointer(store, str(path), f"{path}.lock", every=0.01, restart_at_pages=200)
    store._checkpointer = checkpointer
    wal = Path(f"{path}-wal")
    try:
        for burst in range(30):  # 1,500 records of ~7 pages each: without restarts the log would pass 40 MB
            _write(store, 50, f"b{burst}")
            passes = checkpointer.passes
            while checkpointer.passes == passes:  # one pass after each burst, however busy the machine is
                time.sleep(0.005)
        assert checkpointer.restarts >= 5, (checkpointer.passes, checkpointer.restarts)
        # bounded by the restart size and what one pass lets through (a burst here, ~1.4 MB)
        assert wal.stat().st_size < 4 * 1024 * 1024, wal.stat().st_size
        with store.transaction() as uow:
            assert uow.count("default", "thing") == 1500
    finally:
        store.close()
    # what was committed is in the database file itself, read by a fresh connection
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM records WHERE kind = 'thing'").fetchone()[0] == 1500
    finally:
        conn.close()


def test_the_thread_ends_when_the_store_is_dropped(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    _write(store, 1, "c")
    checkpointer = store._checkpointer
    assert checkpointer is not None
    assert checkpointer._thread is not None
    thread = checkpointer._thread
    store._conn.close()
    del store
    gc.collect()  # the store's outbox refers back to it: a cycle
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_files_beside_the_database_stay_private(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    try:
        _write(store, 3, "d")
        time.sleep(0.1)
    finally:
        store.close()
    for name in ("state.db", "state.db.lock"):
        assert os.stat(tmp_path / name).st_mode & 0o077 == 0, name


def test_before_the_restart_the_files_are_flushed_through_sqlites_own_descriptors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flush before the locked restart fsyncs the database and its log through descriptors SQLite holds: it opens
    and closes none of its own (closing one would drop this process's POSIX locks on the file)."""
    path = tmp_path / "state.db"
    store = SQLiteStore(path, checkpoint_beside=False)
    checkpointer = WalCheckpointer(store, str(path), f"{path}.lock")
    synced: list[str] = []
    real_fsync = os.fsync

    def recording(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(os, "fsync", recording)

    def recording_open(p: Any, *a: Any, **k: Any) -> int:
        opened.append(str(p))
        return real_open(p, *a, **k)

    monkeypatch.setattr(os, "open", recording_open)
    try:
        _write(store, 5, "e")
        checkpointer._sync_files()
    finally:
        monkeypatch.undo()
        store.close()
    assert sorted(synced) == sorted([os.path.realpath(path), os.path.realpath(f"{path}-wal")])
    assert opened == []
