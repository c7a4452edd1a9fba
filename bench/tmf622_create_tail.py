"""TMF622 order creation under load: req/s, p50 and p99 of POST productOrder (the plain v4 example) from wrk at 10
connections against `serve --workers N`, for this tree or another checkout (`--tree`, e.g. a `git worktree` of an
older commit), alternating when both are given. The tail is where the seller's automatic progress showed (issue 25).

    .venv/bin/python bench/tmf622_create_tail.py [--seconds 10] [--repeat 3] [--workers 2] [--tree /tmp/old]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prism_compare import TMF, free_port, wait_up, wrk

ROOT = Path(__file__).resolve().parents[1]


def one_run(tree: Path, workers: int, seconds: int, body: str) -> tuple[float, float, float]:
    port, workdir = free_port(), Path(tempfile.mkdtemp())
    env = {**os.environ, "PYTHONPATH": str(tree), "PRUEFSTAND_REQUEST_LOG": "false"}
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "mock_server", "serve", "--port", str(port), "--db", str(workdir / "b.db")),
            *("--workers", str(workers), "--admin-token", "bench"),
        ],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz", server)
        url = f"http://127.0.0.1:{port}{TMF}/productOrder"
        rps, p50, p99, _ = wrk(url, 10, seconds, body, {"Content-Type": "application/json"}, "")
        return rps, p50, p99
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tree", type=Path, help="another checkout to measure beside this one")
    args = parser.parse_args()
    document = yaml.safe_load((ROOT / "specs" / "tmf622" / "product-ordering.yaml").read_text("utf-8"))
    media = document["paths"]["/productOrder"]["post"]["requestBody"]["content"]["application/json"]
    body = json.dumps(media["examples"]["plain_v4"]["value"])
    trees = [("other", args.tree.resolve())] if args.tree else []
    trees.append(("this", ROOT))
    print(f"workers={args.workers} seconds={args.seconds} connections=10")
    for _ in range(args.repeat):
        for name, tree in trees:
            rps, p50, p99 = one_run(tree, args.workers, args.seconds, body)
            print(f"{name:6} {rps:8.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms   ({tree})")


if __name__ == "__main__":
    main()
