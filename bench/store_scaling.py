"""What TMF622 listing and creating cost as a sandbox grows, on SQLite and on PostgreSQL (not part of CI).

For each backend the mock runs in-process (ASGI, no sockets, response validation on) on a fresh store; the sandbox is
filled to 200, 2,000 and 20,000 orders (written through the store's unit of work with the order documents the flow
builds, 1,000 per transaction, so filling is quick; a tenth are `completed`, the rest `acknowledged`), and at each
size these are timed: `GET productOrder?limit=10`, `GET productOrder?state=completed&limit=10` and a buyer's
`POST productOrder` (preconditions, including the open-order check on the product, and two events to the outbox).
Figures are medians of `--repeat` rounds of `--n` calls, reported in ms and as ratios to the 200-order figure of the
same backend and operation. PostgreSQL is a throw-away server started here (initdb/pg_ctl, needs Debian's
postgresql package: bash scripts/setup-postgres); after each bulk fill it runs VACUUM ANALYZE, as autovacuum would
within a minute on a live database (without fresh statistics the planner sorts the whole sandbox for one page).

    .venv/bin/python bench/store_scaling.py [--n 50] [--repeat 5] [--sizes 200,2000,20000]
        [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from flows import timed  # bench/flows.py: median ms per call over rounds
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.flows.tmf622.documents import ORDER_KIND, new_order
from pruefstand.mock_server.kernel.settings import load_settings
from pruefstand.mock_server.serving.postgres_server import create_database, temporary_postgres
from pruefstand.mock_server.store import Store, open_store

TMF = "/tmf-api/productOrderingManagement/v4"
ADMIN = {"Authorization": "Bearer bench-admin"}
BUYER = "500011"


def fill(store: Store, have: int, want: int) -> None:
    """Orders `have`..`want` of the sandbox, straight through the unit of work."""
    for start in range(have, want, 1000):
        with store.transaction() as uow:
            for i in range(start, min(start + 1000, want)):
                body = {"productOrderItem": [{"id": "1", "action": "add", "product": {"id": f"filled-{i}"}}]}
                order = new_order(str(uuid.uuid4()), body, BUYER, "2022-05-11T10:30:00+02:00", "acknowledged")
                if i % 10 == 0:
                    order["state"] = "completed"
                uow.insert("default", ORDER_KIND, order["id"], order)


@contextlib.contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield str(Path(folder) / "bench.db")
    else:
        with temporary_postgres() as server:
            yield create_database(server, "bench")


def run(backend: str, sizes: list[int], n: int, repeat: int) -> list[tuple[str, int, float]]:
    results = []
    with database(backend) as db:
        store = open_store(db)
        settings = load_settings(
            env={}, overrides={"db": db, "admin_token": "bench-admin", "tmf622_buyer_progress": "manual"}
        )
        with TestClient(create_app(settings, store=store), base_url="http://localhost") as client:
            client.put(
                "/_admin/sandboxes/default/tmf622/inventory",
                json={"agreements": [{"buyer": BUYER}], "products": []},
                headers=ADMIN,
            )
            client.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/buyer"})
            have = 0
            for size in sizes:
                fill(store, have, size)
                have = size
                if backend == "postgresql":  # what autovacuum does within a minute of a bulk load on a live database
                    with psycopg.connect(db, autocommit=True) as conn:
                        conn.execute("VACUUM ANALYZE")

                def create(_i: int) -> None:
                    body = {
                        "productOrderItem": [{"id": "1", "action": "add"}],
                        "relatedParty": [{"id": BUYER, "role": "customer", "@referredType": "Organization"}],
                    }
                    answer = client.post(f"{TMF}/productOrder", json=body)
                    assert answer.status_code == 201, answer.text

                def page(_i: int) -> None:
                    assert len(client.get(f"{TMF}/productOrder", params={"limit": 10}).json()) == 10

                def by_state(_i: int) -> None:
                    answer = client.get(f"{TMF}/productOrder", params={"state": "completed", "limit": 10})
                    assert len(answer.json()) == 10

                near_end = max(size - 20, 0)

                def deep(_i: int, at: int = near_end) -> None:  # the last page but one: the offset near the end
                    answer = client.get(f"{TMF}/productOrder", params={"limit": 10, "offset": at})
                    assert len(answer.json()) == 10

                def every(_i: int, at: int = near_end) -> None:  # a filter every order matches, a page near the end
                    params = {"relatedParty.id": BUYER, "limit": 10, "offset": at}
                    assert len(client.get(f"{TMF}/productOrder", params=params).json()) == 10

                def every_first(_i: int) -> None:  # a filter every order matches, the first page
                    params = {"relatedParty.id": BUYER, "limit": 10}
                    assert len(client.get(f"{TMF}/productOrder", params=params).json()) == 10

                results += [
                    ("GET productOrder?limit=10&offset=<size-20>", size, timed(deep, n, repeat)),
                    ("GET productOrder?relatedParty.id=<all>&limit=10", size, timed(every_first, n, repeat)),
                    ("GET productOrder?relatedParty.id=<all>&offset=<size-20>", size, timed(every, n, repeat)),
                    ("GET productOrder?limit=10", size, timed(page, n, repeat)),
                    ("GET productOrder?state=completed&limit=10", size, timed(by_state, n, repeat)),
                    ("POST productOrder", size, timed(create, n, repeat)),
                ]
                have += n * repeat  # the created orders count too
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="200,2000,20000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'backend':11} {'operation':45} {'orders':>7} {'ms/call':>8} {'× first':>8}")
    for backend in args.backends.split(","):
        results = run(backend, sizes, args.n, args.repeat)
        first = {name: ms for name, size, ms in results if size == sizes[0]}
        for name, size, ms in sorted(results, key=lambda r: (r[0], r[1])):
            print(f"{backend:11} {name:45} {size:7} {ms:8.2f} {ms / first[name]:8.2f}")


if __name__ == "__main__":
    main()
