"""pytest plugin (entry point `pytest11`): the mock in-process as fixtures, for a partner's own integration tests.

    def test_my_backend_triggers(pruefstand_client, pruefstand_maco_auth):
        answer = pruefstand_client.post("/maco/inbound", json=my_trigger(), headers=pruefstand_maco_auth)
        assert answer.status_code == 201

Each test gets a fresh mock on an in-memory store; settings come from PRUEFSTAND_* like `pruefstand serve`.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator

import pytest
from connexion import AsyncApp
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.fuzz_target import Credentials, fetch_maco_token
from mock_server.settings import Settings, load_settings
from mock_server.store import SQLiteStore


@pytest.fixture
def pruefstand_settings() -> Settings:
    """The mock's settings for this test: from the environment, in memory, with a fresh admin token."""
    return dataclasses.replace(load_settings(), db=":memory:", admin_token=secrets.token_urlsafe(24))


@pytest.fixture
def pruefstand_app(pruefstand_settings: Settings) -> AsyncApp:
    return create_app(pruefstand_settings, store=SQLiteStore(":memory:"))


@pytest.fixture
def pruefstand_client(pruefstand_app: AsyncApp) -> Iterator[TestClient]:
    """An HTTP client on the mock in-process (lifespan running, so callbacks are delivered)."""
    with TestClient(pruefstand_app, base_url="http://localhost") as client:
        yield client


@pytest.fixture
def pruefstand_maco_auth(pruefstand_client: TestClient, pruefstand_settings: Settings) -> dict[str, str]:
    """Authorization header with a MaCo token from the mock's token endpoint."""
    credentials = Credentials.from_settings(pruefstand_settings.maco)
    return {"Authorization": f"Bearer {fetch_maco_token(pruefstand_client, '/maco/oauth/token', credentials)}"}


@pytest.fixture
def pruefstand_admin_auth(pruefstand_settings: Settings) -> dict[str, str]:
    """Authorization header for the admin API."""
    return {"Authorization": f"Bearer {pruefstand_settings.admin_token}"}
