"""After a trigger, the app calls the customer's backend (updateProcessData), received by a real listener on
127.0.0.1: the body per the backend contract, the token, retries when the backend fails first, the journal."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.kernel.settings import SettingsError
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, GUARD, get_token, make_settings
from tests.contract.test_fuzz_own_apis import serving_app

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Backend:
    """A customer backend that records every call and fails the first `failures` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.failures = failures

    def app(self) -> Starlette:
        async def update(request: Request) -> JSONResponse:
            self.calls.append(
                {"query": dict(request.query_params), "headers": dict(request.headers), "body": await request.json()}
            )
            if len(self.calls) <= self.failures:
                return JSONResponse({"error": "busy"}, status_code=503)
            return JSONResponse({})

        return Starlette(routes=[Route("/updateProcessData", update, methods=["POST"])])


def wait_for(condition: Callable[[], bool], seconds: float = GUARD) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.fixture
def backend() -> Iterator[tuple[Backend, str]]:
    receiver = Backend(failures=1)
    with serving_app(receiver.app()) as url:
        yield receiver, url


def test_the_backend_receives_update_process_data_after_a_retry(
    backend: tuple[Backend, str], example: Callable[[str], dict[str, Any]]
) -> None:
    receiver, url = backend
    settings = make_settings(
        maco_backend_url=url,
        maco_backend_token="backend-secret",
        delivery_backoff_base_ms=50,
        delivery_backoff_cap_ms=50,
    )
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        auth = {"Authorization": f"Bearer {get_token(client, settings)}"}
        started = client.post("/maco/inbound", json=example("Z33_Marktlokation_Addition"), headers=auth).json()
        wait_for(lambda: len(receiver.calls) == 2)
        journal = client.get("/_admin/sandboxes/default/deliveries", headers=ADMIN).json()
        process = client.get(f"/maco/processes/{started['businessKey']}", headers=auth).json()

    first, second = receiver.calls
    assert first["body"] == second["body"]  # the retry repeats the same message
    assert second["query"] == {"command": "AKTUALISIEREN_PROZESSDATEN"}
    assert second["headers"]["authorization"] == "Bearer backend-secret"
    assert second["headers"]["x-pruefstand-delivery-id"] == first["headers"]["x-pruefstand-delivery-id"]
    body = second["body"]
    assert body["zusatzdaten"] == {
        "businessKey": started["businessKey"],
        "targetBusinessKey": started["businessKey"],
        "prozessId": "00505688-E4A2-1EDF-A0C2-C81842E2515E",
    }
    assert body["stammdaten"] == example("Z33_Marktlokation_Addition")["stammdaten"]
    td = body["transaktionsdaten"]
    assert (td["pruefidentifikator"], td["kategorie"], td["lokationsId"]) == ("25001", "Z36", "52754496222")
    assert td["dokumentennummer"] == process["message"]["dokumentennummer"] == "PSD000000000001"
    assert td["nachrichtendatum"] == process["history"][1]["at"]
    assert [h["status"] for h in process["history"]] == ["RECEIVED", "SENT"]
    assert process["status"] == "SENT"
    [delivery] = journal
    assert delivery["status"] == "delivered"
    assert delivery["kind"] == "updateProcessData"
    assert [a["statusCode"] for a in delivery["attempts"]] == [503, 200]
    assert delivery["attempts"][0]["error"] == "answered 503"


def test_a_sandbox_sets_its_own_backend_and_replays_call_nothing(
    backend: tuple[Backend, str], example: Callable[[str], dict[str, Any]]
) -> None:
    receiver, url = backend
    receiver.failures = 0
    settings = make_settings(delivery_backoff_base_ms=50)
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        no_backend = client.get("/_admin/sandboxes/ci-7/maco/backend", headers=ADMIN)
        set_it = client.put("/_admin/sandboxes/ci-7/maco/backend", json={"url": url}, headers=ADMIN)
        auth = {"Authorization": f"Bearer {get_token(client, settings, 'ci-7')}"}
        other = {"Authorization": f"Bearer {get_token(client, settings, 'ci-8')}"}
        client.post("/maco/inbound", json=example("Z41_Marktlokation"), headers=auth)
        client.post("/maco/inbound", json=example("Z41_Marktlokation"), headers=auth)  # a replay: no new message
        client.post("/maco/inbound", json=example("Z41_Marktlokation"), headers=other)  # no backend in ci-8
        wait_for(lambda: len(receiver.calls) >= 1)
        time.sleep(0.3)
        journal_8 = client.get("/_admin/sandboxes/ci-8/deliveries", headers=ADMIN).json()
    assert no_backend.status_code == 404
    assert set_it.json() == {"url": url, "hasToken": False}
    assert len(receiver.calls) == 1
    assert "authorization" not in receiver.calls[0]["headers"]
    assert journal_8 == []
    assert json.dumps(receiver.calls[0]["body"]).count("00505688-E4A2-1EDF-A0C2-C81842E2515E") == 1


def test_a_backend_the_mock_may_not_send_to_is_refused_when_it_is_set() -> None:
    """Given a MaCo backend URL on a metadata address: as a setting it stops the start; through the admin API it is
    refused with 400 naming the field; nothing is stored either way."""
    with pytest.raises(SettingsError, match=re.escape("maco_backend_url: a private or reserved address 169.254")):
        make_settings(maco_backend_url="http://169.254.169.254", delivery_allow_hosts="127.0.0.1, *.example")
    with create_app(make_settings(), store=SQLiteStore(":memory:")).test_client() as client:
        backend = "/_admin/sandboxes/default/maco/backend"
        refused = client.put(backend, json={"url": "http://169.254.169.254/app"}, headers=ADMIN)
        elsewhere = client.put(backend, json={"url": "https://backend.example/app"}, headers=ADMIN)
        kept = client.get(backend, headers=ADMIN)
    assert refused.status_code == 400
    assert (
        "$.url: a private or reserved address 169.254.169.254 is not on the delivery allow-list"
        in (refused.json()["detail"])
    )
    assert elsewhere.status_code == 400
    assert "$.url: host backend.example is not on the delivery allow-list (loopback)" in elsewhere.json()["detail"]
    assert kept.status_code == 404
