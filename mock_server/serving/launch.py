"""How a served process runs uvicorn: the kit's HTTP protocol (read deadlines, refusals in the API's shape), an access
log without credentials, and the start banner printed only once the port accepts connections (plus, for scripts, a
readiness file written then)."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruefstand.mock_server.http.redaction import redacted_query

APP = "pruefstand.mock_server.serving.asgi:create_app_from_env"


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """What each serving process needs besides the settings the supervisor resolved (picklable: spawned workers)."""

    log_level: str = "warning"
    access_log: bool = False
    read_timeout: float = 15.0


def uvicorn_config(host: str, port: int, options: ServerOptions) -> Any:
    """uvicorn's Config for one serving process: the app factory, the kit's protocol, a redacted access log."""
    import uvicorn

    from pruefstand.mock_server.serving.http_protocol import DeadlineProtocol

    logging.getLogger("uvicorn.access").addFilter(_redact_access_line)
    return uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        log_level=options.log_level,
        access_log=options.access_log,
        http=DeadlineProtocol.with_timeout(options.read_timeout),
        timeout_graceful_shutdown=30,
    )


def _redact_access_line(record: logging.LogRecord) -> bool:
    """uvicorn's access line names the path with its query: a token in the query (RFC 6750 §2.3) is not printed."""
    args = record.args
    if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
        path, query = args[2].split("?", 1)
        record.args = (*args[:2], f"{path}?{redacted_query(query)}", *args[3:])
    return True


def run_announced(
    host: str,
    port: int,
    banner: Sequence[str],
    ready_file: Path | None,
    *,
    echo: Callable[[str], None],
    serve: Callable[[], None],
) -> None:
    """Run `serve` until SIGINT/SIGTERM; print the banner (and write the readiness file) once the port accepts
    connections; at the end remove the file and exit as the signal says, as uvicorn would."""
    stop = threading.Event()
    announce_when_ready(host, port, banner, ready_file=ready_file, echo=echo, stop=stop)
    ended: list[int] = []

    def ending(signum: int, _frame: object) -> None:  # uvicorn re-raises the signal it stopped on, after its shutdown
        ended.append(signum)
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, ending) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        serve()
    except SystemExit:
        if not ended:
            raise
    finally:
        stop.set()
        if ready_file is not None:
            ready_file.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for signum in ended[:1]:
        signal.raise_signal(signum)


def announce_when_ready(
    host: str,
    port: int,
    lines: Sequence[str],
    *,
    ready_file: Path | None,
    echo: Callable[[str], None],
    stop: threading.Event,
) -> threading.Thread:
    """In a thread: wait until host:port accepts a connection (the app started; uvicorn listens only after its
    start-up), then print `lines` and write `ready_file` (JSON: url, pid; written whole, then renamed into place)."""

    def wait_and_tell() -> None:
        while not stop.is_set():
            if _accepts(host, port):
                break
            stop.wait(0.02)
        else:
            return
        for line in lines:
            echo(line)
        if ready_file is not None:
            write_ready_file(ready_file, f"http://{_url_host(host)}:{port}")

    thread = threading.Thread(target=wait_and_tell, name="pruefstand-ready", daemon=True)
    thread.start()
    return thread


def write_ready_file(path: Path, url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps({"url": url, "pid": os.getpid()}) + "\n", encoding="utf-8")
    partial.replace(path)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _accepts(host: str, port: int) -> bool:
    target = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    try:
        with socket.create_connection((target, port), timeout=1.0):
            return True
    except OSError:
        return False
