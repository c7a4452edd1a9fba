"""Replicas on PostgreSQL wake each other's delivery workers with NOTIFY: a commit that publishes wakes the other
replicas' listeners (a rolled-back one wakes nobody), and a replica is not woken a second time by its own
notification (it wakes itself directly)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pruefstand.mock_server.store import OutboundMessage
from pruefstand.mock_server.store.postgres import PostgresStore

GUARD = 30  # seconds: a guard against a hang, not a budget


class Wakes:
    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def __call__(self) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()

    def reach(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count >= count, GUARD)


@pytest.fixture
def replicas(postgres_url: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    a, b = PostgresStore(postgres_url), PostgresStore(postgres_url)
    yield a, b
    a.close()
    b.close()


def publish(store: PostgresStore, n: int, *, fail: bool = False) -> None:
    with store.transaction() as uow:
        uow.publish("s", OutboundMessage("stream", "t", "http://127.0.0.1:9/x", {"n": n}))
        if fail:
            raise RuntimeError("rolled back")


def test_a_commit_that_publishes_wakes_the_other_replica_once(replicas: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = replicas
    woken_a, woken_b = Wakes(), Wakes()
    a.on_publish(woken_a)
    b.on_publish(woken_b)
    assert a.listening.wait(GUARD)
    assert b.listening.wait(GUARD)
    with pytest.raises(RuntimeError):
        publish(a, 0, fail=True)
    publish(a, 1)
    assert woken_a.count == 1  # directly, after its commit
    assert woken_b.reach(1)  # by the notification
    publish(b, 2)
    assert woken_a.reach(2)  # b's notification came after a's own, which a's listener passed over
    assert woken_a.count == 2
    assert woken_b.count == 2
