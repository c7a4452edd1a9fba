"""TMF622 v5 at /tmf-api/productOrderingManagement/v5: the same orders as v4, one store, and everything it answers or
sends valid against the official v5.0.0 OAS (tests/fixtures/reference, read with its discriminators honoured)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from pruefstand.contracts import SchemaValidator, load_spec, specs_root
from pruefstand.contracts.derived_contract import derive, schema_ref
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, make_settings

V5 = "/tmf-api/productOrderingManagement/v5"
V4 = "/tmf-api/productOrderingManagement/v4"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "TMF622-ProductOrdering-v5.0.0.oas.yaml"
ORDER = {
    "@type": "ProductOrder",
    "category": "residential",
    "description": "FTTH 250 bestellen",
    "productOrderItem": [
        {
            "@type": "ProductOrderItem",
            "id": "1",
            "action": "add",
            "quantity": 1,
            "productOffering": {"@type": "ProductOfferingRef", "id": "FTTH-250", "name": "FTTH 250"},
        }
    ],
    "relatedParty": [
        {
            "@type": "RelatedPartyRefOrPartyRoleRef",
            "role": "customer",
            "partyOrPartyRole": {
                "@type": "PartyRef",
                "id": "c-1",
                "name": "Buyer GmbH",
                "@referredType": "Organization",
            },
        }
    ],
    "note": [{"@type": "Note", "text": "bitte vormittags"}],
}


@functools.cache
def _official() -> dict[str, Any]:
    """The official v5 document, every path kept, its oneOf + discriminator read as OpenAPI 3 defines them."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return derive(yaml.load(REFERENCE.read_text(encoding="utf-8"), Loader=loader), lambda _path: True)


def official(name: str, instance: Any) -> list[str]:
    """Violations of `instance` against the official v5 schema `name`."""
    return [
        str(v) for v in SchemaValidator(schema_ref(_official(), f"#/components/schemas/{name}")).violations(instance)
    ]


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(make_settings(tmf622_buyer_progress="manual"), store=SQLiteStore(":memory:"))
    with app.test_client() as test_client:
        yield test_client


def deliveries(client: TestClient) -> list[dict[str, Any]]:
    return list(client.get("/_admin/sandboxes/default/deliveries", headers=ADMIN).json())


