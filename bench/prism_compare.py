"""Throughput and latency of the pruefstand mock against Stoplight Prism on the same contract.

Not part of CI. Needs `wrk` (Debian package) and Prism (`npm install --prefix bench/.prism @stoplight/prism-cli`, or
PRISM=/path/to/prism). Both servers get the same valid request from wrk on 127.0.0.1, at 10 and 50 connections,
alternating, repeated; the median of the runs is printed with the ratio.

    .venv/bin/python bench/prism_compare.py [--seconds 10] [--repeat 3] [--workers 1] [--work maco,tmf622-post,...]

Works (`--work`, default all):
- `maco`: POST /inbound (the published Z33 example; Prism serves specs/maco/trigger.yaml). pruefstand "replay" (the
  identical trigger, answered from the idempotency record), "new" (a new prozessId per request: validates, writes a
  process, commits) and "new guid" (the prozessId in the SAP GUID form the examples use, 00505688-E4A2-1EDF-…).
- `tmf622-post`: POST productOrder, the plain v4 example (Prism serves the official TMF622 v4 swagger from
  ../shared/reference).
- `tmf622-get`: GET productOrder/{id} of an order created before the run (Prism: the same swagger).
- `quittung-create`: POST quittung/create with a complete receipt (the mock issues it: a number, counters, two ECDSA
  signatures; Prism serves specs/quittung/quittung.yaml and answers its example).

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
from flows import COMPLETE as RECEIPT  # bench/flows.py: the complete receipt its Quittung figures use

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "maco" / "trigger.yaml"
EXAMPLE = ROOT / "specs" / "maco" / "examples" / "START_BERECHNUNGSFORMEL.yaml"
REFERENCE = ROOT.parent / "shared" / "reference" / "TMF622-ProductOrder-v4.0.0.swagger.json"
QUITTUNG = ROOT / "specs" / "quittung" / "quittung.yaml"
TMF = "/tmf-api/productOrderingManagement/v4"
GUID_LUA = """
counter = 0
hex = "0123456789ABCDEF"
local function digits(n)
  local out = {}
  for i = 1, n do
    local k = math.random(1, 16)
    out[i] = string.sub(hex, k, k)
  end
  return table.concat(out)
end
request = function()
  counter = counter + 1
  local guid = "00505688-" .. digits(4) .. "-1EDF-" .. digits(4) .. "-" .. digits(12)
  local body = string.gsub(wrk.body, "PROZESS_ID", guid)
  return wrk.format("POST", wrk.path, wrk.headers, body)
