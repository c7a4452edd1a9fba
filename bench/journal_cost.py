"""The request journal's cost on the request path: ms per TMF622 POST in-process on a SQLite file, the journal on
(500 per sandbox) against off (0), alternating, median of `--repeat` runs.

    .venv/bin/python bench/journal_cost.py --requests 400 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import make_settings

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
ORDER = {"productOrderItem": [{"id": "1", "action": "add"}]}


def ms_per_request(journal_size: int, requests: int) -> float:
    db = str(Path(tempfile.mkdtemp()) / "bench.db")
    app = create_app(make_settings(journal_size=journal_size, db=db), store=SQLiteStore(db))
    with app.test_client() as client:
        for _ in range(50):  # warm up
            client.post(ORDERS, json=ORDER)
        started = time.perf_counter()
        for _ in range(requests):
            client.post(ORDERS, json=ORDER)
        return (time.perf_counter() - started) / requests * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: dict[int, list[float]] = {0: [], 500: []}
    for _ in range(args.repeat):
        for size in runs:
            runs[size].append(ms_per_request(size, args.requests))
    off, on = statistics.median(runs[0]), statistics.median(runs[500])
    print(f"journal off {off:.2f} ms/request, on {on:.2f} ms/request: {on / off:.2f}x")


if __name__ == "__main__":
    main()
