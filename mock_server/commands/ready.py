"""`pruefstand ready URL`: wait until a system answers at URL (a CI step between starting it and checking it)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import httpx

from pruefstand.contracts.auth_providers import TlsSettings
from pruefstand.mock_server.commands.arguments import checked_url

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("url")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Give up after this many seconds.")
@click.option("--status", "statuses", type=int, multiple=True, help="Answers that mean ready (default: any below 500).")
@click.option("--ca", type=_FILE, help="CA bundle (PEM) that verifies the system's certificate.")
@click.option("--cert", type=_FILE, help="Client certificate (PEM), when the system demands mTLS.")
@click.option("--key", type=_FILE, help="Private key (PEM) of --cert.")
def ready(
    url: str, timeout: float, statuses: tuple[int, ...], ca: Path | None, cert: Path | None, key: Path | None
) -> None:
    """Ask URL with GET until it answers (a status below 500, or one of --status); exit 1 when --timeout passes."""
    checked_url(url, "URL")
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with TlsSettings(cert=cert, key=key, ca=ca).client(timeout=min(10.0, timeout), trust_env=False) as client:
        while True:
            try:
                status = client.get(url).status_code
                if (status in statuses) if statuses else status < 500:
                    click.echo(f"{url} answered {status}: ready")
                    return
                last = f"answered {status}"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                click.echo(f"{url} not ready after {timeout:g} s ({last})", err=True)
                sys.exit(1)
            time.sleep(0.25)
