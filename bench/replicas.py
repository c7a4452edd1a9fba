"""The same flows on SQLite (one server) and on PostgreSQL with one and with two replicas (not part of CI).

Each server is a real `pruefstand serve --workers 1` on 127.0.0.1; PostgreSQL is a throw-away server started here
(initdb/pg_ctl; Debian's postgresql package: bash scripts/setup-postgres). A round sends `--requests` Strom-Quittung
creates (validation, amounts, two ECDSA signatures, counters) and as many MaCo triggers (token, validation, process,
idempotency record) from `--clients` threads, spread round-robin over the replicas. Figures: requests per second
(median of `--repeat` rounds) and the ratio to SQLite with one server, measured in the same run. On the 2-core
reference machine two replicas share two cores with PostgreSQL and the load generator, so the ratio says what
replicas cost here, not what they gain on separate hosts.

    .venv/bin/python bench/replicas.py [--requests 300] [--clients 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

from pruefstand.contracts import bundled_spec_path
from pruefstand.mock_server.serving.postgres_server import create_database, temporary_postgres
from pruefstand.mock_server.serving.process_hygiene import free_port

RECEIPT = {
    "tx_energy": 2.5,
    "tx_duration": 30,
    "seller_name": "Maxima Ladesäulia",
    "email": "test@email.de",
    "seller_zipcode": "12345",
    "seller_yrconsumption": 2500,
    "buyer_name": "Ludwig von Auto GmbH",
}
FORM = {
    "grant_type": "password",
    "client_id": "pruefstand",
    "client_secret": "pruefstand-secret",
    "username": "backend",
    "password": "backend-password",
}


SERVE = [sys.executable, "-m", "pruefstand.mock_server", "serve"]


@contextlib.contextmanager
def replicas(db: str, count: int, folder: Path) -> Iterator[list[str]]:
    procs, bases = [], []
    try:
        for n in range(count):
            port = free_port()
            log = (folder / f"replica{n}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [*SERVE, "--db", db, "--port", str(port), "--workers", "1"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "PRUEFSTAND_ADMIN_TOKEN": "bench"},
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base} did not come up")
                time.sleep(0.1)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def rate(call: Callable[[int], None], requests: int, clients: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(call, range(requests)))
    return requests / (time.perf_counter() - started)


def measure(bases: list[str], requests: int, clients: int, repeat: int) -> dict[str, float]:
    trigger = yaml.safe_load(bundled_spec_path("maco/examples/START_BERECHNUNGSFORMEL.yaml").read_text("utf-8"))
    example: dict[str, Any] = trigger["Z41_Marktlokation"]["value"]
    clients_by_base = [httpx.Client(base_url=b, timeout=60) for b in bases]
    tokens = [c.post("/maco/oauth/token", data=FORM).json()["access_token"] for c in clients_by_base]

    def receipt(i: int) -> None:
        answer = clients_by_base[i % len(bases)].post("/v2.0/quittung/create", json=RECEIPT)
        assert answer.status_code == 200, answer.text

    def maco(i: int) -> None:
        body = copy.deepcopy(example)
        body["zusatzdaten"]["prozessId"] = str(uuid.uuid4()).upper()
        auth = {"Authorization": f"Bearer {tokens[i % len(bases)]}"}
        answer = clients_by_base[i % len(bases)].post("/maco/inbound", json=body, headers=auth)
        assert answer.status_code == 201, answer.text

    try:
        return {
            "quittung create": statistics.median(rate(receipt, requests, clients) for _ in range(repeat)),
            "maco trigger (new prozessId)": statistics.median(rate(maco, requests, clients) for _ in range(repeat)),
        }
    finally:
        for client in clients_by_base:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        with replicas(str(folder / "bench.db"), 1, folder) as bases:
            results["SQLite, 1 server"] = measure(bases, args.requests, args.clients, args.repeat)
        with temporary_postgres() as server:
            for count in (1, 2):
                db = create_database(server, f"bench{count}")
                with replicas(db, count, folder) as bases:
                    results[f"PostgreSQL, {count} replica(s)"] = measure(
                        bases, args.requests, args.clients, args.repeat
                    )
    base = results["SQLite, 1 server"]
    print(f"{'setup':28} {'operation':30} {'req/s':>8} {'× SQLite':>9}")
    for setup, figures in results.items():
        for operation, value in figures.items():
            print(f"{setup:28} {operation:30} {value:8.1f} {value / base[operation]:9.2f}")


if __name__ == "__main__":
    main()