def test_a_plain_v5_client_creates_lists_filters_retrieves_patches_cancels_and_deletes(client: TestClient) -> None:
    created = client.post(f"{V5}/productOrder", json=ORDER)
    assert created.status_code == 201, created.text
    order = created.json()
    assert official("ProductOrder", order) == []
    assert created.headers["Location"] == order["href"] == f"http://testserver{V5}/productOrder/{order['id']}"
    assert (order["@type"], order["state"]) == ("ProductOrder", "acknowledged")
    assert order["relatedParty"] == ORDER["relatedParty"]
    assert order["productOrderItem"][0]["productOffering"]["id"] == "FTTH-250"
    assert "orderDate" not in order
    assert "stateChangeHistory" not in order
    client.post(f"{V5}/productOrder", json={**ORDER, "category": "business"})

    listed = client.get(f"{V5}/productOrder", params={"relatedParty.partyOrPartyRole.id": "c-1", "limit": 1})
    assert listed.status_code == 200  # the v5 contract documents no 206: the range headers say it is a part
    assert listed.headers["X-Total-Count"] == "2"
    assert listed.headers["Content-Range"] == "items 0-0/2"
    assert all(official("ProductOrder", o) == [] for o in listed.json())
    residential = client.get(f"{V5}/productOrder", params={"category": "residential", "fields": "state"}).json()
    assert official("ProductOrder", residential[0]) == []  # a selection keeps what v5 requires (@type)
    assert residential == [{"@type": "ProductOrder", "id": order["id"], "href": order["href"], "state": "acknowledged"}]
    assert client.get(f"{V5}/productOrder", params={"colour": "red"}).status_code == 400
    no_party = client.get(f"{V5}/cancelProductOrder", params={"relatedParty.id": "c-1"})  # a task has no parties
    assert "'relatedParty' is not an attribute of this resource" in no_party.json()["message"]

    assert client.get(order["href"]).json() == order
    patched = client.patch(order["href"], json={"@type": "ProductOrder", "description": "FTTH 500 bestellen"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "FTTH 500 bestellen"
    assert official("ProductOrder", patched.json()) == []

    cancel = {"@type": "CancelProductOrder", "productOrder": {"@type": "ProductOrderRef", "id": order["id"]}}
    task = client.post(f"{V5}/cancelProductOrder", json={**cancel, "cancellationReason": "Kunde zieht um"})
    assert task.status_code == 201, task.text
    assert official("CancelProductOrder", task.json()) == []
    assert (task.json()["state"], task.json()["productOrder"]["id"]) == ("done", order["id"])
    assert client.get(task.json()["href"]).json() == task.json()
    assert client.get(order["href"]).json()["state"] == "cancelled"

    assert client.delete(order["href"]).status_code == 204
    gone = client.get(order["href"])
    assert gone.status_code == 404
    assert official("Error", gone.json()) == []


def test_one_store_an_order_made_through_either_version_is_read_through_the_other(client: TestClient) -> None:
    through_v5 = client.post(f"{V5}/productOrder", json=ORDER).json()
    as_v4 = client.get(f"{V4}/productOrder/{through_v5['id']}").json()
    assert as_v4["relatedParty"] == [
        {"role": "customer", "id": "c-1", "name": "Buyer GmbH", "@referredType": "Organization"}
    ]
    v4_order = {
        "productOrderItem": [{"id": "1", "action": "add", "product": {"id": "p-9", "name": "FTTH"}}],
        "relatedParty": [{"id": "c-2", "role": "customer", "@referredType": "Organization"}],
        "externalId": "B-7",  # plain v4: one string
    }
    as_array = client.post(f"{V4}/productOrder", json={**v4_order, "externalId": [{"id": "B-7", "owner": "buyer"}]})
    assert as_array.status_code == 409  # ExternalIdentifier[] is the FIT-API profile's (and v5's), not plain v4's
    assert "$.externalId: this sandbox works in the plain TMF622 v4 profile" in as_array.json()["message"]
    through_v4 = client.post(f"{V4}/productOrder", json=v4_order).json()
    listed = [{"id": "B-8"}]
    merge = client.patch(f"{V4}/productOrder/{through_v4['id']}", json={"externalId": listed},
                         headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    json_patch = client.patch(f"{V4}/productOrder/{through_v4['id']}",
                              json=[{"op": "replace", "path": "/externalId", "value": listed}],
                              headers={"Content-Type": "application/json-patch+json"})  # fmt: skip
    assert (merge.status_code, json_patch.status_code) == (409, 409), (merge.text, json_patch.text)
    assert client.get(f"{V4}/productOrder/{through_v4['id']}").json()["externalId"] == "B-7"  # nothing changed
    as_v5 = client.get(f"{V5}/productOrder/{through_v4['id']}").json()
    assert official("ProductOrder", as_v5) == []
    assert as_v5["relatedParty"][0]["partyOrPartyRole"] == {
        "@type": "PartyRef",
        "id": "c-2",
        "@referredType": "Organization",
    }
    assert as_v5["productOrderItem"][0]["product"] == {"@type": "ProductRef", "id": "p-9", "name": "FTTH"}
    assert as_v5["externalId"] == [{"@type": "ExternalIdentifier", "id": "B-7"}]
    external = [{"@type": "ExternalIdentifier", "id": "V5-1", "owner": "buyer"}]
    listed_v5 = client.post(f"{V5}/productOrder", json={**ORDER, "externalId": external})
    seen_by_v4 = client.get(f"{V4}/productOrder/{listed_v5.json()['id']}").json()
    assert seen_by_v4["externalId"] == "V5-1"  # a plain v4 client reads v4's string


def test_a_v5_subscriber_gets_v5_events_and_a_v4_subscriber_v4_events_of_the_same_orders(client: TestClient) -> None:
    v5_hub = client.post(f"{V5}/hub", json={"@type": "Hub", "callback": "http://127.0.0.1:9/v5-buyer"})
    assert v5_hub.status_code == 201, v5_hub.text
    assert official("Hub", v5_hub.json()) == []
    assert v5_hub.headers["Location"] == f"http://testserver{V5}/hub/{v5_hub.json()['id']}"
    client.post(f"{V4}/hub", json={"callback": "http://127.0.0.1:9/v4-buyer"})
    order = client.post(f"{V5}/productOrder", json=ORDER).json()
    step = f"/_admin/sandboxes/default/tmf622/productOrder/{order['id']}/next"
    assert client.post(step, headers=ADMIN).status_code == 200  # inProgress
    client.patch(order["href"], json={"@type": "ProductOrder", "description": "geändert"})
    client.post(f"{V5}/cancelProductOrder", json={"@type": "CancelProductOrder", "productOrder": {"id": order["id"],
                "@type": "ProductOrderRef"}})  # fmt: skip
    client.delete(order["href"])
    sent = deliveries(client)
    to_v5 = [d for d in sent if "/v5-buyer/" in d["target"]]
    to_v4 = [d for d in sent if "/v4-buyer/" in d["target"]]
    kinds = [d["kind"] for d in to_v5]
    assert kinds == [d["kind"] for d in to_v4]
    assert {
        "ProductOrderCreateEvent",
        "ProductOrderStateChangeEvent",
        "ProductOrderAttributeValueChangeEvent",
        "CancelProductOrderCreateEvent",
        "CancelProductOrderStateChangeEvent",
        "ProductOrderDeleteEvent",
    } <= set(kinds)
    for delivery in to_v5:
        assert official(delivery["kind"], delivery["payload"]) == [], delivery["kind"]
        assert delivery["target"].endswith("/listener/" + delivery["kind"][0].lower() + delivery["kind"][1:])
    listener = load_spec(specs_root() / "tmf622" / "listener.yaml")
    for delivery in to_v4:
        schema = listener.operation(f"listen{delivery['kind']}")["requestBody"]["content"]["application/json"]
        assert SchemaValidator(schema["schema"]).violations(delivery["payload"]) == [], delivery["kind"]
        assert delivery["payload"]["event"].get("productOrder", {}).get("href", V4).startswith(V4)


def test_bad_input_gets_a_4xx_in_the_v5_error_shape_and_stores_nothing(client: TestClient) -> None:
    cases = [
        ({"json": {"productOrderItem": [{"id": "1", "action": "add"}]}}, 400, "'@type' is a required property"),
        ({"json": {**ORDER, "productOrderItem": []}}, 400, "$.productOrderItem"),
        ({"content": b"{bad", "headers": {"Content-Type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}, 400, "not valid UTF-8"),
        ({"content": b"[" * 5000 + b"]" * 5000, "headers": {"Content-Type": "application/json"}}, 400, "nested"),
        ({"content": json.dumps(ORDER), "headers": {"Content-Type": "text/plain"}}, 400, "send application/json"),
    ]
    for kwargs, status, says in cases:
        answer = client.post(f"{V5}/productOrder", **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == status, (kwargs, answer.text)
        assert official("Error", answer.json()) == []
        assert says in answer.json()["message"], answer.text
    assert client.get(f"{V5}/productOrder").json() == []
    assert client.put(f"{V5}/productOrder").status_code == 405
    assert client.get(f"{V5}/productOrder", params={"offset": "-1"}).status_code == 400
    for name, value in (("offset", "9" * 5000), ("limit", "9" * 5000), ("offset", "²"), ("limit", "1" * 10)):
        refused = client.get(f"{V5}/productOrder", params={name: value})
        assert refused.status_code == 400, (name, value[:20], refused.text[:200])
        assert f"query parameter {name}" in refused.json()["message"]
    for path in ("productOrder", "cancelProductOrder"):
        assert client.get(f"{V5}/{path}", params={"offset": "9" * 5000}).status_code == 400


def test_the_served_v5_contract_is_the_official_one_derived_and_up_to_date() -> None:
    """specs/tmf622/product-ordering-v5.json is what `python -m pruefstand.contracts.derived_contract` makes of the
    official document: regenerate it when the reference or the derivation changes."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    reference = yaml.load(REFERENCE.read_text(encoding="utf-8"), Loader=loader)
    committed = json.loads((specs_root() / "tmf622" / "product-ordering-v5.json").read_text(encoding="utf-8"))
    title = f"{reference['info']['title']} (derived by pruefstand from the official {reference['info']['version']})"
    assert committed == derive(reference, lambda path: not path.startswith("/listener"), title=title)
    assert '"discriminator": {' not in json.dumps(committed)  # every discriminated oneOf dispatches on @type now


def test_a_v5_json_patch_changes_the_order_as_v5_shows_it(client: TestClient) -> None:
    order = client.post(f"{V5}/productOrder", json=ORDER).json()
    patch = {"Content-Type": "application/json-patch+json"}
    operations = [
        {"op": "test", "path": "/category", "value": "residential"},
        {"op": "replace", "path": "/category", "value": "B2B product order"},  # the official example's change
        {"op": "replace", "path": "/productOrderItem/0/quantity", "value": 2},
        {"op": "remove", "path": "/description"},
    ]
    patched = client.patch(order["href"], json=operations, headers=patch)
    assert patched.status_code == 200, patched.text
    shown = patched.json()
    assert (shown["category"], shown["productOrderItem"][0]["quantity"]) == ("B2B product order", 2)
    assert "description" not in shown
    assert official("ProductOrder", shown) == []
    assert client.get(f"{V4}/productOrder/{order['id']}").json()["category"] == "B2B product order"  # one store
    failed_test = client.patch(order["href"], json=[{"op": "test", "path": "/category", "value": "x"}], headers=patch)
    assert failed_test.status_code == 409
    assert "the test failed" in failed_test.json()["message"]
    seller_owned = client.patch(order["href"], json=[{"op": "replace", "path": "/state", "value": "completed"}],
                                headers=patch)  # fmt: skip
    assert seller_owned.status_code == 400
    assert "$.state: is set by the seller" in seller_owned.json()["message"]
    malformed = client.patch(order["href"], json=[{"op": "jump", "path": "/category"}], headers=patch)
    assert malformed.status_code == 400
    assert official("Error", malformed.json()) == []
    query_patch = client.patch(
        order["href"], json=operations, headers={"Content-Type": "application/json-patch-query+json"}
    )
    assert query_patch.status_code == 400  # not taken; v5 documents 400, no 415
    assert "application/json-patch-query+json is not taken here" in query_patch.json()["message"]


def test_a_v5_order_that_v4_cannot_hold_is_refused_naming_the_field_not_a_500(client: TestClient) -> None:
    with_note = {**ORDER, "note": [{"@type": "Note", "author": "Anna"}]}  # v5 lets a note go without text
    refused = client.post(f"{V5}/productOrder", json=with_note)
    assert refused.status_code == 400
    assert "$.note[0]: 'text' is a required property" in refused.json()["message"]
    assert "v4 requires it" in refused.json()["message"]
    assert official("Error", refused.json()) == []
    assert client.get(f"{V5}/productOrder").json() == []  # nothing stored
    order = client.post(f"{V5}/productOrder", json=ORDER).json()
    bad_priority = client.patch(order["href"], json={"@type": "ProductOrder", "priority": "urgent"})
    assert bad_priority.status_code == 400
    assert "$.priority" in bad_priority.json()["message"]


def test_a_v5_order_whose_v4_event_could_not_be_sent_is_refused_and_not_stored(client: TestClient) -> None:
    milestones = {**ORDER, "productOrderMilestone": [{"@type": "ProductOrderMilestone", "description": "x"}]}
    refused = client.post(f"{V5}/productOrder", json=milestones)
    assert refused.status_code == 400, refused.text
    assert "$.productOrderMilestone[0]: 'name' is a required property" in refused.json()["message"]
    assert "v4 events require it" in refused.json()["message"]
    assert client.get(f"{V5}/productOrder").json() == []
    assert deliveries(client) == []


def test_a_plain_v4_subscriber_gets_v4_shapes_and_no_event_v4_does_not_define(client: TestClient) -> None:
    """In the plain profile an order made through v5 reaches a v4 subscriber with v4's externalId string; a milestone
    (no event of TMF622 v4.0.0) goes to the v5 subscriber only, with a status v5 allows."""
    client.post(f"{V4}/hub", json={"callback": "http://127.0.0.1:9/v4-buyer"})
    client.post(f"{V5}/hub", json={"@type": "Hub", "callback": "http://127.0.0.1:9/v5-buyer"})
    external = [{"@type": "ExternalIdentifier", "id": "V5-9", "owner": "buyer"}]
    order = client.post(f"{V5}/productOrder", json={**ORDER, "externalId": external}).json()
    admin = f"/_admin/sandboxes/default/tmf622/productOrder/{order['id']}"
    reached = client.post(f"{admin}/milestone", json={"name": "pointOfNoReturn"}, headers=ADMIN)
    assert reached.status_code == 200, reached.text
    sent = deliveries(client)
    to_v4 = [d["payload"] for d in sent if "/v4-buyer" in d["target"]]
    to_v5 = [d["payload"] for d in sent if "/v5-buyer" in d["target"]]
    assert "ProductOrderMilestoneEvent" not in [e["eventType"] for e in to_v4]
    assert to_v4[0]["eventType"] == "ProductOrderCreateEvent"
    assert {e["event"]["productOrder"]["externalId"] for e in to_v4} == {"V5-9"}
    [milestone] = [e for e in to_v5 if e["eventType"] == "ProductOrderMilestoneEvent"]
    [shown] = milestone["event"]["productOrder"]["productOrderMilestone"]
    assert shown["status"] == "Completed"  # v5: Yet-To-Reach, Completed or Violated
    assert official("ProductOrderMilestoneEvent", milestone) == []
    assert client.get(f"{V5}/productOrder/{order['id']}").json()["productOrderMilestone"][0]["status"] == "Completed"
