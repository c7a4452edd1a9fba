"""TMF622 in two profiles, chosen per sandbox: plain TM Forum v4 (`tmf622`, the default of a sandbox without FIT
data) and the FIT-API overlay (`fit`). What a plain v4 client sends is taken and what it gets back (orders, tasks,
events) is valid by the official v4 definitions; the FIT rules hold where the FIT profile is chosen. Also TMF630 done
right: instants compare as instants, bad filters are 400, sort, dotted fields, 206 for a partial page."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from starlette.testclient import TestClient

from pruefstand.contracts.listener import CallbackListener
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, GUARD, make_settings

TMF = "/tmf-api/productOrderingManagement/v4"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "TMF622-ProductOrder-v4.0.0.swagger.json"
SWAGGER = json.loads(REFERENCE.read_text(encoding="utf-8"))
PLAIN = {
    "productOrderItem": [{"id": "1", "action": "add"}],
    "relatedParty": [{"id": "c-1", "@referredType": "Individual"}],
}


def v4_errors(definition: str, instance: Any) -> list[str]:
    validator = Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": SWAGGER["definitions"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = make_settings(tmf622_buyer_progress="manual", delivery_backoff_base_ms=20, delivery_backoff_cap_ms=40)
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as test_client:
        yield test_client


def test_a_fresh_sandbox_is_plain_v4_and_takes_any_valid_order(client: TestClient) -> None:
    assert client.get("/_admin/sandboxes/default/tmf622/profile", headers=ADMIN).json() == {
        "profile": "auto",
        "effective": "tmf622",
    }
    assert v4_errors("ProductOrder_Create", PLAIN) == []
    created = client.post(f"{TMF}/productOrder", json=PLAIN)
    assert created.status_code == 201, created.text
    order = created.json()
    assert v4_errors("ProductOrder", order) == []
    assert (order["state"], order["relatedParty"], created.headers["Location"]) == (
        "acknowledged",
        PLAIN["relatedParty"],
        order["href"],
    )
    nobody = client.post(f"{TMF}/productOrder", json={"productOrderItem": [{"id": "1", "action": "modify"}]})
    assert nobody.status_code == 201, nobody.text  # no buyer, no product named: v4 allows both


def test_the_plain_v4_seller_steps_through_v4_states_only_and_every_event_is_valid_v4(client: TestClient) -> None:
    listener = CallbackListener()
    with listener.serving() as url:
        assert client.post(f"{TMF}/hub", json={"callback": url}).status_code == 201
        order = client.post(f"{TMF}/productOrder", json=PLAIN).json()
        client.patch(f"{TMF}/productOrder/{order['id']}", json={"description": "changed"})
        for _ in range(2):
            assert client.post(f"/_admin/sandboxes/default/tmf622/productOrder/{order['id']}/next", headers=ADMIN)
        deadline = time.monotonic() + GUARD
        while len(listener.received()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    received = [m.body for m in listener.received()]
    assert [(b["eventType"], b["event"]["productOrder"]["state"]) for b in received] == [
        ("ProductOrderCreateEvent", "acknowledged"),
        ("ProductOrderStateChangeEvent", "acknowledged"),
        ("ProductOrderAttributeValueChangeEvent", "acknowledged"),
        ("ProductOrderStateChangeEvent", "inProgress"),
        ("ProductOrderStateChangeEvent", "completed"),
    ]
    assert received[2]["fieldPath"] == "description"
    for body in received:
        assert v4_errors(body["eventType"], body) == [], body["eventType"]
    final = client.get(f"{TMF}/productOrder/{order['id']}").json()
    assert v4_errors("ProductOrder", final) == []
    assert "stateChangeReason" not in final  # no FIT reason codes in plain v4


def test_the_fit_profile_is_chosen_per_sandbox_or_per_request(client: TestClient) -> None:
    fit = {"X-Pruefstand-Profile": "fit"}
    refused = client.post(f"{TMF}/productOrder", json=PLAIN, headers=fit)
    assert refused.status_code == 422  # FIT: an order names its Auftraggeber
    assert "names no Auftraggeber" in refused.json()["message"]
    chosen = client.put("/_admin/sandboxes/s1/tmf622/profile", json={"profile": "fit"}, headers=ADMIN)
    assert chosen.json() == {"profile": "fit", "effective": "fit"}
    in_s1 = {"X-Pruefstand-Sandbox": "s1"}
    buyer = {**PLAIN, "relatedParty": [{"id": "500011", "role": "customer", "@referredType": "Organization"}]}
    assert client.post(f"{TMF}/productOrder", json=buyer, headers=in_s1).status_code == 409  # no framework agreement
    assert (
        client.post(f"{TMF}/productOrder", json=buyer, headers={**in_s1, "X-Pruefstand-Profile": "tmf622"}).status_code
        == 201
    )
    unknown = client.post(f"{TMF}/productOrder", json=PLAIN, headers={"X-Pruefstand-Profile": "mef"})
    assert unknown.status_code == 400
    assert "header X-Pruefstand-Profile: unknown profile 'mef'" in unknown.json()["message"]


def test_delete_removes_a_plain_order_and_the_fit_profile_keeps_every_order(client: TestClient) -> None:
    order = client.post(f"{TMF}/productOrder", json=PLAIN).json()
    kept = client.delete(f"{TMF}/productOrder/{order['id']}", headers={"X-Pruefstand-Profile": "fit"})
    assert kept.status_code == 409
    assert "the fit profile keeps every order" in kept.json()["message"]
    listener = CallbackListener()
    with listener.serving() as url:
        assert client.post(f"{TMF}/hub", json={"callback": url, "query": "eventType=ProductOrderDeleteEvent"})
        gone = client.delete(f"{TMF}/productOrder/{order['id']}")
        deadline = time.monotonic() + GUARD
        while not listener.received() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert gone.status_code == 204
    [deleted] = [m.body for m in listener.received()]
    assert (deleted["eventType"], deleted["@type"], deleted["event"]["productOrder"]["id"]) == (
        "ProductOrderDeleteEvent",
        "ProductOrderDeleteEvent",
        order["id"],
    )
    assert v4_errors("ProductOrderDeleteEvent", deleted) == []
    assert client.get(f"{TMF}/productOrder/{order['id']}").status_code == 404
    assert client.delete(f"{TMF}/productOrder/{order['id']}").status_code == 404


def test_patch_takes_application_json_merge_patch_and_json_patch(client: TestClient) -> None:
    order = client.post(f"{TMF}/productOrder", json=PLAIN).json()
    href = f"{TMF}/productOrder/{order['id']}"
    merged = client.patch(href, json={"description": "by application/json", "priority": "1"})
    assert merged.status_code == 200, merged.text
    assert (merged.json()["description"], merged.json()["priority"]) == ("by application/json", "1")
    operations = [
        {"op": "replace", "path": "/description", "value": "by JSON Patch"},
        {"op": "add", "path": "/note", "value": [{"text": "hello"}]},
        {"op": "remove", "path": "/priority"},
    ]
    json_patch = {"Content-Type": "application/json-patch+json"}
    patched = client.patch(href, content=json.dumps(operations), headers=json_patch)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["description"], body["note"], "priority" in body) == ("by JSON Patch", [{"text": "hello"}], False)
    # RFC 5789 2.2: a patch that does not fit the order as it is now is a conflicting state (409), and nothing changes
    for broken, says in [
        ([{"op": "remove", "path": "/priority"}], "operation 0 (remove /priority): the path is not there"),
        (
            [
                {"op": "replace", "path": "/description", "value": "x"},
                {"op": "test", "path": "/priority", "value": "1"},
            ],
            "test",
        ),
    ]:
        failed = client.patch(href, content=json.dumps(broken), headers=json_patch)
        assert failed.status_code == 409, failed.text
        assert "does not apply to productOrder" in failed.json()["message"]
        assert says in failed.json()["message"]
    assert client.get(href).json()["description"] == "by JSON Patch"


def test_order_dates_compare_as_instants_and_bad_filters_are_named(client: TestClient) -> None:
    client.put("/_admin/sandboxes/default/clock", json={"now": "2022-05-11T08:30:00Z", "frozen": True}, headers=ADMIN)
    order = client.post(f"{TMF}/productOrder", json=PLAIN).json()
    assert order["orderDate"] == "2022-05-11T10:30:00+02:00"
    for written in ("2022-05-11T10:30:00+02:00", "2022-05-11T10:30:00 02:00", "2022-05-11T08:30:00Z"):
        found = client.get(f"{TMF}/productOrder", params={"orderDate": written}).json()
        assert [o["id"] for o in found] == [order["id"]], written
    assert client.get(f"{TMF}/productOrder", params={"id": order["id"]}).json()[0]["id"] == order["id"]
    bad = client.get(f"{TMF}/productOrder", params={"orderDate": "yesterday"})
    assert bad.status_code == 400
    assert "query parameter orderDate: 'yesterday' is not a date-time" in bad.json()["message"]
    unknown = client.get(f"{TMF}/productOrder", params={"colour": "red"})
    assert unknown.status_code == 400
    assert "query parameter colour: 'colour' is not an attribute of this resource" in unknown.json()["message"]
    not_ordered = client.get(f"{TMF}/productOrder", params={"priority.gt": "high"})
    assert not_ordered.status_code == 400


def test_sort_dotted_fields_and_a_partial_page(client: TestClient) -> None:
    ids = [
        client.post(f"{TMF}/productOrder", json={**PLAIN, "priority": str(p), "description": f"d{p}"}).json()["id"]
        for p in (2, 0, 1)
    ]
    by_priority = client.get(f"{TMF}/productOrder", params={"sort": "-priority"}).json()
    assert [o["priority"] for o in by_priority] == ["2", "1", "0"]
    page = client.get(f"{TMF}/productOrder", params={"sort": "priority", "limit": 2, "offset": 0})
    assert page.status_code == 206
    assert (page.headers["Content-Range"], page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == (
        "items 0-1/3",
        "3",
        "2",
    )
    assert [o["id"] for o in page.json()] == [ids[1], ids[2]]
    whole = client.get(f"{TMF}/productOrder")
    assert (whole.status_code, "Content-Range" in whole.headers) == (200, False)
    dotted = client.get(f"{TMF}/productOrder/{ids[0]}", params={"fields": "productOrderItem.action,description"})
    assert dotted.json() == {
        "id": ids[0],
        "href": f"http://testserver{TMF}/productOrder/{ids[0]}",
        "description": "d2",
        "productOrderItem": [{"id": "1", "action": "add"}],
    }
    assert client.get(f"{TMF}/productOrder", params={"sort": "colour"}).status_code == 400


def test_the_hub_takes_the_seeds_query_wording_and_refuses_a_query_it_cannot_evaluate(client: TestClient) -> None:
    listener = CallbackListener()
    with listener.serving() as url:
        seed_wording = "productOrder.category=terminationBySeller&productOrder.relatedPartyRefOrValue=c-1"
        assert client.post(f"{TMF}/hub", json={"callback": url, "query": seed_wording}).status_code == 201
        client.post(f"{TMF}/productOrder", json={**PLAIN, "category": "terminationBySeller"})
        client.post(f"{TMF}/productOrder", json={**PLAIN, "category": "productChange"})  # not for this subscription
        deadline = time.monotonic() + GUARD
        while len(listener.received()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
    assert [m.body["event"]["productOrder"]["category"] for m in listener.received()] == ["terminationBySeller"] * 2
    # the contract states which queries the hub can evaluate (a pattern, explained in words in the answer)
    for query in ("eventType=ProductOrderTeleportEvent", "colour=red", "state="):
        refused = client.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/x", "query": query})
        assert refused.status_code == 400, query
        message = refused.json()["message"]
        assert f"$.query: {query!r} is not a query the hub can evaluate" in message
        assert "eventType (events this hub sends" in message
