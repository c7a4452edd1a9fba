"""Resident memory of `pruefstand serve` (the whole process tree: supervisor, workers, their render processes,
multiprocessing's resource tracker), idle and after creating orders through the API (not part of CI).

Needs `wrk` (Debian package). The mock runs on a SQLite file in a temporary folder with `--workers N` (default: as
`serve` picks them); TMF622 POST productOrder (the plain v4 example) is sent at 10 connections until `--orders`
orders exist, then the tree is measured again after the seller's automatic steps have run (`--settle` seconds).

    .venv/bin/python bench/memory.py [--workers 2] [--orders 20000] [--settle 15]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
TMF = "/tmf-api/productOrderingManagement/v4"
sys.path.insert(0, str(ROOT / "bench"))
from prism_compare import free_port, wait_up, wrk  # noqa: E402 (the sibling benchmark's helpers)


def tree(pid: int) -> list[tuple[int, int, str]]:
    """(pid, RSS KiB, command) of the process and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            status = (Path("/proc") / str(current) / "status").read_text()
            command = (Path("/proc") / str(current) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        found.append((current, rss, command[:90]))
        todo.extend(children.get(current, []))
    return found


def report(label: str, pid: int) -> int:
    processes = tree(pid)
    total = sum(rss for _, rss, _ in processes)
    print(f"{label}: whole tree {total / 1024:.0f} MiB")
    for child, rss, command in processes:
        print(f"  {child:>7} {rss / 1024:>7.1f} MiB  {command}")
    return total


def order_count(base: str) -> int:
    answer = httpx.get(f"{base}{TMF}/productOrder", params={"limit": 1, "fields": "id"})
    return int(answer.headers.get("X-Total-Count") or answer.headers["Content-Range"].rsplit("/", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=0, help="0: as serve picks them")
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--settle", type=float, default=15.0)
    args = parser.parse_args()
    document = yaml.safe_load((ROOT / "specs" / "tmf622" / "product-ordering.yaml").read_text("utf-8"))
    create = document["paths"]["/productOrder"]["post"]["requestBody"]["content"]["application/json"]
    body = json.dumps(create["examples"]["plain_v4"]["value"])
    port = free_port()
    folder = Path(tempfile.mkdtemp())
    command = [sys.executable, "-m", "mock_server", "serve", "--port", str(port), "--db", str(folder / "m.db")]
    command += ["--workers", str(args.workers)] if args.workers else []
    env = {**os.environ, "PRUEFSTAND_REQUEST_LOG": "false"}
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}/healthz", server)
        time.sleep(2)
        report("idle", server.pid)
        url = f"{base}{TMF}/productOrder"
        while order_count(base) < args.orders:
            wrk(url, 10, 5, body, {"Content-Type": "application/json"}, "")
        report(f"right after {order_count(base)} orders", server.pid)
        time.sleep(args.settle)
        report(f"{args.settle:.0f} s later (the automatic steps run)", server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
