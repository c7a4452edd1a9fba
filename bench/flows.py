"""What each flow's operations cost, as ratios to a baseline measured in the same run (not part of CI).

The mock runs in-process (ASGI, no sockets) on a SQLite file in a temporary folder, with response validation on, as
`pruefstand serve` runs it. The baseline is `POST /v2.0/quittung/prepare` on an existing account (read, merge and
write one record: the cheapest stateful write the mock has). Each operation runs `--repeat` rounds of `--n` calls;
the median round gives milliseconds per call and the ratio to the baseline. Peak Python memory (tracemalloc) is
measured for one PDF render.

    .venv/bin/python bench/flows.py [--n 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.flows.quittung.pdf import receipt_pdf
from pruefstand.mock_server.kernel.settings import load_settings
from pruefstand.mock_server.store import SQLiteStore

ADMIN = {"Authorization": "Bearer bench-admin"}
Q = "/v2.0/quittung"
TMF = "/tmf-api/productOrderingManagement/v4"
COMPLETE = {
    "seller_name": "Maxima Ladesäulia",
    "seller_email": "test@email.de",
    "seller_zipcode": "12345",
    "seller_yrconsumption": 2500,
    "buyer_name": "Ludwig von Auto GmbH",
    "tx_energy": 2.123,
    "tx_duration": 25,
}


def timed(call: Callable[[int], object], n: int, repeat: int) -> float:
    """Median milliseconds per call over `repeat` rounds of `n` calls."""
    rounds = []
    counter = 0
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(n):
            call(counter)
            counter += 1
        rounds.append((time.perf_counter() - started) * 1000 / n)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, repeat = args.n, args.repeat
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "bench.db")
        settings = dataclasses.replace(load_settings(env={}), db=db, admin_token="bench-admin")
        app = create_app(settings, store=SQLiteStore(db))
        with TestClient(app, base_url="http://localhost") as client:
            account = client.post(f"{Q}/prepare", json={"tx_energy": 1}).json()["account"]
            token = client.post(f"{Q}/create", json=COMPLETE).json()
            products = [{"id": f"p{i}", "owner": "500011"} for i in range(n * repeat * 3)]
            client.put(
                "/_admin/sandboxes/default/tmf622/inventory",
                json={"agreements": [{"buyer": "500011"}], "products": products},
                headers=ADMIN,
            )
            client.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/buyer"})

            def order(i: int) -> str:
                body = {
                    "productOrderItem": [{"id": "1", "action": "modify", "product": {"id": f"p{i}"}}],
                    "relatedParty": [{"id": "500011", "role": "customer", "@referredType": "Organization"}],
                }
                answer = client.post(f"{TMF}/productOrder", json=body)
                assert answer.status_code == 201, answer.text
                return str(answer.json()["id"])

            seller_orders = [
                client.post(
                    "/_admin/sandboxes/default/tmf622/terminations",
                    json={
                        "buyer": "500011",
                        "productId": f"p{n * repeat + i}",
                        "requestedCompletionDate": "2030-01-01T00:00:00Z",
                    },
                    headers=ADMIN,
                ).json()["id"]
                for i in range(n * repeat)
            ]
            issued = client.get(f"{Q}/receipt", params={"token": token}).json()
            operations: list[tuple[str, Callable[[int], object]]] = [
                (
                    "baseline: quittung prepare (merge into a draft)",
                    lambda i: client.post(f"{Q}/prepare", json={"account": account, "k": i}),
                ),
                (
                    "quittung create (validate, amounts, 2 ECDSA signatures, counters)",
                    lambda _i: client.post(f"{Q}/create", json=COMPLETE),
                ),
                ("quittung tse (read the record)", lambda _i: client.post(f"{Q}/tse", params={"account": token})),
                (
                    "quittung zugferd, repeated (kept bytes)",
                    lambda _i: client.get(f"{Q}/zugferd", params={"account": token}),
                ),
                ("quittung pdf, repeated (kept bytes)", lambda _i: client.get(f"{Q}/pdf", params={"token": token})),
                ("quittung pdf render (PDF + QR + embedded XML, direct)", lambda _i: receipt_pdf(issued)),
                ("tmf622 create order (preconditions, 2 events to the outbox)", order),
                (
                    "tmf622 seller step (transition, event to the outbox)",
                    lambda i: client.post(
                        f"/_admin/sandboxes/default/tmf622/productOrder/{seller_orders[i % len(seller_orders)]}/next",
                        headers=ADMIN,
                    ),
                ),
                (
                    "tmf622 list orders (filter, fields)",
                    lambda _i: client.get(
                        f"{TMF}/productOrder", params={"state": "closed", "fields": "state", "limit": 10}
                    ),
                ),
            ]
            results = [
                (name, timed(call, n if "render" not in name else max(n // 10, 5), repeat)) for name, call in operations
            ]
            tracemalloc.start()
            receipt_pdf(issued)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    base = results[0][1]
    print(f"{'operation':70} {'ms/call':>8} {'× baseline':>10}")
    for name, ms in results:
        print(f"{name:70} {ms:8.2f} {ms / base:10.1f}")
    print(f"peak Python memory for one PDF render: {peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
