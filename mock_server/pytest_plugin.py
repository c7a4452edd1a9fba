"""pytest plugin (entry point `pytest11`): the mock in-process as fixtures, for a partner's own integration tests.

    def test_my_backend_triggers(pruefstand_client, pruefstand_maco_auth, pruefstand_example):
        trigger = pruefstand_example("maco", "inbound", "Z34_Marktlokation")
        answer = pruefstand_client.post("/maco/inbound", json=trigger, headers=pruefstand_maco_auth)
        assert answer.status_code == 201

Each test gets a fresh mock on an in-memory store; settings come from PRUEFSTAND_* like `pruefstand serve`.
"""

from __future__ import annotations

import dataclasses
import secrets
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the mock and its libraries are imported when a fixture is first used, never at plugin load
    from connexion import AsyncApp
    from starlette.testclient import TestClient

    from pruefstand.mock_server.kernel.settings import Settings


def _quietly_imported() -> Any:
    """The mock's modules, imported without the warnings its libraries raise about each other (a host suite with
    `filterwarnings = error` must not fail because this plugin is installed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pruefstand.mock_server import app, store
        from pruefstand.mock_server.commands import fuzz_target
        from pruefstand.mock_server.kernel import settings

    return app, fuzz_target, settings, store


@pytest.fixture
def pruefstand_settings() -> Settings:
    """The mock's settings for this test: from the environment, in memory, with a fresh admin token."""
    _, _, settings, _ = _quietly_imported()
    loaded: Settings = settings.load_settings()
    return dataclasses.replace(loaded, db=":memory:", admin_token=secrets.token_urlsafe(24))


@pytest.fixture
def pruefstand_app(pruefstand_settings: Settings) -> AsyncApp:
    app, _, _, store = _quietly_imported()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built: AsyncApp = app.create_app(pruefstand_settings, store=store.SQLiteStore(":memory:"))
    return built


@pytest.fixture
def pruefstand_client(pruefstand_app: AsyncApp) -> Iterator[TestClient]:
    """An HTTP client on the mock in-process (lifespan running, so callbacks are delivered)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's own warning about the httpx it is built on
        from starlette.testclient import TestClient

        client = TestClient(pruefstand_app, base_url="http://localhost")
    with client:
        yield client


@pytest.fixture
def pruefstand_maco_auth(pruefstand_client: TestClient, pruefstand_settings: Settings) -> dict[str, str]:
    """Authorization header with a MaCo token from the mock's token endpoint."""
    _, fuzz_target, _, _ = _quietly_imported()
    from pruefstand.mock_server.kernel import registry

    maco = registry.api("maco")
    credentials = fuzz_target.Credentials.for_api(pruefstand_settings, maco)
    token = fuzz_target.fetch_password_token(pruefstand_client, f"{maco.base_path}/oauth/token", credentials)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def pruefstand_admin_auth(pruefstand_settings: Settings) -> dict[str, str]:
    """Authorization header for the admin API."""
    return {"Authorization": f"Bearer {pruefstand_settings.admin_token}"}


@pytest.fixture
def pruefstand_example() -> Any:
    """`pruefstand_example(api, operation_id, name)`: a fresh copy of a documented request example of a bundled API
    (the published MaCo triggers, TMF622 orders, ...), to send as it is or to change."""
    from pruefstand.mock_server.commands.api_specs import request_example

    return request_example
