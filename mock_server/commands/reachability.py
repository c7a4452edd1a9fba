"""Before a run against a real system: is anything listening at the URL, and do the contract's paths exist there?
One line naming the problem instead of a run full of connection errors or 404 findings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
import httpx

from pruefstand.contracts.auth_providers import TlsSettings

PROBES = 3  # parameterless paths of the contract asked with GET


def preflight(
    document: Mapping[str, Any],
    base_url: str,
    headers: Mapping[str, str],
    *,
    what: str = "--url",
    tls: TlsSettings | None = None,
) -> None:
    """Ask a few of the contract's own paths with GET: a connection error, or 404 on every one of them (a base path
    missing from the URL), is a ClickException naming the URL; any other answer (200, 401, 405 …) means the API is
    there."""
    paths = [p for p in document.get("paths", {}) if "{" not in p][:PROBES] or ["/"]
    base = base_url.rstrip("/")
    statuses: list[int] = []
    with (tls or TlsSettings()).client(30, headers=dict(headers), trust_env=False) as client:
        for path in paths:
            try:
                statuses.append(client.get(base + path).status_code)
            except httpx.TransportError as exc:
                raise click.ClickException(
                    f"{what} {base_url}: nothing answers there ({type(exc).__name__}: {exc}); is the system running?"
                ) from exc
    if statuses and all(status == 404 for status in statuses):
        tried = ", ".join(base + p for p in paths)
        raise click.ClickException(
            f"{what} {base_url}: the contract's paths all answer 404 ({tried}); is the API's base path missing from "
            f"{what}?"
        )


def answers(url: str, what: str, tls: TlsSettings | None = None) -> None:
    """Anything answering HTTP at `url` (any status); a connection error is a ClickException naming the option."""
    try:
        with (tls or TlsSettings()).client(30, trust_env=False) as client:
            client.get(url)
    except httpx.TransportError as exc:
        raise click.ClickException(
            f"{what} {url}: nothing answers there ({type(exc).__name__}: {exc}); is the system running?"
        ) from exc
