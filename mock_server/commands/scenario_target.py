"""Where `pruefstand replay` runs scenarios: the mock in-process (the default) or servers at URLs."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
from collections.abc import Iterator, Mapping

import httpx
from starlette.testclient import TestClient

from pruefstand.contracts.auth_providers import AuthProvider, HttpxAuth, TlsSettings
from pruefstand.contracts.listener import CallbackListener
from pruefstand.contracts.pacing import RateLimit, paced
from pruefstand.contracts.scenarios import ScenarioTarget
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.commands.arguments import DEFAULT_CLOCK_START, DEFAULT_SEED
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.settings import Settings
from pruefstand.mock_server.store import SQLiteStore


@contextlib.contextmanager
def listening(listen: str | None, callback_url: str | None) -> Iterator[CallbackListener | None]:
    """A listener on HOST:PORT (PORT 0: any free one), or none."""
    if listen is None:
        yield None
        return
    host, _, port = listen.rpartition(":")
    listener = CallbackListener()
    with listener.serving(host or "127.0.0.1", int(port or 0), public_url=callback_url):
        yield listener


@contextlib.contextmanager
def in_process_target(
    settings: Settings,
    listen: str | None = "127.0.0.1:0",
    push_to: str | None = None,
    *,
    seed: str | None = DEFAULT_SEED,
    clock_start: str | None = DEFAULT_CLOCK_START,
    rate: RateLimit | None = None,
) -> Iterator[ScenarioTarget]:
    """The mock on an in-memory store, nothing left behind; mock steps run; a listener on a free local port
    receives what the mock sends out. Deterministic unless told otherwise: identifiers and run ids from `seed`, every
    sandbox's clock standing at `clock_start` until a scenario moves it (None: random ids, real time)."""
    admin_token = secrets.token_urlsafe(24)
    app = create_app(
        dataclasses.replace(
            settings, admin_token=admin_token, db=":memory:", id_seed=seed or "", clock_start=clock_start or ""
        ),
        store=SQLiteStore(":memory:"),
    )
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(listening(listen, None))
        # one in-process client runs the app (one lifespan: one delivery worker, one journal); the APIs' clients
        # share its transport, each with its API's base URL
        runner = stack.enter_context(TestClient(app, base_url="http://localhost/"))
        clients: dict[str, httpx.Client] = {
            api.name: stack.enter_context(
                paced(httpx.Client(transport=runner._transport, base_url=f"http://localhost{api.base_path}/"), rate)
            )
            for api in registry.apis(served=True)
        }
        env = {**os.environ, "PRUEFSTAND_ADMIN_TOKEN": admin_token}
        yield ScenarioTarget(clients=clients, is_mock=True, env=env, listener=listener, push_to=push_to, seed=seed)


@contextlib.contextmanager
def url_target(
    root: str | None,
    api_urls: Mapping[str, str],
    *,
    is_mock: bool,
    env: Mapping[str, str],
    listen: str | None = None,
    callback_url: str | None = None,
    push_to: str | None = None,
    auth: AuthProvider | None = None,
    tls: TlsSettings | None = None,
    rate: RateLimit | None = None,
    timeout: float = 30.0,
) -> Iterator[ScenarioTarget]:
    """Servers at URLs: each API at `root` + its base path, unless `api_urls` names its own base URL. With `listen`,
    a listener receives what they send out, reachable for them at `callback_url` (default: its own address).
    Every client authenticates with `auth` (a step's own Authorization wins), presents `tls`' client certificate,
    waits for `rate` and gives up after `timeout` seconds."""
    tls = tls or TlsSettings()

    def client(base: str) -> httpx.Client:
        made = tls.client(timeout)
        made.base_url = httpx.URL(base.rstrip("/") + "/")
        if auth is not None:
            made.auth = HttpxAuth(auth)
        return paced(made, rate)

    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(listening(listen, callback_url))
        clients: dict[str, httpx.Client] = {}
        for api in registry.apis(served=True):
            base = api_urls.get(api.name) or (f"{root.rstrip('/')}{api.base_path}" if root else None)
            if base:
                clients[api.name] = stack.enter_context(client(base))
        for name, base in api_urls.items():  # a partner's own contract (replay --spec NAME=FILE)
            if name not in clients:
                clients[name] = stack.enter_context(client(base))
        yield ScenarioTarget(clients=clients, is_mock=is_mock, env=env, listener=listener, push_to=push_to)