end
"""
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
    url: str, connections: int, seconds: int, body: str | None, headers: dict[str, str], lua: str
) -> tuple[float, float, float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body is None:
            script.write("wrk.method = 'GET'\n")
        else:
            script.write(f"wrk.method = 'POST'\nwrk.body = {json.dumps(body)}\n")
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
    body: str | None,
    headers: dict[str, str],
    lua: str = "",
) -> Run:
    before = process_tree_cpu(proc.pid)
    rps, p50, p99, total = wrk(url, connections, seconds, body, headers, lua)
    cpu = process_tree_cpu(proc.pid) - before
    return Run(rps, p50, p99, cpu * 1000 / max(total, 1))


@dataclass
class Case:
    """One line of the table: which server, which URL, what is sent."""

    name: str
    server: str  # "ours" or "prism"
    url: str
    body: str | None
    headers: dict[str, str]
    lua: str = ""


def start_prism(prism: str, spec: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [prism, "mock", str(spec), "-h", "127.0.0.1", "-p", str(port), "-v", "silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def maco_cases(ours_base: str, prism_base: str) -> list[Case]:
    example = yaml.safe_load(EXAMPLE.read_text("utf-8"))["Z33_Marktlokation_Addition"]["value"]
    body = json.dumps(example)
    new_body = body.replace(example["zusatzdaten"]["prozessId"], "PROZESS_ID")
    form = {
        "grant_type": "password",
        "client_id": "pruefstand",
        "client_secret": "pruefstand-secret",
        "username": "backend",
        "password": "backend-password",
    }
    token = httpx.post(f"{ours_base}/maco/oauth/token", data=form).json()["access_token"]
    ours = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    theirs = {"Content-Type": "application/json", "Authorization": "Bearer any"}
    for url, headers in ((f"{ours_base}/maco/inbound", ours), (f"{prism_base}/inbound", theirs)):
        assert httpx.post(url, content=body, headers=headers).status_code == 201
    return [
        Case("maco prism", "prism", f"{prism_base}/inbound", body, theirs),
        Case("maco replay", "ours", f"{ours_base}/maco/inbound", body, ours),
        Case("maco new", "ours", f"{ours_base}/maco/inbound", new_body, ours, NEW_ID_LUA),
        Case("maco new guid", "ours", f"{ours_base}/maco/inbound", new_body, ours, GUID_LUA),
    ]


def tmf_cases(ours_base: str, prism_base: str, work: str) -> list[Case]:
    document = yaml.safe_load((ROOT / "specs" / "tmf622" / "product-ordering.yaml").read_text("utf-8"))
    create = document["paths"]["/productOrder"]["post"]["requestBody"]["content"]["application/json"]
    body = json.dumps(create["examples"]["plain_v4"]["value"])
    headers = {"Content-Type": "application/json"}
    created = httpx.post(f"{ours_base}{TMF}/productOrder", content=body, headers=headers)
    assert created.status_code == 201, created.text
    # Prism serves a Swagger 2.0 document's paths at its root (it does not apply `basePath`)
    assert httpx.post(f"{prism_base}/productOrder", content=body, headers=headers).status_code == 201
    if work == "tmf622-post":
        return [
            Case("tmf622 post prism", "prism", f"{prism_base}/productOrder", body, headers),
            Case("tmf622 post", "ours", f"{ours_base}{TMF}/productOrder", body, headers),
        ]
    order = created.json()["id"]
    return [
        Case("tmf622 get prism", "prism", f"{prism_base}/productOrder/{order}", None, {}),
        Case("tmf622 get", "ours", f"{ours_base}{TMF}/productOrder/{order}", None, {}),
    ]


def quittung_cases(ours_base: str, prism_base: str) -> list[Case]:
    body = json.dumps(RECEIPT)
    headers = {"Content-Type": "application/json"}
    # Prism serves the paths without the servers' /v2.0
    for url in (f"{ours_base}/v2.0/quittung/create", f"{prism_base}/quittung/create"):
        answer = httpx.post(url, content=body, headers=headers)
        assert answer.status_code == 200, answer.text
    return [
        Case("quittung create prism", "prism", f"{prism_base}/quittung/create", body, headers),
        Case("quittung create", "ours", f"{ours_base}/v2.0/quittung/create", body, headers),
    ]


WORKS = ("maco", "tmf622-post", "tmf622-get", "quittung-create")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--work", default=",".join(WORKS), help=f"comma-separated, of {', '.join(WORKS)}")
    parser.add_argument("--request-log", action="store_true", help="pruefstand prints its line per request")
    args = parser.parse_args()
    works = [w for w in args.work.split(",") if w]
    prism = os.environ.get("PRISM") or str(ROOT / "bench" / ".prism" / "node_modules" / ".bin" / "prism")
    if not Path(prism).exists() or not shutil.which("wrk"):
        raise SystemExit("needs wrk and Prism (see the module docstring)")
    workdir = Path(tempfile.mkdtemp())
    o_port, m_port, t_port, q_port = free_port(), free_port(), free_port(), free_port()
    ours = subprocess.Popen(
        [
            *(sys.executable, "-m", "mock_server", "serve", "--port", str(o_port)),
            *("--db", str(workdir / "bench.db"), "--workers", str(args.workers), "--admin-token", "bench"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PRUEFSTAND_REQUEST_LOG": "true" if args.request_log else "false"},
    )
    prisms = {
        "maco": start_prism(prism, SPEC, m_port),
        "tmf622": start_prism(prism, REFERENCE, t_port),
        "quittung": start_prism(prism, QUITTUNG, q_port),
    }
    ours_base = f"http://127.0.0.1:{o_port}"
    try:
        wait_up(f"{ours_base}/healthz", ours)
        wait_up(f"http://127.0.0.1:{m_port}/inbound", prisms["maco"])
        wait_up(f"http://127.0.0.1:{t_port}/productOrder", prisms["tmf622"])
        wait_up(f"http://127.0.0.1:{q_port}/quittung/create", prisms["quittung"])
        cases: list[Case] = []
        for work in works:
            if work == "maco":
                cases += maco_cases(ours_base, f"http://127.0.0.1:{m_port}")
            elif work == "quittung-create":
                cases += quittung_cases(ours_base, f"http://127.0.0.1:{q_port}")
            else:
                cases += tmf_cases(ours_base, f"http://127.0.0.1:{t_port}", work)
        results: dict[tuple[str, int], list[Run]] = {}
        for connections in (10, 50):
            for _ in range(args.repeat):
                for case in cases:
                    server = ours if case.server == "ours" else prisms[case.name.split()[0]]
                    run = measure(server, case.url, connections, args.seconds, case.body, case.headers, case.lua)
                    results.setdefault((case.name, connections), []).append(run)
        _print(results, cases, args)
    finally:
        for proc in (ours, *prisms.values()):
            proc.send_signal(signal.SIGTERM)
        for proc in (ours, *prisms.values()):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _print(results: dict[tuple[str, int], list[Run]], cases: list[Case], args: argparse.Namespace) -> None:
    log = "on" if args.request_log else "off (as Prism's -v silent)"
    print(f"workers={args.workers} seconds={args.seconds} repeat={args.repeat} request log {log} (median of runs)")
    print(f"{'case':20} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10} {'vs prism':>9}")
    for connections in (10, 50):
        for case in cases:
            runs = results[(case.name, connections)]
            prism_case = next(
                c.name
                for c in cases
                if c.server == "prism"
                and c.name.split()[0] == case.name.split()[0]
                and ("get" in c.name) == ("get" in case.name)
            )
            rps = statistics.median(r.rps for r in runs)
            base = statistics.median(r.rps for r in results[(prism_case, connections)])
            print(
                f"{case.name:20} {connections:>5} {rps:>9.0f} {statistics.median(r.p50_ms for r in runs):>8.2f} "
                f"{statistics.median(r.p99_ms for r in runs):>8.2f} "
                f"{statistics.median(r.cpu_ms_per_request for r in runs):>10.3f} {rps / base:>8.2f}x"
            )


if __name__ == "__main__":
    main()
