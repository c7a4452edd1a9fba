"""The handler chain of an operation is built once, and requests through it stay independent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from connexion.apps import asynchronous
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import get_token, make_settings


def test_given_many_requests_then_each_operation_builds_its_decorators_once(
    monkeypatch: pytest.MonkeyPatch, example: Callable[[str], dict[str, Any]]
) -> None:
    built: list[object] = []
    original = asynchronous.StarletteDecorator

    class CountingDecorator(original):  # type: ignore[misc, valid-type]
        def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
            built.append(function)
            return super().__call__(function)  # type: ignore[no-any-return]

    monkeypatch.setattr(asynchronous, "StarletteDecorator", CountingDecorator)
    settings = make_settings(fast_path=False)  # the connexion chain is the point here
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        tokens = [get_token(client, settings, f"s{i}") for i in range(3)]
        keys = {
            client.post(
                "/maco/inbound", json=example("Z41_Marktlokation"), headers={"Authorization": f"Bearer {t}"}
            ).json()["businessKey"]
            for t in tokens
        }
    assert len(keys) == 3  # three sandboxes, three processes: no state leaked through the cached chain
    assert len(built) == 2  # login and inbound, once each


def test_the_cached_chain_sees_each_request_s_own_body(
    client: TestClient, auth: dict[str, str], example: Callable[[str], dict[str, Any]]
) -> None:
    accepted = client.post("/maco/inbound", json=example("Z41_Marktlokation"), headers=auth)
    refused = client.post("/maco/inbound", json={"zusatzdaten": {}}, headers=auth)
    accepted_again = client.post("/maco/inbound", json=example("Z41_Marktlokation"), headers=auth)
    assert accepted.status_code == 201
    assert refused.json()["errorCode"] == "400"
    assert refused.json()["message"].startswith(
        "Validation Failed: $: 'transaktionsdaten' is a required property (required by the contract); "
    )
    assert "$.zusatzdaten: 'prozessId' is a required property" in refused.json()["message"]
    assert accepted_again.json() == accepted.json()
