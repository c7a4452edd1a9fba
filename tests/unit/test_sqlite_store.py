"""The SQLite store: records by (sandbox, kind, key), atomic units of work, counters, several writers on one file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mock_server.store import RecordExists, SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "s.db")


def test_records_are_kept_per_sandbox(store: SQLiteStore) -> None:
    with store.transaction() as uow:
        uow.insert("a", "k", "1", {"v": 1})
        uow.put("b", "k", "1", {"v": 2})
    assert store.get("a", "k", "1") == {"v": 1}
    assert store.get("b", "k", "1") == {"v": 2}
    assert store.locate("k", "1") in (("a", {"v": 1}), ("b", {"v": 2}))
    assert store.find("a", "k", {"v": "1"}) == []  # values compare as stored (1 is a number)


def test_find_filters_and_keeps_insertion_order(store: SQLiteStore) -> None:
    with store.transaction() as uow:
        for i, name in enumerate(["x", "y", "x"]):
            uow.insert("a", "k", str(i), {"name": name, "i": i})
    assert [d["i"] for d in store.find("a", "k", {"name": "x"})] == [0, 2]
    assert [d["i"] for d in store.find("a", "k")] == [0, 1, 2]


def test_a_failed_unit_of_work_leaves_nothing(store: SQLiteStore) -> None:
    with store.transaction() as uow:
        uow.insert("a", "k", "taken", {})

    def insert_new_then_taken() -> None:
        with store.transaction() as uow:
            uow.insert("a", "k", "new", {})
            uow.insert("a", "k", "taken", {})

    with pytest.raises(RecordExists):
        insert_new_then_taken()
    assert store.get("a", "k", "new") is None


def test_reset_removes_one_sandbox_and_keeps_counters(store: SQLiteStore) -> None:
    with store.transaction() as uow:
        uow.insert("a", "k", "1", {})
        uow.insert("b", "k", "1", {})
        assert [uow.next_counter("a", "n") for _ in range(3)] == [1, 2, 3]
    assert store.reset_sandbox("a") == 1
    assert store.get("b", "k", "1") == {}
    with store.transaction() as uow:
        assert uow.next_counter("a", "n") == 4


def test_state_survives_reopening(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "s.db")
    with first.transaction() as uow:
        uow.insert("a", "k", "1", {"kept": True})
        uow.next_counter("a", "n")
    first.close()
    second = SQLiteStore(tmp_path / "s.db")
    assert second.get("a", "k", "1") == {"kept": True}
    with second.transaction() as uow:
        assert uow.next_counter("a", "n") == 2


def test_two_writers_on_one_file_lose_nothing_and_never_repeat_a_number(tmp_path: Path) -> None:
    stores = [SQLiteStore(tmp_path / "s.db"), SQLiteStore(tmp_path / "s.db")]
    numbers: list[int] = []

    def write(store: SQLiteStore, worker: int) -> None:
        for i in range(200):
            with store.transaction() as uow:
                numbers.append(uow.next_counter("a", "n"))
                uow.insert("a", "k", f"{worker}-{i}", {"worker": worker})

    threads = [threading.Thread(target=write, args=(s, w)) for w, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 401))
    assert len(stores[0].find("a", "k")) == 400
