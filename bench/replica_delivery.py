"""Event delivery to one subscriber with replicas on PostgreSQL, with and without a backlog in other sandboxes, and
what idle replicas cost PostgreSQL (not part of CI).

A throw-away PostgreSQL (serving/postgres_server.py; Debian's postgresql package: bash scripts/setup-postgres) with
two databases: a fresh one, and one holding `--backlog` rows that wait (next attempt far in the future) or are dead,
in other sandboxes (as bench/outbox_claim.py makes them). On each, `--replicas` servers (`serve --workers 1`) and
one listener on loopback; the buyer registers its listener in one sandbox, creates an order, and sends `--events`
merge patches to it (each emits an AttributeValueChangeEvent), spread round-robin over the replicas from four
threads, after 200 patches to warm up and an ANALYZE (statistics as autovacuum keeps them). Printed: the patches'
own rate, and deliveries per second from the first patch sent to the last of its events received. Then, the
replicas idle, the CPU seconds PostgreSQL's processes spend in `--idle` seconds. Each round runs on both databases,
in alternating order (a sandbox of its own each time); medians of `--repeat` rounds.

    .venv/bin/python bench/replica_delivery.py [--replicas 3] [--events 1000] [--backlog 10000] [--idle 20]
        [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from outbox_claim import backlog  # noqa: E402 (the sibling benchmark's backlog)
from prism_compare import process_tree_cpu, wait_up  # noqa: E402

from pruefstand.contracts.listener import CallbackListener, Received  # noqa: E402
from pruefstand.mock_server.serving.postgres_server import create_database, temporary_postgres  # noqa: E402
from pruefstand.mock_server.serving.process_hygiene import free_port  # noqa: E402
from pruefstand.mock_server.store.factory import open_store  # noqa: E402

TMF = "/tmf-api/productOrderingManagement/v4"
WARM_UP = 200  # patches before the measured ones (not counted), then ANALYZE


class Arrivals:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.new = threading.Condition()

    def received(self, entry: Received) -> None:
        if (entry.body or {}).get("eventType") == "ProductOrderAttributeValueChangeEvent":
            with self.new:
                self.times.append(time.perf_counter())
                self.new.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.new:
            return self.new.wait_for(lambda: len(self.times) >= count, timeout)


@contextlib.contextmanager
def replicas(url: str, count: int, folder: Path) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    started = []
    # the order stays where it is (the seller's automatic steps would complete it, and a completed order refuses
    # the patches)
    env = {**os.environ, "PRUEFSTAND_REQUEST_LOG": "false", "PRUEFSTAND_TMF622_BUYER_PROGRESS": "manual"}
    try:
        for n in range(count):
            port = free_port()
            log = (folder / f"replica-{n}.log").open("wb")
            command = [sys.executable, "-m", "pruefstand.mock_server", "serve", "--db", url, "--port", str(port)]
            command += ["--workers", "1", "--admin-token", "bench"]
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            started.append((f"http://127.0.0.1:{port}", proc))
        for base, proc in started:
            wait_up(f"{base}/healthz", proc)
        yield started
    finally:
        for _, proc in started:
            proc.terminate()
        for _, proc in started:
            proc.wait(timeout=30)


def analyzed(url: str) -> None:
    """Statistics as autovacuum keeps them on a live database (it analyzes a table once a tenth of it changed, looking
    once a minute; a database analyzed while empty plans sequential scans until then)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def postmaster(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'").fetchone()
    assert row is not None
    return int(Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()[1])  # its parent


def run(
    url: str, count: int, events: int, idle: float, folder: Path, sandbox: str
) -> tuple[float, float, float, float]:
    in_sandbox = {"X-Pruefstand-Sandbox": sandbox}
    merge = {**in_sandbox, "Content-Type": "application/merge-patch+json"}
    arrivals = Arrivals()
    listener = CallbackListener(on_received=arrivals.received)
    with listener.serving() as listen_url, replicas(url, count, folder) as servers:
        bases = [base for base, _ in servers]
        with httpx.Client(timeout=30) as client:
            client.post(f"{bases[0]}{TMF}/hub", json={"callback": listen_url}, headers=in_sandbox).raise_for_status()
            order = client.post(
                f"{bases[0]}{TMF}/productOrder",
                json={"productOrderItem": [{"id": "1", "action": "add"}]},
                headers=in_sandbox,
            )
            order.raise_for_status()
            href = f"{TMF}/productOrder/{order.json()['id']}"

            def patch(n: int) -> None:
                answer = client.patch(f"{bases[n % count]}{href}", json={"description": f"n{n}"}, headers=merge)
                answer.raise_for_status()

            with ThreadPoolExecutor(4) as pool:
                list(pool.map(patch, range(WARM_UP)))  # a live database: what autovacuum's ANALYZE then sees
                if not arrivals.wait_for(WARM_UP, timeout=600):
                    raise SystemExit(f"only {len(arrivals.times)} of the {WARM_UP} warm-up events arrived")
                analyzed(url)
                pg = postmaster(url)
                cpu = process_tree_cpu(pg)
                started = time.perf_counter()
                list(pool.map(patch, range(WARM_UP, WARM_UP + events)))
            sent = time.perf_counter() - started
            if not arrivals.wait_for(WARM_UP + events, timeout=600):
                raise SystemExit(f"only {len(arrivals.times) - WARM_UP} of {events} events arrived")
            delivered = arrivals.times[WARM_UP + events - 1] - started
            print(f"  PostgreSQL CPU while the events were sent and delivered: {process_tree_cpu(pg) - cpu:.2f} s")
        time.sleep(2)  # what was under way settles
        pg, servers_pid = postmaster(url), [proc.pid for _, proc in servers]
        before = process_tree_cpu(pg), sum(process_tree_cpu(pid) for pid in servers_pid)
        time.sleep(idle)
        after = process_tree_cpu(pg), sum(process_tree_cpu(pid) for pid in servers_pid)
    return events / sent, events / delivered, after[0] - before[0], after[1] - before[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    print(f"replicas={args.replicas} events={args.events} backlog={args.backlog} idle={args.idle:.0f} s")
    print(f"{'database':10} {'patches/s':>10} {'delivered/s':>12} {'idle CPU-s PG':>14} {'idle CPU-s replicas':>20}")
    with temporary_postgres() as server:
        urls = {"fresh": create_database(server, "fresh"), "backlog": create_database(server, "backlog")}
        store = open_store(urls["backlog"])
        backlog(store, 0, args.backlog)
        store.close()
        results: dict[str, list[tuple[float, float, float, float]]] = {"fresh": [], "backlog": []}
        for round_ in range(args.repeat):
            for name in ("fresh", "backlog") if round_ % 2 == 0 else ("backlog", "fresh"):
                found = run(urls[name], args.replicas, args.events, args.idle, folder, f"buyer-{round_}")
                results[name].append(found)
                print(f"{name:10} {found[0]:>10.1f} {found[1]:>12.1f} {found[2]:>14.2f} {found[3]:>20.2f}")
        medians = {name: [statistics.median(r[i] for r in runs) for i in range(4)] for name, runs in results.items()}
        for name, (patches, delivered, pg_cpu, replica_cpu) in medians.items():
            print(f"{name + ' med':10} {patches:>10.1f} {delivered:>12.1f} {pg_cpu:>14.2f} {replica_cpu:>20.2f}")
        print(f"delivered/s backlog vs fresh: {medians['backlog'][1] / medians['fresh'][1]:.2f}x")


if __name__ == "__main__":
    main()
