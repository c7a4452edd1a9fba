"""The served HTTP edge (serving/http_protocol.py) on a real server: read deadlines answered 408 in the API's shape,
requests the HTTP parser refuses answered in JSON, a client that goes away journaled as such, and the banner and
readiness file only once the port accepts connections."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.conftest import ADMIN_TOKEN, dies_with_the_test

pytestmark = pytest.mark.slow
TMF = "/tmf-api/productOrderingManagement/v4/productOrder"
GUARD = 300.0  # seconds: only against a hang of the test itself, never a budget the server must meet


class Served:
    def __init__(self, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.port, self.proc, self.log = port, proc, log
        self.base = f"http://127.0.0.1:{port}"

    def exchange(self, data: bytes, *, close_after: bool = False) -> tuple[int, dict[str, str], Any]:
        """Send raw bytes, read the answer until the server closes; its status, headers and JSON body."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=GUARD) as conn:
            conn.sendall(data)
            if close_after:
                return 0, {}, None
            received = b""
            while chunk := conn.recv(65536):
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        return int(lines[0].split()[1]), headers, json.loads(body)

    def journal(self, **params: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.base}/_admin/sandboxes/edge/requests", params=params,
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=GUARD)  # fmt: skip
        return list(answer.json())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("edge")
    ready, log, port = folder / "ready.json", folder / "serve.log", free_port()
    with log.open("wb") as sink:
        command = ["serve", "--db", ":memory:", "--port", str(port), "--read-timeout", "1", "--ready-file", str(ready)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "pruefstand.mock_server", *command],
            env={**os.environ, "PRUEFSTAND_ADMIN_TOKEN": ADMIN_TOKEN},
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=dies_with_the_test,
        )
    try:
        while not ready.exists():  # readiness, not a time budget: the server says when it accepts
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(0.05)
        # the moment the file (and the banner) exist, the port accepts: no retry
        socket.create_connection(("127.0.0.1", port), timeout=GUARD).close()
        assert json.loads(ready.read_text()) == {"url": f"http://127.0.0.1:{port}", "pid": proc.pid}
        assert "pruefstand serving on" in log.read_text()
        yield Served(port, proc, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(GUARD)
    assert not ready.exists()  # removed at exit


def test_a_body_shorter_than_its_content_length_is_answered_408_in_the_apis_shape_and_journaled(
    served: Served,
) -> None:
    request = (f"POST {TMF} HTTP/1.1\r\nHost: x\r\nX-Pruefstand-Sandbox: edge\r\nContent-Type: application/json\r\n"
               "Content-Length: 100\r\n\r\n").encode() + b'{"productOrderItem": '  # fmt: skip
    status, headers, body = served.exchange(request)
    assert status == 408
    assert headers["content-type"] == "application/json"
    assert body["code"] == "408"  # TMF630's error shape
    assert body["message"] == "Request Timeout: the request body did not arrive within 1 s of its head"
    entry = served.journal(status="408")[0]
    assert (entry["path"], entry["problem"]) == (TMF, body["message"])
    assert served.journal(status="500") == []


def test_a_head_that_never_ends_is_answered_408(served: Served) -> None:
    status, _, body = served.exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    assert status == 408
    assert body["detail"] == "Request Timeout: the request's head did not arrive within 1 s"


@pytest.mark.parametrize(
    ("request_bytes", "status", "field", "says"),
    [
        (b"FOO /maco/inbound HTTP/1.1\r\nHost: x\r\n\r\n", 501, "detail", "Invalid method"),
        (b"POST /maco/inbound HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
         "message", "Transfer-Encoding can't be present with Content-Length"),
        (f"POST {TMF} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".encode(), 400, "message",
         "Invalid character in Content-Length"),
        (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "detail", "longer than 16384 bytes"),
    ],
)  # fmt: skip
def test_requests_the_parser_refuses_are_answered_in_json_naming_why(
    served: Served, request_bytes: bytes, status: int, field: str, says: str
) -> None:
    got, headers, body = served.exchange(request_bytes)
    assert got == status
    assert "json" in headers["content-type"]
    assert says in body[field]


def test_a_client_that_goes_away_mid_body_is_journaled_as_gone_not_as_a_500(served: Served) -> None:
    request = (f"POST {TMF} HTTP/1.1\r\nHost: x\r\nX-Pruefstand-Sandbox: edge\r\nContent-Type: application/json\r\n"
               "Content-Length: 50\r\n\r\n{").encode()  # fmt: skip
    served.exchange(request, close_after=True)
    for _ in range(10_000):  # the journal is written beside the requests: look until it holds the entry
        if gone := served.journal(status="499"):
            break
    assert gone[0]["problem"] == "the client closed the connection before its request was read"
    assert served.journal(status="500") == []
    assert "Traceback" not in served.log.read_text()
