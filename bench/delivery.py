"""How fast events reach a buyer's listener (not part of CI): a real `pruefstand serve` (SQLite, one worker) and the
shipped listener, both on loopback.

- Light load: `--steps` seller steps on orders, one at a time with a pause; for each, the time from sending the admin
  request that changes the state to the listener receiving the StateChangeEvent. Median and p99, and their ratio to
  the floor measured in the same run: one plain POST to the same listener from this process.
- Burst: `--burst` merge patches on one order sent as fast as the server takes them (each emits one
  AttributeValueChangeEvent into the order's stream); the time from the first patch to the last event received, and
  from the last patch answered to the last event received (the drain).

    .venv/bin/python bench/delivery.py [--steps 60] [--burst 100]
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
from pathlib import Path

import httpx

from pruefstand.contracts.listener import CallbackListener, Received
from pruefstand.mock_server.serving.process_hygiene import free_port

TMF = "/tmf-api/productOrderingManagement/v4"
ADMIN = {"Authorization": "Bearer bench"}


@contextlib.contextmanager
def server(folder: Path) -> Iterator[str]:
    port = free_port()
    log = (folder / "serve.log").open("wb")
    env = {**os.environ, "PRUEFSTAND_ADMIN_TOKEN": "bench", "PRUEFSTAND_TMF622_BUYER_PROGRESS": "manual",
           "PRUEFSTAND_REQUEST_LOG": "false"}  # fmt: skip
    command = [sys.executable, "-m", "pruefstand.mock_server", "serve", "--db", str(folder / "bench.db"), "--port",
               str(port), "--workers", "1"]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not come up")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


class Arrivals:
    """Arrival times (perf_counter) of the events the listener received, by event type."""

    def __init__(self) -> None:
        self.times: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.new = threading.Condition(self.lock)

    def received(self, entry: Received) -> None:
        with self.new:
            self.times.append((time.perf_counter(), str((entry.body or {}).get("eventType", ""))))
            self.new.notify_all()

    def wait_for(self, count: int, timeout: float = 30) -> None:
        with self.new:
            if not self.new.wait_for(lambda: len(self.times) >= count, timeout):
                raise RuntimeError(f"only {len(self.times)} of {count} events arrived")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args()
    arrivals = Arrivals()
    listener = CallbackListener(on_received=arrivals.received)
    with tempfile.TemporaryDirectory() as tmp, listener.serving() as listen_url, server(Path(tmp)) as base:
        client = httpx.Client(base_url=base, timeout=10)
        floor = []
        with httpx.Client(timeout=10) as direct:
            for _ in range(50):
                started = time.perf_counter()
                direct.post(f"{listen_url}/floor", json={})
                floor.append((time.perf_counter() - started) * 1000)
        client.post(f"{TMF}/hub", json={"callback": listen_url}).raise_for_status()
        seen = len(arrivals.times)
        latencies = []
        orders = []
        while len(latencies) < args.steps:
            order = client.post(f"{TMF}/productOrder", json={"productOrderItem": [{"id": "1", "action": "add"}]})
            order.raise_for_status()
            orders.append(order.json()["id"])
            arrivals.wait_for(seen + 2)  # create + acknowledged
            seen = len(arrivals.times)
            for _ in range(2):  # acknowledged -> inProgress -> completed
                time.sleep(0.05)
                started = time.perf_counter()
                client.post(f"/_admin/sandboxes/default/tmf622/productOrder/{orders[-1]}/next", headers=ADMIN)
                arrivals.wait_for(seen + 1)
                latencies.append((arrivals.times[seen][0] - started) * 1000)
                seen = len(arrivals.times)
        target = client.post(f"{TMF}/productOrder", json={"productOrderItem": [{"id": "1", "action": "add"}]}).json()
        arrivals.wait_for(seen + 2)
        seen = len(arrivals.times)
        first = time.perf_counter()
        for number in range(args.burst):
            client.patch(f"{TMF}/productOrder/{target['id']}", json={"description": f"burst {number}"})
        sent = time.perf_counter()
        arrivals.wait_for(seen + args.burst, timeout=120)
        last = arrivals.times[seen + args.burst - 1][0]
    floor_p50 = statistics.median(floor)
    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    print(f"floor: one POST to the listener from here, median {floor_p50:.2f} ms")
    print(f"state change -> listener ({len(latencies)} steps): p50 {p50:.1f} ms ({p50 / floor_p50:.1f}x floor), "
          f"p99 {p99:.1f} ms ({p99 / floor_p50:.1f}x floor), max {max(latencies):.1f} ms")  # fmt: skip
    print(f"burst of {args.burst} events to one listener: {(last - first) * 1000:.0f} ms from the first patch, "
          f"{(sent - first) * 1000:.0f} ms to send them, drained {max(0.0, last - sent) * 1000:.0f} ms after the last "
          "patch was answered")  # fmt: skip


if __name__ == "__main__":
    main()
