"""`pruefstand listen`: a real listener process that prints one line per request and records each as a JSON line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pruefstand.mock_server.serving.process_hygiene import free_port

GUARD = 300  # seconds: against a hang of the test itself, never a budget a busy machine must meet


def test_the_listener_prints_and_records_what_arrives_without_credentials(tmp_path: Path) -> None:
    port, record = free_port(), tmp_path / "out" / "received.jsonl"
    command = [sys.executable, "-m", "pruefstand.mock_server", "listen", "--port", str(port), "--record", str(record)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while True:  # until the listener answers (or has died): readiness, not a time budget
            try:
                event = {
                    "eventType": "ProductOrderCreateEvent",
                    "event": {"productOrder": {"id": "o-1", "state": "acknowledged"}},
                }
                answer = httpx.post(f"http://127.0.0.1:{port}/tmf/listener/productOrderCreateEvent", json=event,
                                    headers={"Authorization": "Bearer s3cret"}, timeout=GUARD)  # fmt: skip
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(0.05)
        assert answer.status_code == 201  # the TMF622 listener contract: 201 Received
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=GUARD)
    assert f"listening on http://127.0.0.1:{port}" in err
    assert "POST /tmf/listener/productOrderCreateEvent  ProductOrderCreateEvent id=o-1 state=acknowledged" in out
    assert "1 request(s) received" in err
    [line] = record.read_text(encoding="utf-8").splitlines()
    recorded = json.loads(line)
    assert recorded["body"]["event"]["productOrder"]["id"] == "o-1"
    assert recorded["headers"]["authorization"] == "(not kept)"
    assert "s3cret" not in line
    assert record.stat().st_mode & 0o777 == 0o600


def test_a_stdout_nobody_reads_never_holds_the_answers() -> None:
    """A harness that pipes the listener's output and reads it at the end: past the pipe's 64 KiB the lines wait,
    the system under test still gets its answers."""
    port = free_port()
    command = [sys.executable, "-m", "pruefstand.mock_server", "listen", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    event = {"eventType": "ProductOrderStateChangeEvent", "event": {"productOrder": {"id": "o" * 60, "state": "x"}}}
    url = f"http://127.0.0.1:{port}/tmf/listener/productOrderStateChangeEvent"
    try:
        while True:  # until the listener answers (or has died)
            try:
                httpx.post(url, json=event, timeout=GUARD)
                break
            except httpx.ConnectError:
                assert process.poll() is None
                time.sleep(0.05)
        with httpx.Client(timeout=GUARD) as client:  # about 130 bytes a line: 1,000 lines are twice the pipe
            statuses = {client.post(url, json=event).status_code for _ in range(1000)}
        assert statuses == {201}
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=GUARD)
    assert out.decode().count("ProductOrderStateChangeEvent") == 1001


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_listener_ends_on_sigint_and_sigterm_even_when_its_parent_ignored_them(signum: int) -> None:
    """A shell that starts a job with `&` hands it SIGINT ignored; the listener still ends on it (and on SIGTERM)."""
    port = free_port()

    def ignoring() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    command = [sys.executable, "-m", "pruefstand.mock_server", "listen", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=ignoring)
    try:
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=GUARD)
                break
            except httpx.ConnectError:
                assert process.poll() is None
                time.sleep(0.05)
        process.send_signal(signum)
        _, err = process.communicate(timeout=GUARD)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert b"request(s) received" in err
