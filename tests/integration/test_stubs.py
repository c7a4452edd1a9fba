"""Stubs in WireMock's mapping format, per sandbox, as WireMock's documentation describes them (wiremock.org/docs:
stubbing, request matching, stateful behaviour, response templating, verifying): loaded from a folder in WireMock's
`mappings/` layout and added through the admin API; verification over the request journal."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, make_settings, token_form

MAPPINGS = Path(__file__).parents[1] / "fixtures" / "wiremock" / "mappings"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def mock() -> Iterator[TestClient]:
    app = create_app(make_settings(mappings=str(MAPPINGS)), store=SQLiteStore(":memory:"))
    with TestClient(app) as client:
        yield client


def in_sandbox(name: str) -> dict[str, str]:
    return {"X-Pruefstand-Sandbox": name}


def add(client: TestClient, sandbox: str, mapping: dict[str, Any]) -> dict[str, Any]:
    created = client.post(f"/_admin/sandboxes/{sandbox}/mappings", json=mapping, headers=ADMIN)
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_the_wiremock_to_do_scenario_moves_on_when_its_stub_is_served(mock: TestClient) -> None:
    """WireMock's "Stateful Behaviour" example: the list has one item until one is added, then two."""
    assert mock.get("/todo/items").json() == {"items": ["Buy milk"]}
    [scenario] = mock.get("/_admin/sandboxes/default/scenarios", headers=ADMIN).json()["scenarios"]
    assert scenario["name"] == "To do list"
    assert scenario["state"] == "Started"
    assert set(scenario["possibleStates"]) == {"Started", "Cancel newspaper item added"}
    assert mock.post("/todo/items", content="Cancel newspaper subscription").status_code == 201
    assert mock.get("/todo/items").json() == {"items": ["Buy milk", "Cancel newspaper subscription"]}
    again = mock.post("/todo/items", content="Cancel newspaper subscription")
    assert again.status_code != 201  # no stub for it in this state: the mock's own answer for an unknown path
    other = mock.get("/todo/items", headers=in_sandbox("other"))
    assert other.json() == {"items": ["Buy milk"]}  # each sandbox has its own scenario states
    reset = mock.post("/_admin/sandboxes/default/scenarios/reset", headers=ADMIN)
    assert reset.json()["scenarios"][0]["state"] == "Started"
    assert mock.get("/todo/items").json() == {"items": ["Buy milk"]}
    moved = mock.put(
        "/_admin/sandboxes/default/scenarios/To do list/state", json={"state": "Cancel newspaper item added"},
        headers=ADMIN,
    )  # fmt: skip
    assert moved.json()["state"] == "Cancel newspaper item added"
    assert len(mock.get("/todo/items").json()["items"]) == 2
    unknown = mock.put("/_admin/sandboxes/default/scenarios/nope/state", json={"state": "x"}, headers=ADMIN)
    assert unknown.status_code == 404
    assert "To do list" in unknown.json()["detail"]


def test_a_templated_answer_fills_in_path_segments_query_json_path_and_headers(mock: TestClient) -> None:
    answer = mock.post("/echo/abc-7?q=milk", json={"name": "Anna"})
    assert answer.status_code == 200
    assert answer.json() == {"id": "abc-7", "q": "milk", "name": "Anna", "method": "POST"}
    assert answer.headers["X-Echo-Id"] == "abc-7"
    first, second = (mock.get("/ids/new").json()["id"] for _ in range(2))
    assert uuid.UUID(first).version == 4
    assert first != second  # a random value per request


def test_the_highest_priority_wins_and_a_pattern_catches_the_rest(mock: TestClient) -> None:
    assert mock.get("/prio/special").text == "specific"
    assert mock.get("/prio/anything/else").text == "general"
    assert mock.delete("/prio/special").text == "general"  # the specific stub is for GET only


def test_query_parameters_and_headers_are_matched(mock: TestClient) -> None:
    assert mock.get("/search?q=oat+milk", headers={"Accept": "application/json"}).json() == {"hits": 1}
    assert mock.get("/search?q=oat+milk&page=2", headers={"Accept": "application/json"}).status_code == 404
    assert mock.get("/search?q=bread", headers={"Accept": "application/json"}).status_code == 404
    assert mock.get("/search?q=milk", headers={"Accept": "text/html"}).status_code == 404
    assert mock.get("/health/partner").text == "up"
    assert mock.get("/health/partner", headers={"X-Debug": "1"}).status_code == 404
    assert mock.get("/codes?code=abc").json() == {"error": "code must be digits"}


