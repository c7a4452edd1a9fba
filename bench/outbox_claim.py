"""What claiming due deliveries costs when the outbox has history (not part of CI): the claim on a fresh outbox against
the same claim with `--history` delivered rows in one stream and `--waiting` undeliverable rows (pending far in the
future, or dead) in other sandboxes, on both engines (PostgreSQL: a throw-away server of the project's own,
serving/postgres_server.py). Each round publishes one message into a new stream, claims it, and records its attempt;
the median claim time per round and the ratio backlog/fresh are printed.

    .venv/bin/python bench/outbox_claim.py [--history 10000] [--waiting 10000] [--rounds 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pruefstand.mock_server.serving.postgres_server import create_database, temporary_postgres
from pruefstand.mock_server.store import OutboundMessage, Store
from pruefstand.mock_server.store.factory import open_store

FAR = 4_000_000_000.0  # a next attempt that never comes in the run


def backlog(store: Store, history: int, waiting: int) -> None:
    """`history` delivered rows in one stream, `waiting` rows that wait or are dead in other sandboxes."""
    with store.transaction() as uow:
        for i in range(history):
            uow.publish("old", OutboundMessage("s", "e", "http://127.0.0.1:9/x", {"n": i}))
        for i in range(waiting):
            uow.publish(f"w{i % 10}", OutboundMessage(f"s{i}", "e", "http://127.0.0.1:9/x", {"n": i}))
    write = store._write  # type: ignore[attr-defined]  # a bench sets states directly: no HTTP for 20,000 rows
    sql = store._d.sql  # type: ignore[attr-defined]
    with write() as conn:
        conn.execute(sql("UPDATE outbox SET status = 'delivered' WHERE sandbox = ?"), ("old",))
        conn.execute(sql("UPDATE outbox SET next_attempt_at = ? WHERE sandbox IN (?, ?, ?, ?, ?)"),
                     (FAR, "w0", "w2", "w4", "w6", "w8"))  # fmt: skip
        conn.execute(sql("UPDATE outbox SET status = 'dead' WHERE sandbox IN (?, ?, ?, ?, ?)"),
                     ("w1", "w3", "w5", "w7", "w9"))  # fmt: skip
    settle(store)


def settle(store: Store) -> None:
    """What autovacuum does to a live outbox between bursts: old row versions gone, statistics fresh."""
    if store._d.name == "postgresql":  # type: ignore[attr-defined]
        import psycopg

        with psycopg.connect(store.url, autocommit=True) as conn:  # type: ignore[attr-defined]
            conn.execute("VACUUM ANALYZE outbox")
    else:
        with store._write() as conn:  # type: ignore[attr-defined]
            conn.execute("ANALYZE")


def claims(store: Store, rounds: int) -> float:
    """Median ms of one claim (of one due message in a new stream), over `rounds`."""
    times = []
    for n in range(rounds):
        with store.transaction() as uow:
            uow.publish("fresh", OutboundMessage(f"r{n}", "e", "http://127.0.0.1:9/x", {"n": n}))
        started = time.perf_counter()
        due = store.outbox.claim_due(time.time() + 1, "bench", 30.0, limit=50)
        times.append((time.perf_counter() - started) * 1000)
        for delivery in due:
            attempt = {"at": time.time(), "status_code": 200, "error": None, "latency_ms": 1.0}
            store.outbox.finish_attempt(int(delivery["id"]), "bench", attempt, "delivered", 0.0)
    return statistics.median(times)


@contextmanager
def engines() -> Iterator[Iterator[tuple[str, Store, Store]]]:
    folder = Path(tempfile.mkdtemp())
    with temporary_postgres() as url:

        def made() -> Iterator[tuple[str, Store, Store]]:
            yield "sqlite", open_store(str(folder / "fresh.db")), open_store(str(folder / "backlog.db"))
            yield "postgresql", open_store(create_database(url, "fresh")), open_store(create_database(url, "backlog"))

        yield made()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print(f"history={args.history} waiting/dead={args.waiting} rounds={args.rounds}")
    print(f"{'engine':12} {'fresh ms':>9} {'backlog ms':>11} {'ratio':>7}")
    with engines() as made:
        for name, fresh, loaded in made:
            backlog(loaded, args.history, args.waiting)
            claims(fresh, 20)  # warm both
            claims(loaded, 20)
            a, b = claims(fresh, args.rounds), claims(loaded, args.rounds)
            print(f"{name:12} {a:9.3f} {b:11.3f} {b / a:7.2f}x")
            fresh.close()
            loaded.close()


if __name__ == "__main__":
    main()
