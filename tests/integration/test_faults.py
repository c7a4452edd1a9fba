"""Faults and latency on demand: per request (Prefer) and per sandbox rule (admin API), each answered in the API's own
error shape or as a slow or dropped answer over a real server, and each named in the request journal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.contract.test_fuzz_own_apis import serving_app

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
ORDER = {"productOrderItem": [{"id": "1", "action": "add"}]}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with create_app(make_settings(), store=SQLiteStore(":memory:")).test_client() as test_client:
        yield test_client


def journal(client: TestClient, sandbox: str = "default") -> list[dict[str, Any]]:
    return list(client.get(f"/_admin/sandboxes/{sandbox}/requests", headers=ADMIN).json())


def test_a_status_asked_for_comes_in_each_apis_own_error_shape(client: TestClient) -> None:
    prefer = {"Prefer": "pruefstand-status=503"}
    tmf = client.get(ORDERS, headers=prefer)
    assert (tmf.status_code, tmf.json()["@type"], tmf.json()["code"]) == (503, "Error", "503")
    maco = client.post("/maco/inbound", json={}, headers=prefer)
    assert maco.json() == {"errorCode": "503", "message": "injected fault: status 503 (header)"}
    quittung = client.post("/v2.0/quittung/prepare", json={}, headers=prefer)
    assert (quittung.status_code, set(quittung.json())) == (503, {"err"})
    assert [e["fault"] for e in journal(client)] == ["status 503 (header)"] * 3


def test_latency_is_waited_and_a_bad_preference_is_named(client: TestClient) -> None:
    started = time.monotonic()
    answer = client.get(ORDERS, headers={"Prefer": "respond-async, pruefstand-latency=250, pruefstand-jitter=50"})
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.25
    refused = client.get(ORDERS, headers={"Prefer": "pruefstand-status=200"})
    assert refused.status_code == 400
    assert "header Prefer: status=200: an injected status is an error, 400..599" in refused.json()["message"]
    assert client.get(ORDERS, headers={"Prefer": "pruefstand-fault=explode"}).status_code == 400
    rule_only = client.get(
        ORDERS, headers={"Prefer": "pruefstand-probability=0.5"}
    )  # a rule's setting, not a request's
    assert "unknown fault setting 'probability'; known: fault, jitter, latency, status" in rule_only.json()["message"]
    assert journal(client)[-1]["fault"] == "latency 250+50ms (header)"


def test_sandbox_rules_apply_by_method_and_path_and_a_bad_rule_stores_nothing(client: TestClient) -> None:
    rules = [{"method": "POST", "path": "/productOrder", "status": 500}]
    assert client.put("/_admin/sandboxes/f/faults", json={"rules": rules}, headers=ADMIN).status_code == 200
    flaky = {"X-Pruefstand-Sandbox": "f"}
    assert client.post(ORDERS, json=ORDER, headers=flaky).status_code == 500
    assert client.get(ORDERS, headers=flaky).json() == []  # nothing was created, GET is not affected
    assert client.post(ORDERS, json=ORDER).status_code == 201  # another sandbox: no rule
    bad = client.put("/_admin/sandboxes/f/faults", json={"rules": [{"path": "/x"}]}, headers=ADMIN)
    assert bad.status_code == 400
    assert "$.rules[0]: injects nothing" in bad.json()["detail"]
    assert client.get("/_admin/sandboxes/f/faults", headers=ADMIN).json() == {"rules": rules}
    assert client.put("/_admin/sandboxes/f/faults", json={"rules": []}, headers=ADMIN).status_code == 200
    assert client.post(ORDERS, json=ORDER, headers=flaky).status_code == 201
    assert [e.get("fault") for e in journal(client, "f")] == [None, None, "status 500 (rule)"]


def test_a_slow_body_arrives_in_pieces_and_a_dropped_answer_breaks_off() -> None:
    app = create_app(make_settings(), store=SQLiteStore(":memory:"))
    with serving_app(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        for _ in range(3):
            http.post(ORDERS, json=ORDER)
        started = time.monotonic()
        with http.stream("GET", ORDERS, headers={"Prefer": "pruefstand-fault=slow-body"}) as slow:
            pieces = list(slow.iter_raw())
        assert len(pieces) == 8
        assert time.monotonic() - started >= 0.7
        assert len(httpx.Response(200, content=b"".join(pieces)).json()) == 3
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(ORDERS, headers={"Prefer": "pruefstand-fault=drop"})
        entries = http.get("/_admin/sandboxes/default/requests", headers=ADMIN).json()
    assert [e.get("fault") for e in entries[:2]] == ["drop (header)", "slow-body (header)"]
