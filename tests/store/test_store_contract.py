"""One contract for every backend of the store (SQLite, PostgreSQL), as connexion runs its tests over app classes:
records by (sandbox, kind, key), indexed find with paging, atomic units of work, delete, counters, the outbox with
per-stream order, and two store instances (processes, replicas) on one database."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pruefstand.mock_server.store import (
    Index,
    OutboundMessage,
    Range,
    RecordExists,
    Store,
    UnitOfWork,
    instant_key,
    number_key,
    open_store,
)
from pruefstand.mock_server.store.migrations import migrations

INDEXES = [
    Index("order", "state", "state"),
    Index("order", "party", "relatedParty.id"),
    Index("order", "orderDate", "orderDate", instant=True),
    Index("order", "due", "due", numeric=True),
]
OpenStore = Callable[..., Store]


@pytest.fixture(params=["sqlite", "postgresql"])
def open_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens a store on this test's database; each call is another instance (another process or replica)."""
    db = str(tmp_path / "s.db") if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened: list[Store] = []

    def open_one(**kwargs: Any) -> Store:
        store = open_store(db, indexes=kwargs.pop("indexes", INDEXES), **kwargs)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(open_db: OpenStore) -> Store:
    return open_db()


def test_records_are_kept_per_sandbox_and_located_across_them(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("a", "k", "1", {"v": 1})
        uow.put("b", "k", "2", {"v": 2})
        assert uow.get("a", "k", "1") == {"v": 1}  # a unit of work reads its own writes
    assert store.get("a", "k", "1") == {"v": 1}
    assert store.get("b", "k", "1") is None
    assert store.locate("k", "2") == ("b", {"v": 2})
    assert store.locate("k", "3") is None


def test_find_by_indexed_fields_in_insertion_order_with_paging(store: Store) -> None:
    with store.transaction() as uow:
        for i, state in enumerate(["open", "done", "open", "open", "done"]):
            uow.insert("s", "order", f"o{i}", {"i": i, "state": state, "relatedParty": [{"id": f"p{i % 2}"}]})
        uow.insert("other", "order", "x", {"i": 99, "state": "open"})
    assert [d["i"] for d in store.find("s", "order")] == [0, 1, 2, 3, 4]
    assert [d["i"] for d in store.find("s", "order", {"state": "open"})] == [0, 2, 3]
    assert [d["i"] for d in store.find("s", "order", {"state": "open"}, limit=2, offset=1)] == [2, 3]
    assert [d["i"] for d in store.find("s", "order", {"state": "open"}, descending=True, limit=1)] == [3]
    assert [d["i"] for d in store.find("s", "order", {"state": ["open", "done"]}, limit=3)] == [0, 1, 2]
    assert [d["i"] for d in store.find("s", "order", {"party": "p1"})] == [1, 3]  # through a list
    assert [d["i"] for d in store.find("s", "order", {"party": "p0", "state": "open"})] == [0, 2]
    assert store.count("s", "order") == 5
    assert store.count("s", "order", {"state": "open"}) == 3
    assert store.count("s", "order", {"state": "gone"}) == 0


def test_a_deep_offset_is_sought_and_gives_the_same_page(store: Store) -> None:
    """From queries.SEEK_FROM on, a page is sought by sequence number first: the same records as the plain offset."""
    with store.transaction() as uow:
        for i in range(600):
            uow.insert("s", "order", f"o{i}", {"i": i, "state": "open" if i % 3 else "done"})
        uow.insert("other", "order", "x", {"i": 999, "state": "open"})
    every = [d["i"] for d in store.find("s", "order")]
    assert [d["i"] for d in store.find("s", "order", limit=10, offset=590)] == every[590:600]
    assert [d["i"] for d in store.find("s", "order", limit=10, offset=595)] == every[595:600]
    assert store.find("s", "order", limit=10, offset=600) == []
    assert [d["i"] for d in store.find("s", "order", limit=5, offset=300, descending=True)] == every[::-1][300:305]
    opened = [d["i"] for d in store.find("s", "order", {"state": "open"})]
    assert [d["i"] for d in store.find("s", "order", {"state": "open"}, limit=7, offset=390)] == opened[390:397]
    both = {"state": ["open", "done"]}
    assert [d["i"] for d in store.find("s", "order", both, limit=4, offset=500)] == every[500:504]


def test_instants_compare_in_time_whatever_the_offset(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("s", "order", "a", {"orderDate": "2022-05-11T10:30:00+02:00"})
        uow.insert("s", "order", "b", {"orderDate": "2022-05-11T09:00:00Z"})
    same_instant = instant_key("2022-05-11T08:30:00Z")
    assert same_instant is not None
    assert [d["orderDate"] for d in store.find("s", "order", {"orderDate": same_instant})] == [
        "2022-05-11T10:30:00+02:00"
    ]
    after = Range(gt=instant_key("2022-05-11T08:45:00+00:00"))
    assert [d["orderDate"] for d in store.find("s", "order", {"orderDate": after})] == ["2022-05-11T09:00:00Z"]


def test_numbers_compare_by_value(store: Store) -> None:
    """A numeric index (the TMF622 plans' nextDue): 9.5 is before 10 and 100.25, as text it would not be."""
    with store.transaction() as uow:
        for key, due in (("a", 100.25), ("b", 9.5), ("c", 10), ("d", 1_767_254_400.5), ("e", "soon")):
            uow.insert("s", "order", key, {"due": due})
    due_by_ten = store.find("s", "order", {"due": Range(lte=number_key(10.0))})
    assert sorted(str(d["due"]) for d in due_by_ten) == ["10", "9.5"]
    later = store.find("s", "order", {"due": Range(gt=number_key(100.0))})
    assert sorted(str(d["due"]) for d in later) == ["100.25", "1767254400.5"]  # a text value is not a number: absent


def test_find_on_a_field_without_index_is_a_programming_error(store: Store) -> None:
    with pytest.raises(ValueError, match="not indexed"):
        store.find("s", "order", {"colour": "red"})


def test_put_replaces_the_document_and_its_index_rows(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("s", "order", "1", {"state": "open"})
        uow.insert("s", "order", "2", {"state": "open"})
    with store.transaction() as uow:
        uow.put("s", "order", "1", {"state": "done"})
    assert store.find("s", "order", {"state": "open"}) == [{"state": "open"}]
    assert store.find("s", "order", {"state": "done"}) == [{"state": "done"}]
    assert [d["state"] for d in store.find("s", "order")] == ["done", "open"]  # a put keeps the record's place


def test_delete_removes_the_record_and_its_index_rows(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("s", "order", "1", {"state": "open"})
    with store.transaction() as uow:
        assert uow.delete("s", "order", "1") is True
        assert uow.delete("s", "order", "1") is False
    assert store.get("s", "order", "1") is None
    assert store.find("s", "order", {"state": "open"}) == []


def test_the_unfiltered_count_follows_inserts_puts_deletes_resets_and_rollbacks(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("s", "order", "1", {"state": "open"})
        uow.put("s", "order", "2", {"state": "open"})  # new through put
        uow.put("s", "order", "2", {"state": "done"})  # replaced: still one
        uow.put("t", "order", "1", {})
    assert (store.count("s", "order"), store.count("t", "order"), store.count("s", "other")) == (2, 1, 0)

    def insert_new_then_taken() -> None:
        with store.transaction() as uow:
            uow.insert("s", "order", "3", {})
            uow.insert("s", "order", "1", {})

    with pytest.raises(RecordExists):
        insert_new_then_taken()
    assert store.count("s", "order") == 2  # the rolled-back insert is not counted
    with store.transaction() as uow:
        uow.delete("s", "order", "1")
        uow.delete("s", "order", "nothing")
    assert store.count("s", "order") == 1
    store.reset_sandbox("s")
    assert (store.count("s", "order"), store.count("t", "order")) == (0, 1)


def test_a_failed_unit_of_work_leaves_nothing(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("a", "k", "taken", {})

    def insert_new_then_taken() -> None:
        with store.transaction() as uow:
            uow.insert("a", "k", "new", {})
            uow.next_counter("a", "n")
            uow.publish("a", OutboundMessage("s", "t", "http://127.0.0.1/x", {}))
            uow.insert("a", "k", "taken", {})

    with pytest.raises(RecordExists):
        insert_new_then_taken()
    assert store.get("a", "k", "new") is None
    assert store.outbox.journal("a") == []
    with store.transaction() as uow:
        assert uow.next_counter("a", "n") == 1  # the failed unit's increment went with it: no gap


def test_a_refused_insert_leaves_the_unit_of_work_usable(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("a", "k", "taken", {"v": 1})
    with store.transaction() as uow:
        with pytest.raises(RecordExists, match="already exists"):
            uow.insert("a", "k", "taken", {"v": 2})
        uow.insert("a", "k", "other", {"v": 3})
    assert store.get("a", "k", "taken") == {"v": 1}
    assert store.get("a", "k", "other") == {"v": 3}


def test_reset_removes_one_sandbox_and_keeps_counters(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("a", "order", "1", {"state": "open"})
        uow.insert("b", "order", "1", {"state": "open"})
        uow.publish("a", OutboundMessage("s", "t", "http://127.0.0.1/x", {}))
        assert [uow.next_counter("a", "n") for _ in range(3)] == [1, 2, 3]
    assert store.reset_sandbox("a") == 1
    assert store.find("a", "order", {"state": "open"}) == []
    assert store.get("b", "order", "1") == {"state": "open"}
    assert store.outbox.journal("a") == []
    with store.transaction() as uow:
        assert uow.next_counter("a", "n") == 4


def test_counters_taken_at_once_continue_the_sequence_without_gap(store: Store) -> None:
    with store.transaction() as uow:
        assert uow.next_counter("a", "n") == 1
        assert list(uow.take_counters("a", "n", 3)) == [2, 3, 4]
        assert list(uow.take_counters("fresh", "n", 2)) == [1, 2]
        assert uow.next_counter("a", "n") == 5


def test_records_counters_and_migrations_survive_reopening(open_db: OpenStore) -> None:
    first = open_db()
    with first.transaction() as uow:
        uow.insert("a", "order", "1", {"state": "open"})
        assert uow.next_counter("a", "n") == 1
    first.close()
    again = open_db()
    assert again.find("a", "order", {"state": "open"}) == [{"state": "open"}]
    with again.transaction() as uow:
        assert uow.next_counter("a", "n") == 2


def test_records_written_before_an_index_was_declared_are_found_through_it(open_db: OpenStore) -> None:
    before = open_db(indexes=[])
    with before.transaction() as uow:
        uow.insert("a", "order", "1", {"state": "open"})
    before.close()
    assert open_db().find("a", "order", {"state": "open"}) == [{"state": "open"}]


def test_sandboxes_with_a_value_come_from_the_index(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("a", "order", "1", {"state": "open"})
        uow.insert("b", "order", "1", {"state": "done"})
        uow.insert("c", "order", "1", {"state": "open"})
    assert store.sandboxes_with("order", "state", "open") == ["a", "c"]


def test_publish_wakes_listeners_after_commit_only(store: Store) -> None:
    woken: list[int] = []
    store.on_publish(lambda: woken.append(len(store.outbox.journal("a"))))
    with store.transaction() as uow:
        uow.put("a", "k", "1", {})
    assert woken == []

    def publish_then_fail() -> None:
        with store.transaction() as uow:
            uow.publish("a", OutboundMessage("s", "t", "http://127.0.0.1/x", {"n": 0}))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        publish_then_fail()
    assert woken == []
    with store.transaction() as uow:
        uow.publish("a", OutboundMessage("s", "t", "http://127.0.0.1/x", {"n": 1}, {"Authorization": "Bearer x"}))
    assert woken == [1]  # the message was committed when the listener ran
    [delivery] = store.outbox.journal("a")
    assert (delivery["payload"], delivery["status"], delivery["kind"]) == ({"n": 1}, "pending", "t")


def _publish(store: Store, stream: str, n: int, sandbox: str = "a") -> None:
    with store.transaction() as uow:
        for i in range(n):
            uow.publish(sandbox, OutboundMessage(stream, "t", "http://127.0.0.1/x", {"n": i}))


def _attempt(status: str, at: float = 2_000.0) -> dict[str, Any]:
    return {"at": at, "status_code": 200 if status == "delivered" else 500, "error": None, "latency_ms": 1.0}


def test_only_the_head_of_each_stream_is_claimed(open_db: OpenStore) -> None:
    store = open_db(wall_clock=lambda: 1_000.0)
    _publish(store, "s1", 3)
    _publish(store, "s2", 1)
    claimed = store.outbox.claim_due(1_000.0, "w", 30, limit=10)
    assert sorted((d["stream"], d["payload"]["n"]) for d in claimed) == [("s1", 0), ("s2", 0)]
    assert store.outbox.claim_due(1_000.0, "other", 30, limit=10) == []  # heads are leased, the rest waits
    head = next(d for d in claimed if d["stream"] == "s1")
    assert store.outbox.finish_attempt(head["id"], "w", _attempt("delivered"), "delivered", 1_000.0)
    [following] = store.outbox.claim_due(1_000.0, "w", 30, limit=10)
    assert (following["stream"], following["payload"]["n"]) == ("s1", 1)


def test_a_dead_head_holds_its_stream_until_redelivered(open_db: OpenStore) -> None:
    store = open_db(wall_clock=lambda: 1_000.0)
    _publish(store, "s1", 2)
    [head] = store.outbox.claim_due(1_000.0, "w", 30, limit=10)
    assert store.outbox.finish_attempt(head["id"], "w", _attempt("dead"), "dead", 1_000.0)
    assert store.outbox.claim_due(5_000.0, "w", 30, limit=10) == []  # nothing overtakes the dead one
    assert store.outbox.redeliver_dead("a", 5_000.0) == 1
    [again] = store.outbox.claim_due(5_000.0, "w", 30, limit=10)
    assert (again["id"], again["attempts"]) == (head["id"], 0)  # the same message, a fresh round of attempts
    journal = store.outbox.journal("a")
    assert [len(d["attempts"]) for d in journal] == [1, 0]  # the journal keeps the dead attempt


def test_an_expired_lease_makes_the_delivery_due_again_and_the_late_finisher_is_refused(open_db: OpenStore) -> None:
    store = open_db(wall_clock=lambda: 1_000.0)
    _publish(store, "s1", 1)
    [claimed] = store.outbox.claim_due(1_000.0, "dying", 30, limit=10)
    [reclaimed] = open_db().outbox.claim_due(1_031.0, "survivor", 30, limit=10)
    assert reclaimed["id"] == claimed["id"]
    assert not store.outbox.finish_attempt(claimed["id"], "dying", _attempt("delivered"), "delivered", 1_031.0)
    assert store.outbox.finish_attempt(claimed["id"], "survivor", _attempt("delivered"), "delivered", 1_031.0)
    assert [d["status"] for d in store.outbox.journal("a")] == ["delivered"]


def test_two_instances_share_counters_without_gap_or_duplicate(open_db: OpenStore) -> None:
    replicas = [open_db(), open_db()]

    def take(i: int) -> int:
        with replicas[i % 2].transaction() as uow:
            return uow.next_counter("a", "receipt")

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(take, range(200)))
    assert sorted(numbers) == list(range(1, 201))


def test_two_instances_racing_to_insert_one_key_give_one_record(open_db: OpenStore) -> None:
    replicas = [open_db(), open_db()]
    start = threading.Barrier(10)

    def claim(i: int) -> bool:
        start.wait()
        try:
            with replicas[i % 2].transaction() as uow:
                if uow.get("a", "k", "once") is not None:
                    return False
                uow.insert("a", "k", "once", {"by": i})
            return True
        except RecordExists:
            return False

    with ThreadPoolExecutor(max_workers=10) as pool:
        won = list(pool.map(claim, range(10)))
    assert won.count(True) == 1


def test_read_modify_writes_of_one_sandbox_never_interleave_across_instances(open_db: OpenStore) -> None:
    replicas = [open_db(), open_db()]
    with replicas[0].transaction() as uow:
        uow.put("a", "k", "tally", {"n": 0})

    def bump(i: int) -> None:
        with replicas[i % 2].transaction() as uow:
            tally = uow.get("a", "k", "tally") or {"n": 0}
            uow.put("a", "k", "tally", {"n": tally["n"] + 1})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(bump, range(100)))
    assert replicas[0].get("a", "k", "tally") == {"n": 100}


def test_the_sqlite_state_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "state.db"))
    with store.transaction() as uow:
        uow.put("a", "k", "1", {"secret": "key"})
    store.close()
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, path.name


def test_a_state_file_from_before_the_migrations_is_upgraded_in_place(tmp_path: Path) -> None:
    """The schema the landed main wrote (no schema_migrations, records without seq): records, order and counters
    survive, and the records are found through the indexes declared now."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE records (sandbox TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, "
            "PRIMARY KEY (sandbox, kind, key));"
            "CREATE INDEX records_by_kind_key ON records (kind, key);"
            "CREATE TABLE counters (sandbox TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, "
            "PRIMARY KEY (sandbox, name));"
            "INSERT INTO records VALUES ('a', 'order', 'z', '{\"state\": \"open\"}');"
            "INSERT INTO records VALUES ('a', 'order', 'b', '{\"state\": \"done\"}');"
            "INSERT INTO counters VALUES ('a', 'n', 7);"
        )
    store = open_store(str(path), indexes=INDEXES)
    try:
        assert store.find("a", "order") == [{"state": "open"}, {"state": "done"}]  # insertion order kept
        assert store.find("a", "order", {"state": "done"}) == [{"state": "done"}]
        assert store.count("a", "order") == 2
        with store.transaction() as uow:
            assert uow.next_counter("a", "n") == 8
    finally:
        store.close()


def test_a_state_file_of_schema_version_4_keeps_its_records_seq_and_index_rows_without_autoincrement(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v4.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
        for migration in migrations("sqlite")[:4]:
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (migration.version, migration.name))
        conn.execute(
            "INSERT INTO records (sandbox, kind, key, doc) VALUES ('a', 'order', 'z', '{\"state\": \"open\"}')"
        )
        conn.execute(
            "INSERT INTO records (sandbox, kind, key, doc) VALUES ('a', 'order', 'b', '{\"state\": \"done\"}')"
        )
        seqs = dict(conn.execute("SELECT key, seq FROM records").fetchall())
    store = open_store(str(path), indexes=INDEXES)  # the index rows are written at the declaration, by seq
    try:
        with store.transaction() as uow:
            uow.insert("a", "order", "c", {"state": "open"})
        assert [d["state"] for d in store.find("a", "order")] == ["open", "done", "open"]
        assert len(store.find("a", "order", {"state": "open"})) == 2
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert dict(conn.execute("SELECT key, seq FROM records WHERE key IN ('z', 'b')").fetchall()) == seqs
        table = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'records'").fetchone()[0]
        assert "AUTOINCREMENT" not in table.upper()
        assert conn.execute("SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'records'").fetchone()[0] == 0
        assert max(int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")) >= 6
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE tbl_name = 'record_index'")}
        assert "record_index_by_key" not in indexes  # index rows are removed by their own key


def test_a_record_inserted_after_the_newest_was_deleted_is_listed_and_found_as_the_newest(store: Store) -> None:
    """Without AUTOINCREMENT (SQLite) the freed number may be given again: nothing of the deleted record may cling
    to it."""
    with store.transaction() as uow:
        uow.insert("a", "order", "1", {"state": "open"})
        uow.insert("a", "order", "2", {"state": "done"})
    with store.transaction() as uow:
        assert uow.delete("a", "order", "2")
    with store.transaction() as uow:
        uow.insert("a", "order", "3", {"state": "open"})
    assert store.find("a", "order") == [{"state": "open"}, {"state": "open"}]
    assert store.find("a", "order", {"state": "done"}) == []
    assert store.find("a", "order", {"state": "open"}, descending=True, limit=1) == [{"state": "open"}]
    assert store.count("a", "order") == 2
    assert store.get("a", "order", "2") is None


def test_index_rows_follow_updates_and_deletes_whether_or_not_the_record_was_read_first(store: Store) -> None:
    order = {"state": "open", "relatedParty": [{"id": "p1"}, {"id": "p2"}]}
    with store.transaction() as uow:
        uow.insert("a", "order", "read", order)
        uow.insert("a", "order", "blind", order)
        uow.insert("a", "order", "gone", order)
    with store.transaction() as uow:
        read = uow.get("a", "order", "read")
        assert read is not None
        read["state"] = "done"  # the caller changes the document it got, then puts it
        read["relatedParty"] = [{"id": "p2"}, {"id": "p3"}]
        uow.put("a", "order", "read", read)
        uow.put("a", "order", "blind", {"state": "done", "relatedParty": [{"id": "p1"}]})  # not read before
        assert uow.delete("a", "order", "gone")
    assert store.find("a", "order", {"state": "open"}) == []
    assert [d["relatedParty"] for d in store.find("a", "order", {"state": "done"})] == [
        [{"id": "p2"}, {"id": "p3"}],
        [{"id": "p1"}],
    ]
    assert len(store.find("a", "order", {"party": "p1"})) == 1  # "blind" only: "read" and "gone" left p1
    assert len(store.find("a", "order", {"party": "p2"})) == 1
    assert len(store.find("a", "order", {"party": "p3"})) == 1
    assert store.count("a", "order", {"party": ["p1", "p2", "p3"]}) == 2


def test_index_rows_of_a_part_undone_by_a_savepoint_are_not_taken_for_the_stored_ones(store: Store) -> None:
    with store.transaction() as uow:
        uow.insert("a", "order", "1", {"state": "open"})

    def undone_part(uow: UnitOfWork) -> None:
        with uow.savepoint():
            uow.put("a", "order", "1", {"state": "done"})
            raise RuntimeError("this part is undone")

    with store.transaction() as uow:
        assert uow.get("a", "order", "1") == {"state": "open"}
        with pytest.raises(RuntimeError, match="undone"):
            undone_part(uow)
        uow.put("a", "order", "1", {"state": "closed"})
    assert store.find("a", "order", {"state": "closed"}) == [{"state": "closed"}]
    assert store.find("a", "order", {"state": "open"}) == []
    assert store.find("a", "order", {"state": "done"}) == []


def test_put_many_adds_and_replaces_in_one_statement_and_keeps_the_count(store: Store) -> None:
    with store.transaction() as uow:
        uow.put_many("a", "ring", [("0", {"n": 0}), ("1", {"n": 1})])
    with store.transaction() as uow:  # one replaced, one new, one given twice (the last one counts)
        uow.put_many("a", "ring", [("1", {"n": 11}), ("2", {"n": 2}), ("2", {"n": 22})])
        uow.put_many("a", "ring", [])
    assert [d["n"] for d in store.find("a", "ring")] == [0, 11, 22]
    assert store.count("a", "ring") == 3
    assert store.count("b", "ring") == 0
    with store.transaction() as uow:  # an indexed kind keeps its index rows
        uow.put_many("a", "order", [("o1", {"state": "acknowledged"}), ("o2", {"state": "completed"})])
        uow.put_many("a", "order", [("o1", {"state": "completed"})])
    assert [d["state"] for d in store.find("a", "order", {"state": "completed"})] == ["completed", "completed"]
    assert store.count("a", "order", {"state": "acknowledged"}) == 0


def test_documents_round_trip_whatever_json_they_hold(store: Store) -> None:
    """Written with orjson where it can, with the standard library where it cannot (integers beyond 64 bits)."""
    docs = {
        "text": {
            "name": "Ludwig von Auto GmbH – Zählpunkt ÄÖÜß €",
            "emoji": "⚡",
            "empty": "",
            "nul": "a\u0000b",
        },
        "numbers": {
            "big": 2**70 + 1,
            "quantity": 371783312863615100000,
            "negative": -(2**65) - 3,
            "float": 0.1,
            "tiny": 1e-07,
            "int": 7,
            "zero": 0.0,
        },
        "nested": {"list": [1, [2, {"x": None}], True, False], "deep": {"a": {"b": {"c": []}}}},
    }
    with store.transaction() as uow:
        for key, doc in docs.items():
            uow.insert("a", "json", key, doc)  # type: ignore[arg-type]
    for key, doc in docs.items():
        assert store.get("a", "json", key) == doc
    numbers = store.get("a", "json", "numbers")
    assert numbers is not None
    assert isinstance(numbers["quantity"], int)  # not read back as a float


def test_kinds_declared_for_lookups_across_sandboxes_are_found_as_before(store: Store) -> None:
    store.declare_across(["token", "plan"])
    store.declare_indexes([Index("plan", "mode", "mode")])
    with store.transaction() as uow:
        uow.insert("a", "token", "t1", {"v": 1})
        uow.insert("b", "token", "t2", {"v": 2})
        uow.insert("a", "plan", "p1", {"mode": "auto"})
        uow.insert("c", "plan", "p2", {"mode": "auto"})
        uow.insert("b", "plan", "p3", {"mode": "manual"})
    assert store.locate("token", "t2") == ("b", {"v": 2})
    assert store.locate("token", "t3") is None
    assert store.sandboxes_with("plan", "mode", "auto") == ["a", "c"]
    store.declare_across(["token"])  # again: nothing changes
    assert store.locate("token", "t1") == ("a", {"v": 1})


def test_sqlite_looks_up_declared_kinds_through_their_partial_indexes(tmp_path: Path) -> None:
    """Each record and index row no longer pays an index entry for lookups across sandboxes; the few kinds that
    need them get partial indexes, and the lookups use them (not a scan)."""
    store = open_store(str(tmp_path / "s.db"), indexes=[Index("plan", "mode", "mode")])
    try:
        store.declare_across(["token", "plan"])
        conn = store._conn  # type: ignore[attr-defined]
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()}
        assert "records_by_kind_key" not in names
        assert "record_index_by_value" not in names
        # the conditions exactly as locate and sandboxes_with write them
        token_is, token_params = store._kind_is("token")  # type: ignore[attr-defined]
        located = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT sandbox, doc FROM records WHERE {token_is} AND key = ? LIMIT 1",
            (*token_params, "k"),
        ).fetchall()
        assert "records_across_" in str(located), located
        plan_is, plan_params = store._kind_is("plan")  # type: ignore[attr-defined]
        across = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT DISTINCT sandbox FROM record_index WHERE {plan_is} AND field = ? AND value = ?",
            (*plan_params, "mode", "auto"),
        ).fetchall()
        assert "record_index_across_" in str(across), across
    finally:
        store.close()


def test_put_many_counts_right_beyond_one_statements_parameters(store: Store) -> None:
    """A journal batch can be larger than one IN list takes (journal_size is the user's): counted in parts."""
    with store.transaction() as uow:
        uow.put_many("a", "ring", [(str(n), {"n": n}) for n in range(600)])
    with store.transaction() as uow:
        uow.put_many("a", "ring", [(str(n), {"n": -n}) for n in range(1200)])
    assert store.count("a", "ring") == 1200
    assert store.get("a", "ring", "599") == {"n": -599}


def test_next_due_is_the_earliest_retry_or_lease_after_the_claim(store: Store) -> None:
    """What an idle delivery worker sleeps until: the next retry or lapsing lease later than its last claim; rows due
    already (waiting behind their stream's head) do not count, and nothing open gives None."""
    assert store.outbox.next_due(1_000.0) is None
    with store.transaction() as uow:
        for n, stream in enumerate(("s1", "s1", "s2", "s3")):
            uow.publish("a", OutboundMessage(stream, "t", "http://127.0.0.1:9/x", {"n": n}))
    [head, second, other, third] = store.outbox.journal("a")
    now = time.time()
    claimed = store.outbox.claim_due(now, "w", 30.0, limit=10)
    assert sorted(d["id"] for d in claimed) == [head["id"], other["id"], third["id"]]
    attempt = {"at": now, "status_code": 500, "error": "answered 500", "latency_ms": 1.0}
    assert store.outbox.finish_attempt(int(other["id"]), "w", attempt, "pending", now + 60)
    assert store.outbox.finish_attempt(int(third["id"]), "w", attempt, "pending", now + 5)
    # the second message of s1 is due already but waits behind its head, which is sending until now + 30
    assert store.outbox.next_due(now) == pytest.approx(now + 5)
    assert store.outbox.next_due(now + 10) == pytest.approx(now + 30)
    assert store.outbox.next_due(now + 40) == pytest.approx(now + 60)
    assert store.outbox.next_due(now + 70) is None
    assert second["status"] == "pending"
