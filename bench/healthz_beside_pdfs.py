"""Does CPU work of one client hold another's request? (not part of CI). A real `pruefstand serve` with one worker
(SQLite): `/healthz` latency while nothing else runs (the baseline, same run), then while `--clients` threads create
new receipts and fetch their PDFs (each a first render: 140+ ms of CPU), then while they fetch one receipt's PDF
again and again (kept bytes). p50, p99 and max of `--probes` health checks each, and the ratio to the baseline p99.

    .venv/bin/python bench/healthz_beside_pdfs.py [--probes 300] [--clients 1]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delivery import server  # the bench's own server helper
from flows import COMPLETE as RECEIPT  # the receipt the flow bench issues

Q = "/v2.0/quittung"


def probes(base: str, count: int) -> list[float]:
    times = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.get("/healthz")
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.005)
    return times


def beside(base: str, count: int, clients: int, work: Callable[[httpx.Client, int], None]) -> list[float]:
    stop = threading.Event()

    def busy() -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            n = 0
            while not stop.is_set():
                work(client, n)
                n += 1

    threads = [threading.Thread(target=busy) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the load is under way
    try:
        return probes(base, count)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def new_pdf(client: httpx.Client, n: int) -> None:
    token = client.post(f"{Q}/create", json={**RECEIPT, "buyer_name": f"Käufer {n}"}).json()
    client.get(f"{Q}/pdf", params={"token": token})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()
    with server(Path(tempfile.mkdtemp())) as base:
        kept = httpx.post(f"{base}{Q}/create", json=RECEIPT, timeout=60).json()
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{base}{Q}/pdf", params={"token": kept}, timeout=60)

        def same_pdf(client: httpx.Client, _n: int) -> None:
            client.get(f"{Q}/pdf", params={"token": kept})

        rows = [
            ("nothing else", probes(base, args.probes)),
            (f"{args.clients} client(s): new receipts' PDFs", beside(base, args.probes, args.clients, new_pdf)),
            (f"{args.clients} client(s): one receipt's PDF again", beside(base, args.probes, args.clients, same_pdf)),
        ]
    base_p99 = statistics.quantiles(rows[0][1], n=100)[98]
    print(f"{'/healthz while':45} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'p99 ×':>6}")
    for name, times in rows:
        p99 = statistics.quantiles(times, n=100)[98]
        print(f"{name:45} {statistics.median(times):7.2f} {p99:7.2f} {max(times):7.2f} {p99 / base_p99:6.1f}")


if __name__ == "__main__":
    main()
