"""`pruefstand serve` as a real process on 127.0.0.1: HTTP, clean shutdown on SIGTERM, state across a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from pruefstand.mock_server.kernel.settings import load_settings
from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.conftest import ADMIN_TOKEN, GUARD, dies_with_the_test, token_form

pytestmark = pytest.mark.slow


@contextmanager
def serving(
    db: Path | str, port: int, *extra: str, log: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`pruefstand serve` on `db` (a file, or a PostgreSQL URL with `log` given), until it answers /healthz."""
    env = {**os.environ, "PRUEFSTAND_ADMIN_TOKEN": ADMIN_TOKEN, **(env or {})}
    log = log or Path(db).with_suffix(".log")
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pruefstand.mock_server", "serve", "--db", str(db), "--port", str(port), *extra],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=dies_with_the_test,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        until_healthy(base, proc, lambda: log.read_text(errors="replace"))
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def until_healthy(base: str, proc: subprocess.Popen[bytes], output: Callable[[], str] = str) -> None:
    """Wait until the server answers /healthz (or has died: then `output` says what it printed); GUARD only against a
    hang."""
    deadline = time.monotonic() + GUARD
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"server did not come up:\n{output()}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes], db: Path) -> None:
    """SIGTERM; uvicorn finishes the requests, runs the shutdown, then exits with the signal's status."""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=GUARD) in (0, -signal.SIGTERM)
    assert "pruefstand stopped cleanly" in db.with_suffix(".log").read_text(errors="replace")


def test_serve_answers_over_http_shuts_down_cleanly_and_keeps_state(
    tmp_path: Path, seed_examples: dict[str, Any]
) -> None:
    db, port = tmp_path / "state.db", free_port()
    form = token_form(load_settings(env={}))
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with serving(db, port) as (base, proc):
        token = httpx.post(f"{base}/maco/oauth/token", data=form).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        first = httpx.post(f"{base}/maco/inbound", json=seed_examples["Z33_Marktlokation_Addition"], headers=auth)
        assert first.status_code == 201
        assert httpx.get(f"{base}/maco/ui/").status_code == 200
        stop(proc, db)
    assert db.exists()

    with serving(db, port) as (base, proc):
        again = httpx.post(f"{base}/maco/inbound", json=seed_examples["Z33_Marktlokation_Addition"], headers=auth)
        stored = httpx.get(
            f"{base}/_admin/sandboxes/default/maco/processes/{first.json()['businessKey']}", headers=admin
        )
        stop(proc, db)
    assert again.status_code == 201
    assert again.json() == first.json()  # the token and the idempotency record survived the restart
    assert stored.json()["pruefidentifikator"] == "25001"


def test_serve_with_a_partner_spec(tmp_path: Path) -> None:
    fixture = Path(__file__).parents[1] / "fixtures" / "orders-swagger2.json"
    db = tmp_path / "s.db"
    with serving(db, free_port(), "--spec", str(fixture), "--base-path", "/orders") as (base, proc):
        created = httpx.post(f"{base}/orders/order", json={"item": [{"id": "a"}]})  # kept (spec_mode stateful)
        answer = httpx.get(f"{base}/orders/order/{created.json()['id']}")
        missing = httpx.get(f"{base}/orders/order/42")
        refused = httpx.post(f"{base}/orders/order", json={})
        stop(proc, db)
    assert created.status_code == 201
    assert answer.json() == {"item": [{"id": "a"}], "id": "1"}
    assert missing.status_code == 404
    assert refused.status_code == 400


def test_serve_refuses_a_broken_spec_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.3\ninfo: [\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pruefstand.mock_server", "serve", "--spec", str(broken), "--base-path", "/x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{broken}: line 3, column 1" in result.stderr


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_workers_die_with_their_supervisor_even_on_kill_9(tmp_path: Path) -> None:
    db, port = tmp_path / "state.db", free_port()
    with serving(db, port, "--workers", "2") as (base, proc):
        deadline = time.monotonic() + GUARD
        while len(workers := _children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) >= 2
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + GUARD
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "a worker outlived its supervisor"
    with serving(db, port) as (base, proc):  # the port is free again at once
        assert httpx.get(f"{base}/healthz").status_code == 200
        stop(proc, db)


def test_a_second_server_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    db, port = tmp_path / "state.db", free_port()
    with serving(db, port) as (_, proc):
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "pruefstand.mock_server",
                "serve",
                "--db",
                str(tmp_path / "b.db"),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        stop(proc, db)
    assert second.returncode != 0
    assert second.stderr.strip().splitlines() == [
        f"Error: --port {port}: 127.0.0.1:{port} is already in use (another server listens there); pick another"
    ]


def test_a_state_path_that_cannot_be_opened_fails_at_once_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pruefstand.mock_server", "serve", "--db", str(tmp_path / "no" / "such" / "state.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"Error: --db {tmp_path}/no/such/state.db: cannot open the SQLite state file: No such file or directory"
    ]


