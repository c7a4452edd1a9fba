"""Group commit: work arriving on one loop while a commit runs shares the next transaction; a piece that raises is
undone alone; nobody is answered before the commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pruefstand.mock_server.kernel.errors import Conflict
from pruefstand.mock_server.store import SQLiteStore, Store, UnitOfWork, open_store
from pruefstand.mock_server.store.group_commit import GroupCommit


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    db = str(tmp_path / "s.db") if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = open_store(db, indexes=[])
    yield opened
    opened.close()


def _insert(key: str) -> object:
    def work(uow: UnitOfWork) -> str:
        uow.insert("s", "thing", key, {"key": key})
        return key

    return work


def _refused(key: str) -> object:
    def work(uow: UnitOfWork) -> str:
        uow.insert("s", "thing", key, {"key": key})
        raise Conflict(f"{key} refused after writing")

    return work


def test_work_arriving_together_commits_together_and_each_gets_its_result(store: Store) -> None:
    commits = GroupCommit(store)

    async def main() -> list[object]:
        return await asyncio.gather(*(commits.run(_insert(f"k{i}")) for i in range(20)))  # type: ignore[arg-type]

    assert asyncio.run(main()) == [f"k{i}" for i in range(20)]
    assert store.count("s", "thing") == 20
    assert commits.pieces == 20
    if store.groups_commits:  # SQLite: one writer at a time, one transaction for the lot
        assert commits.groups == 1
    else:  # PostgreSQL replicas keep writers apart: one transaction each
        assert commits.groups == 20


def test_a_piece_that_raises_is_undone_alone_and_its_caller_gets_the_exception(store: Store) -> None:
    commits = GroupCommit(store)

    async def main() -> list[object]:
        works = [_insert("a"), _refused("b"), _insert("c")]
        return await asyncio.gather(*(commits.run(w) for w in works), return_exceptions=True)  # type: ignore[arg-type]

    first, second, third = asyncio.run(main())
    assert (first, third) == ("a", "c")
    assert isinstance(second, Conflict)
    assert "b refused after writing" in str(second)
    assert [d["key"] for d in store.find("s", "thing")] == ["a", "c"]  # nothing of b


def test_an_answer_comes_only_after_the_commit(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    other = SQLiteStore(tmp_path / "s.db")  # another process reading the file
    commits = GroupCommit(store)
    seen: list[int] = []

    async def main() -> None:
        result: Any = await commits.run(_insert("x"))  # type: ignore[arg-type]
        seen.append(other.count("s", "thing"))
        assert result == "x"

    asyncio.run(main())
    assert seen == [1]
    store.close()
    other.close()


def test_a_database_error_in_one_piece_undoes_that_piece_alone(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    commits = GroupCommit(store)
    store._conn.execute("CREATE TRIGGER no_more BEFORE INSERT ON records WHEN NEW.key = 'poison' BEGIN "
                        "SELECT RAISE(ABORT, 'disk full, as it were'); END")  # fmt: skip

    async def main() -> list[object]:
        works = [_insert("fine")]
        runs: list[Any] = [commits.run(w) for w in works]  # type: ignore[arg-type]

        def poison(uow: UnitOfWork) -> None:
            uow.insert("s", "thing", "poison", {})

        return await asyncio.gather(*runs, commits.run(poison), return_exceptions=True)

    fine, poisoned = asyncio.run(main())
    assert fine == "fine"  # undone alone: the savepoint
    assert "disk full" in str(poisoned)
    assert store.count("s", "thing") == 1
    store.close()


def test_work_from_another_loop_than_the_forming_group_commits_alone(tmp_path: Path) -> None:
    """An app driven from two event loops (a test client's and the test's own): a piece arriving on a loop other than
    the one a group is forming on is committed on its own, never queued where another loop would settle it."""
    store = SQLiteStore(tmp_path / "s.db")
    commits = GroupCommit(store)
    commits._scheduled, commits._loop = True, asyncio.new_event_loop()  # a group forming elsewhere
    try:
        assert asyncio.run(commits.run(_insert("alone"))) == "alone"  # type: ignore[arg-type]
        assert commits._queue == []
        assert (commits.groups, commits.pieces) == (1, 1)
        assert store.get("s", "thing", "alone") == {"key": "alone"}
    finally:
        commits._loop.close()
        store.close()