def test_json_bodies_by_equality_and_by_json_path(mock: TestClient) -> None:
    plain = mock.post("/orders", json={"item": "milk", "qty": 2, "note": "extra elements are ignored"})
    assert (plain.status_code, plain.headers["Location"]) == (201, "/orders/1")
    express = mock.post("/orders", json={"item": "milk", "qty": 2, "priority": "high"})
    assert (express.status_code, express.json()) == (202, {"queued": "express"})  # priority 2 beats the default 5
    assert mock.post("/orders", json={"item": "bread", "qty": 2}).status_code == 404


def test_a_fixed_delay_holds_the_answer(mock: TestClient) -> None:
    started = time.monotonic()
    assert mock.get("/slow").text == "finally"
    assert time.monotonic() - started >= 0.3


def test_a_stub_takes_precedence_over_the_flow_and_the_rest_goes_to_the_flow(
    mock: TestClient, example: Any, settings: Any
) -> None:
    token = mock.post("/maco/oauth/token", data=token_form(settings)).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    stubbed = example("Z34_Marktlokation")
    stubbed["zusatzdaten"]["prozessId"] = "STUB-409"
    refused = mock.post("/maco/inbound", json=stubbed, headers=auth)
    assert refused.status_code == 409
    assert refused.json() == {"errorCode": "409", "message": "prozessId STUB-409 is locked by a running Vorgang"}
    assert mock.get("/_admin/sandboxes/default/maco/processes", headers=ADMIN).json() == []  # the flow never saw it
    started = mock.post("/maco/inbound", json=example("Z34_Marktlokation"), headers=auth)
    assert started.status_code == 201
    journal = mock.get("/_admin/sandboxes/default/requests?path=/maco/inbound", headers=ADMIN).json()
    assert [e.get("stub") is not None for e in reversed(journal)] == [True, False]


def test_mappings_are_added_listed_replaced_removed_and_reset_per_sandbox(mock: TestClient) -> None:
    files = mock.get("/_admin/sandboxes/a/mappings", headers=ADMIN).json()
    assert files["meta"]["total"] == 15
    own = add(mock, "a", {"request": {"method": "GET", "url": "/mine"}, "response": {"status": 200, "body": "a's"}})
    assert mock.get("/mine", headers=in_sandbox("a")).text == "a's"
    assert mock.get("/mine", headers=in_sandbox("b")).status_code == 404  # another sandbox has no such stub
    listed = mock.get("/_admin/sandboxes/a/mappings", headers=ADMIN).json()
    assert listed["meta"]["total"] == 16
    assert listed["mappings"][0]["id"] == own["id"]  # the newest first
    assert mock.get(f"/_admin/sandboxes/a/mappings/{own['id']}", headers=ADMIN).json() == own
    replaced = mock.put(
        f"/_admin/sandboxes/a/mappings/{own['id']}",
        json={"request": {"method": "GET", "url": "/mine"}, "response": {"status": 200, "body": "changed"}},
        headers=ADMIN,
    )
    assert replaced.json()["id"] == own["id"]
    assert mock.get("/mine", headers=in_sandbox("a")).text == "changed"
    echo = "8c5db8b0-2db4-4ad7-a99f-38c9b00da3f7"  # a mapping from the files
    assert mock.delete(f"/_admin/sandboxes/a/mappings/{echo}", headers=ADMIN).json() == {"id": echo, "removed": True}
    assert mock.post("/echo/x", headers=in_sandbox("a"), json={}).status_code == 404
    assert mock.post("/echo/x", headers=in_sandbox("b"), json={}).status_code == 200
    assert mock.get(f"/_admin/sandboxes/a/mappings/{echo}", headers=ADMIN).status_code == 404
    reset = mock.post("/_admin/sandboxes/a/mappings/reset", headers=ADMIN).json()
    assert reset == {"sandbox": "a", "mappings": 15}
    assert mock.get("/mine", headers=in_sandbox("a")).status_code == 404
    assert mock.post("/echo/x", headers=in_sandbox("a"), json={}).status_code == 200


def test_a_mapping_is_refused_naming_what_wiremock_or_pruefstand_cannot_take(mock: TestClient) -> None:
    bad = mock.post("/_admin/sandboxes/a/mappings", json={"request": {}, "response": {"status": "x"}}, headers=ADMIN)
    assert bad.status_code == 400
    assert "$.response.status" in bad.json()["detail"]
    for response, named in (
        ({"status": 999}, "$.response.status: 999 is not an HTTP status"),
        ({"fixedDelayMilliseconds": 3_600_000}, "$.response.fixedDelayMilliseconds: 3600000 is outside 0-60000"),
        ({"base64Body": "not*base64"}, "$.response.base64Body: 'not*base64' does not match"),  # WireMock's schema
    ):
        refused = mock.post("/_admin/sandboxes/a/mappings", json={"request": {}, "response": response}, headers=ADMIN)
        assert refused.status_code == 400
        assert named in refused.json()["detail"]
    proxy = {"request": {"urlPath": "/p"}, "response": {"proxyBaseUrl": "http://upstream.example"}}
    refused = mock.post("/_admin/sandboxes/a/mappings", json=proxy, headers=ADMIN)
    assert refused.status_code == 400
    assert "$.response.proxyBaseUrl: not supported" in refused.json()["detail"]