@pytest.mark.slow
def test_without_a_configured_admin_token_one_is_kept_beside_the_state_file_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "state" / "mock.db"
    db.parent.mkdir()
    tokens = []
    for _ in range(2):
        with serving(db, free_port(), env={"PRUEFSTAND_ADMIN_TOKEN": ""}) as (base, proc):
            kept = Path(str(db) + ".admin-token")
            token = kept.read_text(encoding="utf-8").strip()
            answer = httpx.get(f"{base}/_admin/sandboxes/default/clock", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200
            stop(proc, db)
        tokens.append(token)
        assert f"admin token: {token} (kept in {kept})" in db.with_suffix(".log").read_text(encoding="utf-8")
    assert tokens[0] == tokens[1]
    assert kept.stat().st_mode & 0o777 == 0o600


def test_connections_are_spread_over_the_workers_and_a_dead_worker_is_replaced(tmp_path: Path) -> None:
    """`serve --workers 2` runs its own supervisor: each worker listens with a socket of its own (SO_REUSEPORT) and
    the kernel spreads new connections over them; kill -9 of a worker and another is started, the port answering
    throughout from the survivor; SIGTERM stops both cleanly."""
    db, port = tmp_path / "state.db", free_port()
    with serving(db, port, "--workers", "2") as (base, proc):

        def worker_of_new_connection() -> int | None:
            try:
                with httpx.Client(base_url=base, timeout=GUARD) as client:  # a connection of its own
                    return int(client.get("/healthz").json()["worker"])
            except httpx.TransportError:  # routed to a socket that just closed (the killed worker)
                return None

        def workers_answering(expected: int) -> set[int]:
            seen: set[int] = set()
            deadline = time.monotonic() + GUARD  # the second worker may still be building its app
            while len(seen) < expected and time.monotonic() < deadline:
                with ThreadPoolExecutor(8) as pool:  # a burst of connections, as a client's pool opens them
                    seen |= {w for w in pool.map(lambda _: worker_of_new_connection(), range(8)) if w is not None}
                time.sleep(0.05)
            return seen

        first = workers_answering(2)
        assert len(first) == 2, first
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        time.sleep(1)
        after = workers_answering(2)
        assert victim not in after
        assert len(after) == 2, after  # the survivor and the replacement
        stop(proc, db)


def test_a_console_nobody_reads_never_stops_the_mock(tmp_path: Path) -> None:
    """A harness that pipes `serve`'s output and reads it only at the end: once the pipe's 64 KiB are full, console
    lines wait (beyond 10,000 they would be counted and dropped), the requests are answered and journaled."""
    port = free_port()
    env = {**os.environ, "PRUEFSTAND_ADMIN_TOKEN": ADMIN_TOKEN, "PRUEFSTAND_WORKERS": "1"}
    command = [sys.executable, "-m", "pruefstand.mock_server", "serve", "--db", str(tmp_path / "s.db")]
    proc = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        until_healthy(base, proc)
        long_id = "x" * 60  # each line names it twice: about 200 bytes a line, 200 KB for 1,000 requests
        with httpx.Client(base_url=base, timeout=GUARD) as client:
            for number in range(1000):
                answer = client.get(f"/tmf-api/productOrderingManagement/v4/productOrder/{long_id}{number}")
                assert answer.status_code == 404
            assert client.get("/healthz").status_code == 200
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            journal = client.get("/_admin/sandboxes/default/requests", params={"limit": 1}, headers=admin).json()
        assert journal[0]["path"].endswith(f"{long_id}999")
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=GUARD)
    lines = [line for line in output.decode().splitlines() if " 404 " in line]
    assert len(lines) == 1000  # the lines waited for the console (up to 10,000 wait), none lost
    assert lines[-1].endswith(f"no productOrder with id '{long_id}999'")


def test_the_supervisor_of_several_workers_is_a_lean_process_that_loaded_no_flow(tmp_path: Path) -> None:
    """`serve --workers 2` checks everything, then becomes `serving.supervise` in the same process (same pid, the one
    a script started and signals): it holds none of the contracts, flows or document libraries the workers load."""
    db, port = tmp_path / "state.db", free_port()
    with serving(db, port, "--workers", "2") as (base, proc):
        command = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"pruefstand.mock_server.serving.supervise" in command
        maps = Path(f"/proc/{proc.pid}/maps").read_text(errors="replace")
        assert "jsonschema_rs" not in maps  # a compiled extension every worker maps (the contracts' validators)
        assert httpx.get(f"{base}/healthz").status_code == 200
        stop(proc, db)


def test_a_serving_worker_loads_no_document_library_until_a_document_is_rendered(tmp_path: Path) -> None:
    """fpdf2, fontTools, Pillow and drafthorse (about 27 MiB a worker) load in the render process only."""
    probe = (
        "import sys, dataclasses\n"
        "from pruefstand.mock_server.app import create_app\n"
        "from pruefstand.mock_server.kernel.settings import load_settings\n"
        f"create_app(dataclasses.replace(load_settings(), db={str(tmp_path / 'p.db')!r}))\n"
        "print(sorted(m for m in ('fpdf', 'fontTools', 'PIL', 'drafthorse') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=GUARD, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
