"""pytest plugin (entry point `pytest11`): the mock in-process as fixtures, for a partner's own integration tests.

    def test_my_backend_triggers(pruefstand_client, pruefstand_maco_auth, pruefstand_example):
        trigger = pruefstand_example("maco", "inbound", "Z34_Marktlokation")
        answer = pruefstand_client.post("/maco/inbound", json=trigger, headers=pruefstand_maco_auth)
        assert answer.status_code == 201

Each test gets a fresh mock on an in-memory store; settings come from PRUEFSTAND_* like `pruefstand serve`.
"""

from __future__ import annotations

import dataclasses
import json
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
    path = fuzz_target.token_path(
        fuzz_target.load_spec(registry.spec_path(maco)), maco
    )  # the contract's token operation
    token = fuzz_target.fetch_password_token(pruefstand_client, f"{maco.base_path}{path}", credentials)
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


@pytest.fixture
def pruefstand_verify(pruefstand_client: TestClient, pruefstand_admin_auth: dict[str, str]) -> Any:
    """`pruefstand_verify(method=..., path=..., count=..., ...)`: check what your system sent the mock, as WireMock's
    `verify` does. A request pattern from keywords (`method`, `url`, `path`, `path_pattern`, `url_pattern`,
    `headers={name: value}`, `query={name: value}`, `body_json={...}` with `ignore_extra=True`, `body_json_path=expr`
    or `(expr, value)`, `body_contains=text`), or `pattern={...}` in WireMock's own form; `count` the number expected
    (default: at least one); `sandbox` (default `default`). Fails with the near misses: the closest requests the mock
    received and what differed. Returns the matching requests (WireMock's logged-request shape)."""

    def verify(*, count: int | None = None, sandbox: str = "default", pattern: dict[str, Any] | None = None,
               **keywords: Any) -> list[dict[str, Any]]:  # fmt: skip
        wanted = pattern if pattern is not None else request_pattern(**keywords)
        admin = f"/_admin/sandboxes/{sandbox}"
        found = pruefstand_client.post(f"{admin}/requests/find", json=wanted, headers=pruefstand_admin_auth)
        assert found.status_code == 200, found.text
        requests: list[dict[str, Any]] = found.json()["requests"]
        if (count is None and requests) or len(requests) == count:
            return requests
        misses = pruefstand_client.post(
            f"{admin}/near-misses/request-pattern", json=wanted, headers=pruefstand_admin_auth
        ).json()["nearMisses"]
        expected = "at least 1" if count is None else str(count)
        lines = [f"expected {expected} request(s) matching {wanted}, the mock received {len(requests)}"]
        lines += ["closest requests it received, and what differed:" if misses else "and nothing close to it"]
        for miss in misses[:5]:
            got = miss["request"]
            lines.append(f"  {got['method']} {got['url']}  (distance {miss['matchResult']['distance']})")
            lines += [f"    - {difference}" for difference in miss["matchResult"]["differences"]]
        raise AssertionError("\n".join(lines))

    return verify


def request_pattern(
    *,
    method: str | None = None,
    url: str | None = None,
    path: str | None = None,
    path_pattern: str | None = None,
    url_pattern: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body_json: Any = None,
    ignore_extra: bool = False,
    body_json_path: str | tuple[str, Any] | None = None,
    body_contains: str | None = None,
) -> dict[str, Any]:
    """A WireMock request pattern from plain keywords (values are matched with `equalTo`)."""
    pattern: dict[str, Any] = {"method": method.upper()} if method else {}
    for key, value in (("url", url), ("urlPath", path), ("urlPathPattern", path_pattern), ("urlPattern", url_pattern)):
        if value is not None:
            pattern[key] = value
    if headers:
        pattern["headers"] = {name: {"equalTo": value} for name, value in headers.items()}
    if query:
        pattern["queryParameters"] = {name: {"equalTo": value} for name, value in query.items()}
    bodies: list[dict[str, Any]] = []
    if body_json is not None:
        bodies.append({"equalToJson": body_json, **({"ignoreExtraElements": True} if ignore_extra else {})})
    if isinstance(body_json_path, tuple):
        expression, value = body_json_path
        text = value if isinstance(value, str) else json.dumps(value)
        bodies.append({"matchesJsonPath": {"expression": expression, "equalTo": text}})
    elif body_json_path is not None:
        bodies.append({"matchesJsonPath": body_json_path})
    if body_contains is not None:
        bodies.append({"contains": body_contains})
    if bodies:
        pattern["bodyPatterns"] = bodies
    return pattern
