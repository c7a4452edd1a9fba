"""Shared fixtures: the mock built in-process on an in-memory store, clients, tokens, the seed examples."""

from __future__ import annotations

import copy
import ctypes
import itertools
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from pruefstand.contracts import bundled_spec_path
from pruefstand.mock_server.app import Services, create_app
from pruefstand.mock_server.flows.maco.settings import MacoSettings
from pruefstand.mock_server.kernel.settings import Settings, load_settings
from pruefstand.mock_server.serving.postgres_server import PostgresMissing, create_database, temporary_postgres
from pruefstand.mock_server.store import SQLiteStore

ADMIN_TOKEN = "test-admin-token"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def seed_examples() -> dict[str, dict[str, Any]]:
    """The four published START_BERECHNUNGSFORMEL examples, by name."""
    data = yaml.safe_load(bundled_spec_path("maco/examples/START_BERECHNUNGSFORMEL.yaml").read_text("utf-8"))
    return {name: entry["value"] for name, entry in data.items()}


@pytest.fixture
def example(seed_examples: dict[str, dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """A fresh, mutable copy of a seed example."""
    return lambda name: copy.deepcopy(seed_examples[name])


def dies_with_the_test() -> None:
    """preexec_fn of a process a test starts: it gets SIGTERM when the test process ends, however it ends (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def pytest_configure(config: pytest.Config) -> None:  # noqa: ARG001 (the hook's signature)
    """SIGTERM ends a run as Ctrl-C does: the fixtures' teardown runs (servers stopped, clusters removed)."""

    def interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)


# Seconds a test waits for something it waits on (a server's readiness, a delivery) before it calls it a hang: never a
# budget a busy machine must meet (tests wait on readiness, not on the clock).
GUARD = 600.0


def make_settings(**overrides: Any) -> Settings:
    return load_settings(env={}, overrides={"admin_token": ADMIN_TOKEN, "db": ":memory:", **overrides})


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, store=SQLiteStore(":memory:"))
    with app.test_client() as test_client:
        test_client.services = app.services
        yield test_client


@pytest.fixture
def services(client: TestClient) -> Services:
    found: Services = client.services
    return found


def token_form(settings: Settings) -> dict[str, str]:
    m = settings.section("maco", MacoSettings)
    return {
        "grant_type": "password",
        "client_id": m.client_id,
        "client_secret": m.client_secret,
        "username": m.username,
        "password": m.password,
    }


def get_token(client: TestClient, settings: Settings, sandbox: str | None = None) -> str:
    headers = {"X-Pruefstand-Sandbox": sandbox} if sandbox else {}
    response = client.post("/maco/oauth/token", data=token_form(settings), headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def auth(client: TestClient, settings: Settings) -> dict[str, str]:
    """Authorization header for the default sandbox."""
    return {"Authorization": f"Bearer {get_token(client, settings)}"}


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for the session: $PRUEFSTAND_TEST_POSTGRES_URL, or one started here (initdb/pg_ctl in a
    temporary folder, torn down after). Without PostgreSQL the tests that need it are skipped, unless
    PRUEFSTAND_REQUIRE_POSTGRES is set (scripts/test sets it: CI never skips them)."""
    given = os.environ.get("PRUEFSTAND_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    try:
        with temporary_postgres() as url:
            yield url
    except PostgresMissing as exc:
        if os.environ.get("PRUEFSTAND_REQUIRE_POSTGRES"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A new, empty database on the session's server."""
    return create_database(postgres_server, f"t{os.getpid()}_{next(_databases)}")
