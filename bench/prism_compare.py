"""Throughput and latency of the pruefstand mock against Stoplight Prism on the same MaCo contract.

Not part of CI. Needs `wrk` (Debian package) and Prism (`npm install --prefix bench/.prism @stoplight/prism-cli`, or
PRISM=/path/to/prism). Both servers get the same valid POST /inbound (the published Z33 example) from wrk on
127.0.0.1, at 10 and 50 connections, alternating, repeated; the median of the runs is printed with the ratio.

    .venv/bin/python bench/prism_compare.py [--seconds 10] [--repeat 3] [--workers 1]

Two pruefstand modes are measured: "replay" (the identical trigger, answered from the idempotency record) and "new"
(every request a new prozessId, so each one validates, writes a process and commits).

Prism runs with `-v silent` (no line per request); pruefstand likewise runs without its console line per request
(`PRUEFSTAND_REQUEST_LOG=false`; every request is still journaled in the store). `--request-log` measures pruefstand
with the line (to /dev/null), as `serve` prints it by default.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "maco" / "trigger.yaml"
EXAMPLE = ROOT / "specs" / "maco" / "examples" / "START_BERECHNUNGSFORMEL.yaml"
NEW_ID_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = string.gsub(wrk.body, "PROZESS_ID", "bench-" .. tostring(math.random(1, 1e9)) .. "-" .. counter)
  return wrk.format("POST", wrk.path, wrk.headers, body)
end
"""


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += (int(stats[current][11]) + int(stats[current][12])) / ticks
        todo.extend(children.get(current, []))
    return total


def wrk(
    url: str, connections: int, seconds: int, body: str, headers: dict[str, str], lua: str
) -> tuple[float, float, float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        escaped = json.dumps(body)
        script.write(f"wrk.method = 'POST'\nwrk.body = {escaped}\n")
        for key, value in headers.items():
            script.write(f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}\n")
        script.write(lua)
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} answers were not 2xx:\n{out}")
    return rps, _latency(out, "50%"), _latency(out, "99%"), total


def _latency(out: str, pct: str) -> float:
    value, unit = re.search(rf"{pct}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(
    proc: subprocess.Popen[bytes],
    url: str,
    connections: int,
    seconds: int,
    body: str,
    headers: dict[str, str],
    lua: str = "",
) -> Run:
    before = process_tree_cpu(proc.pid)
    rps, p50, p99, total = wrk(url, connections, seconds, body, headers, lua)
    cpu = process_tree_cpu(proc.pid) - before
    return Run(rps, p50, p99, cpu * 1000 / max(total, 1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--request-log", action="store_true", help="pruefstand prints its line per request")
    args = parser.parse_args()
    prism = os.environ.get("PRISM") or str(ROOT / "bench" / ".prism" / "node_modules" / ".bin" / "prism")
    if not Path(prism).exists() or not shutil.which("wrk"):
        raise SystemExit("needs wrk and Prism (see the module docstring)")
    example = yaml.safe_load(EXAMPLE.read_text("utf-8"))["Z33_Marktlokation_Addition"]["value"]
    body = json.dumps(example)
    new_body = body.replace(example["zusatzdaten"]["prozessId"], "PROZESS_ID")

    workdir = Path(tempfile.mkdtemp())
    p_port, s_port = free_port(), free_port()
    ours = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_server",
            "serve",
            "--port",
            str(p_port),
            "--db",
            str(workdir / "bench.db"),
            "--workers",
            str(args.workers),
            "--admin-token",
            "bench",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PRUEFSTAND_REQUEST_LOG": "true" if args.request_log else "false"},
    )
    theirs = subprocess.Popen(
        [prism, "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(s_port), "-v", "silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{p_port}/healthz", ours)
        wait_up(f"http://127.0.0.1:{s_port}/inbound", theirs)
        form = {
            "grant_type": "password",
            "client_id": "pruefstand",
            "client_secret": "pruefstand-secret",
            "username": "backend",
            "password": "backend-password",
        }
        token = httpx.post(f"http://127.0.0.1:{p_port}/maco/oauth/token", data=form).json()["access_token"]
        ours_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        theirs_headers = {"Content-Type": "application/json", "Authorization": "Bearer any"}
        ours_url, theirs_url = f"http://127.0.0.1:{p_port}/maco/inbound", f"http://127.0.0.1:{s_port}/inbound"
        for url, headers in ((ours_url, ours_headers), (theirs_url, theirs_headers)):
            assert httpx.post(url, content=body, headers=headers).status_code == 201
        results: dict[tuple[str, int], list[Run]] = {}
        for connections in (10, 50):
            for _ in range(args.repeat):
                results.setdefault(("prism", connections), []).append(
                    measure(theirs, theirs_url, connections, args.seconds, body, theirs_headers)
                )
                results.setdefault(("pruefstand replay", connections), []).append(
                    measure(ours, ours_url, connections, args.seconds, body, ours_headers)
                )
                results.setdefault(("pruefstand new", connections), []).append(
                    measure(ours, ours_url, connections, args.seconds, new_body, ours_headers, NEW_ID_LUA)
                )
    finally:
        for proc in (ours, theirs):
            proc.send_signal(signal.SIGTERM)
        for proc in (ours, theirs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    log = "on" if args.request_log else "off (as Prism's -v silent)"
    print(f"workers={args.workers} seconds={args.seconds} repeat={args.repeat} request log {log} (median of runs)")
    print(f"{'server':20} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10} {'vs prism':>9}")
    for (name, connections), runs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rps = statistics.median(r.rps for r in runs)
        base = statistics.median(r.rps for r in results[("prism", connections)])
        print(
            f"{name:20} {connections:>5} {rps:>9.0f} {statistics.median(r.p50_ms for r in runs):>8.2f} "
            f"{statistics.median(r.p99_ms for r in runs):>8.2f} "
            f"{statistics.median(r.cpu_ms_per_request for r in runs):>10.3f} {rps / base:>8.2f}x"
        )


if __name__ == "__main__":
    main()
