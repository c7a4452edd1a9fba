"""`pruefstand listen`: a listener for what a system sends out (TMF622 events, MaCo backend callbacks), printing one
line per request and, with --record, appending each as a JSON line; it answers as a TMF622 listener (201) or a MaCo
backend (200 {})."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from pruefstand.contracts.listener import CallbackListener, Received
from pruefstand.mock_server.commands.arguments import writable
from pruefstand.mock_server.http.console_lines import BatchedConsole

_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=9000, show_default=True, help="0: any free port.")
@click.option(
    "--record",
    "record_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append every request as a JSON line here (credentials in headers are not written).",
)
def listen(host: str, port: int, record_file: Path | None) -> None:
    """Receive what a system sends out and show it, until Ctrl-C. Give the printed URL as the TMF622 hub callback
    or the MaCo backend URL."""
    record_file = writable(record_file, "--record")
    if record_file is not None:
        record_file.chmod(0o600)  # what partners' systems send: bodies may carry personal data

    # a stdout nobody reads (a harness piping it) must not hold the answers to the system under test
    console = BatchedConsole(sys.stdout)

    def received(entry: Received) -> None:
        shown = f"{time.strftime('%H:%M:%S')} {entry.method} {entry.path}  {summary(entry.body)}"
        console.handle(logging.makeLogRecord({"msg": shown, "levelno": logging.INFO}))
        if record_file is not None:
            line = {
                "at": entry.at,
                "method": entry.method,
                "path": entry.path,
                "query": entry.query,
                "headers": {k: ("(not kept)" if k in _SECRET_HEADERS else v) for k, v in entry.headers.items()},
                "body": entry.body,
            }
            descriptor = os.open(record_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")

    listener = CallbackListener(on_received=received)
    # SIGINT and SIGTERM end it, also when the parent started it with them ignored (a shell's `&` ignores SIGINT)
    stopped = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopped.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with listener.serving(host, port) as url:
            click.echo(f"listening on {url} (Ctrl-C ends)", err=True)
            while not stopped.wait(3600):
                pass
    except RuntimeError as exc:
        raise click.ClickException(f"{exc} (is the port taken?)") from exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.flush()
    click.echo(f"\n{len(listener.received())} request(s) received", err=True)


def summary(body: Any) -> str:
    """What a message is in a few words: an event's type and resource state, else its first keys."""
    if not isinstance(body, dict):
        return str(body)[:120]
    if "eventType" in body:
        resource: Any = next(iter((body.get("event") or {}).values()), {})
        found = resource if isinstance(resource, dict) else {}
        parts = [str(body["eventType"]), f"id={found.get('id')}" if found.get("id") else "",
                 f"state={found.get('state')}" if found.get("state") else ""]  # fmt: skip
        return " ".join(p for p in parts if p)
    return ", ".join(f"{k}={str(v)[:40]}" for k, v in list(body.items())[:4])