def test_a_stubbed_answer_must_keep_the_contract_of_the_operation_it_answers(mock: TestClient) -> None:
    undocumented = {"request": {"method": "POST", "urlPath": "/maco/inbound"}, "response": {"status": 503}}
    refused = mock.post("/_admin/sandboxes/a/mappings", json=undocumented, headers=ADMIN)
    assert refused.status_code == 400
    assert "inbound 503" in refused.json()["detail"]
    assert "503 is not documented" in refused.json()["detail"]
    wrong_body = {
        "request": {"method": "POST", "urlPath": "/maco/inbound"},
        "response": {"status": 409, "jsonBody": {"message": "no errorCode"}},
    }
    refused = mock.post("/_admin/sandboxes/a/mappings", json=wrong_body, headers=ADMIN)
    assert refused.status_code == 400
    assert "'errorCode' is a required property" in refused.json()["detail"]
    allowed = {**wrong_body, "metadata": {"pruefstand": {"allowContractViolation": True}}}
    assert mock.post("/_admin/sandboxes/a/mappings", json=allowed, headers=ADMIN).status_code == 201
    not_there = {"request": {"method": "GET", "urlPath": "/maco/nothing"}, "response": {"status": 200}}
    refused = mock.post("/_admin/sandboxes/a/mappings", json=not_there, headers=ADMIN)
    assert "no operation of" in refused.json()["detail"]


def test_verification_counts_finds_and_names_the_near_misses(mock: TestClient) -> None:
    for item in ("milk", "bread", "milk"):
        mock.post("/orders", json={"item": item, "qty": 2}, headers={"X-Trace": item, **in_sandbox("v")})
    admin = "/_admin/sandboxes/v"
    pattern = {"method": "POST", "urlPath": "/orders", "bodyPatterns": [{"matchesJsonPath": "$[?(@.item == 'milk')]"}]}
    assert mock.post(f"{admin}/requests/count", json=pattern, headers=ADMIN).json() == {"count": 2}
    by_header = {"method": "POST", "urlPath": "/orders", "headers": {"X-Trace": {"equalTo": "bread"}}}
    found = mock.post(f"{admin}/requests/find", json=by_header, headers=ADMIN).json()
    [request] = found["requests"]
    assert json.loads(request["body"]) == {"item": "bread", "qty": 2}
    assert request["url"] == "/orders"
    assert request["pruefstand"]["status"] == 404  # no stub took bread
    missed = {"method": "POST", "urlPath": "/order", "bodyPatterns": [{"equalToJson": {"item": "milk", "qty": 2}}]}
    assert mock.post(f"{admin}/requests/count", json=missed, headers=ADMIN).json() == {"count": 0}
    near = mock.post(f"{admin}/near-misses/request-pattern", json=missed, headers=ADMIN).json()["nearMisses"]
    assert near[0]["request"]["url"] == "/orders"
    assert near[0]["matchResult"]["differences"] == ["urlPath: expected /order, got /orders"]
    assert near[0]["matchResult"]["distance"] < near[-1]["matchResult"]["distance"]
    closest = mock.post(
        f"{admin}/near-misses/request", json={"method": "GET", "url": "/prio/speciall"}, headers=ADMIN
    ).json()["nearMisses"][0]
    assert closest["stubMapping"]["request"]["urlPath"] == "/prio/special"
    bad = mock.post(f"{admin}/requests/count", json={"urlPath": "/x", "cookies": {}}, headers=ADMIN)
    assert bad.status_code == 400
    assert "cookies" in bad.json()["detail"]


def test_a_mapping_posted_again_with_its_id_replaces_it_with_200(mock: TestClient) -> None:
    mapping = {"id": "0f4e2d7c-1111-4222-8333-944455556666", "request": {"url": "/same"}, "response": {"body": "1"}}
    assert mock.post("/_admin/sandboxes/r/mappings", json=mapping, headers=ADMIN).status_code == 201
    again = {**mapping, "response": {"body": "2"}}
    assert mock.post("/_admin/sandboxes/r/mappings", json=again, headers=ADMIN).status_code == 200
    assert mock.get("/same", headers=in_sandbox("r")).text == "2"
