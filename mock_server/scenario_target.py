"""Where `pruefstand replay` runs scenarios: the mock in-process (the default) or servers at URLs."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
from collections.abc import Iterator, Mapping

import httpx
from starlette.testclient import TestClient

from contracts import BUNDLED_APIS
from contracts.scenarios import ScenarioTarget
from mock_server.app import create_app
from mock_server.settings import Settings
from mock_server.store import SQLiteStore


@contextlib.contextmanager
def in_process_target(settings: Settings) -> Iterator[ScenarioTarget]:
    """The mock on an in-memory store: no ports, nothing left behind; mock steps run."""
    admin_token = secrets.token_urlsafe(24)
    app = create_app(
        dataclasses.replace(settings, admin_token=admin_token, db=":memory:"), store=SQLiteStore(":memory:")
    )
    with contextlib.ExitStack() as stack:
        clients = {
            api.name: stack.enter_context(TestClient(app, base_url=f"http://localhost{api.base_path}/"))
            for api in BUNDLED_APIS
        }
        env = {**os.environ, "PRUEFSTAND_ADMIN_TOKEN": admin_token}
        yield ScenarioTarget(clients=clients, is_mock=True, env=env)


@contextlib.contextmanager
def url_target(
    root: str | None, api_urls: Mapping[str, str], *, is_mock: bool, env: Mapping[str, str]
) -> Iterator[ScenarioTarget]:
    """Servers at URLs: each API at `root` + its base path, unless `api_urls` names its own base URL."""
    with contextlib.ExitStack() as stack:
        clients: dict[str, httpx.Client] = {}
        for api in BUNDLED_APIS:
            base = api_urls.get(api.name) or (f"{root.rstrip('/')}{api.base_path}" if root else None)
            if base:
                clients[api.name] = stack.enter_context(httpx.Client(base_url=base.rstrip("/") + "/", timeout=30))
        yield ScenarioTarget(clients=clients, is_mock=is_mock, env=env)
