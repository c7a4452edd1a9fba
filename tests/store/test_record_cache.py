"""Reads of the cached kinds (clock, tokens, backend) come from memory only while no process changed one since: two
stores on one SQLite file stand for two worker processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pruefstand.mock_server.store import SQLiteStore

KIND = "clock"
Pair = tuple[SQLiteStore, SQLiteStore]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    first, second = SQLiteStore(tmp_path / "state.db"), SQLiteStore(tmp_path / "state.db")
    for store in (first, second):
        store.declare_cached([KIND, "token"])
    yield first, second
    first.close()
    second.close()


def _put(store: SQLiteStore, sandbox: str, kind: str, key: str, doc: dict[str, object]) -> None:
    with store.transaction() as uow:
        uow.put(sandbox, kind, key, doc)


def test_a_change_committed_by_one_process_is_read_by_the_other(pair: Pair) -> None:
    first, second = pair
    _put(first, "s", KIND, "clock", {"offset": 1})
    assert second.get("s", KIND, "clock") == {"offset": 1}
    assert second.get("s", KIND, "clock") == {"offset": 1}  # now from memory
    _put(first, "s", KIND, "clock", {"offset": 2})
    assert second.get("s", KIND, "clock") == {"offset": 2}


def test_a_cached_read_is_served_without_the_database(pair: Pair) -> None:
    first, second = pair
    _put(first, "s", KIND, "clock", {"offset": 5})
    assert second.get("s", KIND, "clock") == {"offset": 5}
    # behind the store's back (no commit through a store: the generation does not move): the cache answers
    second._conn.execute("UPDATE records SET doc = '{\"offset\": 99}' WHERE kind = 'clock'")
    assert second.get("s", KIND, "clock") == {"offset": 5}
    # an uncached kind is always read through
    _put(first, "s", "other", "k", {"v": 1})
    second._conn.execute("UPDATE records SET doc = '{\"v\": 2}' WHERE kind = 'other'")
    assert second.get("s", "other", "k") == {"v": 2}


def test_an_absent_record_is_cached_until_someone_writes_it(pair: Pair) -> None:
    first, second = pair
    assert second.get("s", KIND, "clock") is None
    # written behind the stores' back (the generation does not move): still absent as far as the cache knows
    second._conn.execute(
        "INSERT INTO records (sandbox, kind, key, doc) VALUES ('s', 'clock', 'clock', '{\"offset\": 9}')"
    )
    assert second.get("s", KIND, "clock") is None
    second._conn.execute("DELETE FROM records WHERE kind = 'clock'")
    _put(first, "s", KIND, "clock", {"offset": 3})
    assert second.get("s", KIND, "clock") == {"offset": 3}


def test_a_transaction_reads_its_own_write_and_a_rollback_leaves_the_old_value(pair: Pair) -> None:
    first, _second = pair
    _put(first, "s", KIND, "clock", {"offset": 1})
    assert first.get("s", KIND, "clock") == {"offset": 1}
    with first.transaction() as uow:
        uow.put("s", KIND, "clock", {"offset": 2})
        assert uow.get("s", KIND, "clock") == {"offset": 2}
        assert first.get("s", KIND, "clock") == {"offset": 2}
    assert first.get("s", KIND, "clock") == {"offset": 2}

    def rolled_back() -> None:
        with first.transaction() as uow:
            uow.put("s", KIND, "clock", {"offset": 3})
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert first.get("s", KIND, "clock") == {"offset": 2}


def test_a_sandbox_reset_elsewhere_forgets_its_tokens(pair: Pair) -> None:
    first, second = pair
    _put(first, "s", "token", "digest", {"expires_at": 1})
    assert second.locate("token", "digest") == ("s", {"expires_at": 1})
    first.reset_sandbox("s")
    assert second.locate("token", "digest") is None


def test_an_unknown_token_is_not_remembered_as_unknown(pair: Pair) -> None:
    first, second = pair
    assert second.locate("token", "later") is None
    _put(first, "s", "token", "later", {"expires_at": 2})
    assert second.locate("token", "later") == ("s", {"expires_at": 2})


def test_the_generation_file_is_private(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    store.close()
    assert (tmp_path / "state.db.gen").stat().st_mode & 0o077 == 0
