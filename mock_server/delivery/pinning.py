"""Deliveries connect only to addresses the target policy checked: the HTTP client's connections are opened by a
network backend that resolves the host itself, checks every address it got (targets.py), and connects to a checked
one. No second lookup happens between the check and the connection (DNS rebinding cannot slip an internal address in);
TLS still verifies the certificate against the URL's host name (httpcore passes it as the server name).
"""

from __future__ import annotations

import typing
from typing import Any

import anyio
import httpcore
import httpx

from pruefstand.mock_server.delivery.targets import TargetPolicy


class CheckedNetwork(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: TargetPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (the signature is the library's)
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await anyio.to_thread.run_sync(self._policy.resolve, host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"host {host} cannot be resolved: {exc}") from exc
        refusal = self._policy.resolved_refusal(host, addresses)
        if refusal is not None:
            raise httpcore.ConnectError(refusal)
        last: Exception | None = None
        for address in dict.fromkeys(addresses):  # in the resolver's order, each once
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"host {host} resolved to no address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def checked_client(policy: TargetPolicy, *, timeout: float, keepalive_expiry: float) -> httpx.AsyncClient:
    """An HTTP client whose every connection goes through CheckedNetwork (no proxy from the environment either: a
    proxy would connect on our behalf, unchecked)."""
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(keepalive_expiry=keepalive_expiry))
    pool: Any = transport._pool  # httpx builds the pool; its network backend is the one place to check connections
    pool._network_backend = CheckedNetwork(policy)
    return httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False)
