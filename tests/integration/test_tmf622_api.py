"""The TMF622 order API over HTTP (in-process): TMF630 conventions (Location, fields, filters, paging headers,
merge patch, TMF Error shape), the preconditions, hub registration, cancellation, the buyer's order progressing on
the clock, sandbox isolation between two buyers, and hostile input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.flows.tmf622.seed_file import SeedFileError
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, make_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TMF = "/tmf-api/productOrderingManagement/v4"
BUYER, OTHER = "500011", "600022"
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = make_settings(tmf622_buyer_progress="manual", delivery_backoff_base_ms=20)
    app = create_app(settings, store=SQLiteStore(":memory:"))
    with app.test_client() as test_client:
        for sandbox, buyer in (("default", BUYER), ("other", OTHER)):
            inventory = {
                "agreements": [{"buyer": buyer, "businessId": f"RV-{buyer}"}],
                "products": [{"id": f"{buyer}-p{n}", "owner": buyer} for n in (1, 2, 3)],
            }
            answer = test_client.put(f"/_admin/sandboxes/{sandbox}/tmf622/inventory", json=inventory, headers=ADMIN)
            assert answer.status_code == 200
        yield test_client


def order_body(product: str = f"{BUYER}-p1", buyer: str = BUYER, **extra: Any) -> dict[str, Any]:
    """What a plain TMF622 v4 client posts (ProductOrder_Create of the official swagger)."""
    return {
        "description": "Anschluss ändern",
        "priority": "1",
        "productOrderItem": [
            {"id": "1", "action": "modify", "quantity": 1, "product": {"id": product, "name": "FTTH 250"}},
        ],
        "relatedParty": [{"id": buyer, "role": "customer", "@referredType": "Organization", "name": "Buyer GmbH"}],
        "note": [{"text": "bitte vormittags"}],
        **extra,
    }


def error_of(answer: Any) -> dict[str, Any]:
    body = dict(answer.json())
    assert set(body) == {"code", "reason", "message", "status", "@type"}, body
    assert body["status"] == str(answer.status_code) == body["code"]
    assert body["@type"] == "Error"
    return body


def journal(client: TestClient, sandbox: str = "default") -> list[dict[str, Any]]:
    return list(client.get(f"/_admin/sandboxes/{sandbox}/deliveries", headers=ADMIN).json())


def test_create_answers_201_with_location_equal_to_href_and_every_v4_mandatory_attribute(client: TestClient) -> None:
    answer = client.post(f"{TMF}/productOrder", json=order_body())
    assert answer.status_code == 201, answer.text
    order = answer.json()
    # absolute, with the base the client used (TMF630); behind a proxy, the base the proxy names
    assert answer.headers["Location"] == order["href"] == f"http://testserver{TMF}/productOrder/{order['id']}"
    behind = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.partner.example"}
    proxied = client.get(f"{TMF}/productOrder/{order['id']}", headers=behind)
    assert proxied.json()["href"] == f"https://api.partner.example{TMF}/productOrder/{order['id']}"
    listed = client.get(f"{TMF}/productOrder", headers=behind).json()
    assert {o["href"] for o in listed} == {f"https://api.partner.example{TMF}/productOrder/{order['id']}"}
    forwarded = client.get(f"{TMF}/productOrder/{order['id']}", headers={"Forwarded": 'proto=https;host="gw.example"'})
    assert forwarded.json()["href"] == f"https://gw.example{TMF}/productOrder/{order['id']}"
    assert {"id", "href", "orderDate", "state", "productOrderItem", "relatedParty"} <= set(order)
    assert order["state"] == "acknowledged"
    assert order["note"] == [{"text": "bitte vormittags"}]
    assert client.get(order["href"]).json() == order


def test_fields_selects_first_level_attributes_and_keeps_id_and_href(client: TestClient) -> None:
    created = client.post(f"{TMF}/productOrder", json=order_body(), params={"fields": "state"}).json()
    assert set(created) == {"id", "href", "state"}
    one = client.get(f"{TMF}/productOrder/{created['id']}", params={"fields": "state,priority"}).json()
    assert one == {"id": created["id"], "href": created["href"], "state": "acknowledged", "priority": "1"}
    listed = client.get(f"{TMF}/productOrder", params={"fields": "description"}).json()
    assert listed == [{"id": created["id"], "href": created["href"], "description": "Anschluss ändern"}]


def test_filters_on_dotted_paths_and_dates_are_anded_and_paging_sets_both_count_headers(client: TestClient) -> None:
    ids = []
    for n, moment in ((1, "2022-05-01T10:00:00Z"), (2, "2022-06-01T10:00:00Z"), (3, "2022-07-01T10:00:00Z")):
        client.put("/_admin/sandboxes/default/clock", json={"now": moment, "frozen": True}, headers=ADMIN)
        ids.append(client.post(f"{TMF}/productOrder", json=order_body(f"{BUYER}-p{n}", priority=str(n))).json()["id"])

    def listed(**query: str) -> list[str]:
        return [o["id"] for o in client.get(f"{TMF}/productOrder", params=query).json()]

    assert listed(**{"relatedParty.id": BUYER}) == ids
    assert listed(**{"relatedParty.id": "nobody"}) == []
    assert listed(priority="2") == [ids[1]]
    assert listed(**{"productOrderItem.product.id": f"{BUYER}-p3"}) == [ids[2]]
    assert listed(**{"orderDate.gte": "2022-06-01T10:00:00Z"}) == ids[1:]
    assert listed(**{"orderDate.gt": "2022-05-01T10:00:00Z", "orderDate.lt": "2022-07-01T00:00:00Z"}) == [ids[1]]
    assert listed(**{"orderDate.gte": "2022-06-01T10:00:00Z", "priority": "3"}) == [ids[2]]  # ANDed
    paged = client.get(f"{TMF}/productOrder", params={"offset": 1, "limit": 1})
    assert [o["id"] for o in paged.json()] == [ids[1]]
    assert (paged.headers["X-Total-Count"], paged.headers["X-Result-Count"]) == ("3", "1")
    beyond = client.get(f"{TMF}/productOrder", params={"offset": 5})
    assert (beyond.json(), beyond.headers["X-Total-Count"], beyond.headers["X-Result-Count"]) == ([], "3", "0")


def test_unknown_ids_are_404_in_the_tmf_error_shape(client: TestClient) -> None:
    for path in ("productOrder/nope", "cancelProductOrder/nope"):
        answer = client.get(f"{TMF}/{path}")
        assert answer.status_code == 404
        assert "'nope'" in error_of(answer)["message"]
    gone = client.delete(f"{TMF}/hub/nope")
    assert gone.status_code == 404
    assert error_of(gone)["reason"] == "Not Found"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (order_body(buyer="700033"), 409, "Auftraggeber '700033' has no framework agreement (Rahmenvertrag)"),
        (order_body("unknown"), 409, "$.productOrderItem[0].product.id 'unknown' is not in the inventory"),
        (order_body(f"{OTHER}-p1"), 409, f"'{OTHER}-p1' is not in the inventory of Auftraggeber '{BUYER}'"),
        ({"productOrderItem": [{"id": "1", "action": "add"}]}, 422, "$.relatedParty: names no Auftraggeber"),
        (
            {**order_body(), "productOrderItem": [{"id": "1", "action": "delete"}]},
            409,
            "$.productOrderItem[0].product.id is required for action 'delete'",
        ),
    ],
)
def test_each_precondition_refuses_with_a_clear_message_and_stores_nothing(
    client: TestClient, body: dict[str, Any], status: int, message: str
) -> None:
    answer = client.post(f"{TMF}/productOrder", json=body)
    assert answer.status_code == status, answer.text
    assert message in error_of(answer)["message"]
    assert client.get(f"{TMF}/productOrder").json() == []
    assert journal(client) == []


def test_a_second_open_order_on_a_product_is_refused_naming_the_first(client: TestClient) -> None:
    first = client.post(f"{TMF}/productOrder", json=order_body()).json()
    second = client.post(f"{TMF}/productOrder", json=order_body())
    assert second.status_code == 409
    assert f"has an open order {first['id']} in state 'acknowledged'" in error_of(second)["message"]


def test_merge_patch_changes_the_order_and_emits_one_attribute_value_change(client: TestClient) -> None:
    hub = client.post(
        f"{TMF}/hub",
        json={"callback": "http://127.0.0.1:9/buyer", "query": "eventType=ProductOrderAttributeValueChangeEvent"},
    )
    assert hub.status_code == 201
    assert hub.headers["Location"] == f"http://testserver{TMF}/hub/{hub.json()['id']}"
    order = client.post(f"{TMF}/productOrder", json=order_body()).json()
    patch = {"description": "neu", "note": None, "requestedCompletionDate": "2023-01-01T00:00:00Z"}
    answer = client.patch(f"{TMF}/productOrder/{order['id']}", json=patch, headers=MERGE)
    assert answer.status_code == 200, answer.text
    patched = answer.json()
    assert (patched["description"], "note" in patched) == ("neu", False)
    assert client.get(order["href"]).json() == patched
    [event] = [d for d in journal(client) if d["kind"] == "ProductOrderAttributeValueChangeEvent"]
    assert event["payload"]["fieldPath"] == [
        {"path": "/description/", "typeOfChange": "modify"},
        {"path": "/note/", "typeOfChange": "delete"},
        {"path": "/requestedCompletionDate/", "typeOfChange": "add"},
    ]
    assert event["target"] == "http://127.0.0.1:9/buyer/listener/productOrderAttributeValueChangeEvent"


def test_patch_refuses_server_owned_and_unknown_attributes_and_final_orders(client: TestClient) -> None:
    order = client.post(f"{TMF}/productOrder", json=order_body()).json()
    owned = client.patch(f"{TMF}/productOrder/{order['id']}", json={"state": "completed"}, headers=MERGE)
    assert owned.status_code == 400
    assert "$.state: is not in the contract here" in error_of(owned)["message"]
    unknown = client.patch(f"{TMF}/productOrder/{order['id']}", json={"colour": "red"})  # application/json
    assert unknown.status_code == 400
    assert "$.colour: is not in the contract here" in error_of(unknown)["message"]
    json_patch = {"Content-Type": "application/json-patch+json"}
    owned_by_6902 = client.patch(
        f"{TMF}/productOrder/{order['id']}",
        content=b'[{"op": "replace", "path": "/state", "value": "x"}]',
        headers=json_patch,
    )
    assert owned_by_6902.status_code == 400
    assert "$[0].path: '/state' does not match" in error_of(owned_by_6902)["message"]  # the contract names them
    assert client.get(order["href"]).json()["state"] == order["state"]
    admin_state = f"/_admin/sandboxes/default/tmf622/productOrder/{order['id']}/state"
    assert client.post(admin_state, json={"state": "rejected", "reasonCode": "0041"}, headers=ADMIN).status_code == 200
    final = client.patch(f"{TMF}/productOrder/{order['id']}", json={"description": "x"}, headers=MERGE)
    assert final.status_code == 409
    assert "final state 'rejected'" in error_of(final)["message"]
    assert client.get(order["href"]).json()["description"] == "Anschluss ändern"


def test_an_order_whose_attributes_no_product_order_can_have_is_refused_naming_them(client: TestClient) -> None:
    """Seen by the fuzzer over HTTP: `completionDate: [null]` passed the request schema (attributes it leaves open)
    and broke the ProductOrderCreateEvent's contract: a 500. Now a 400 naming the field; nothing stored."""
    before = client.get(f"{TMF}/productOrder").json()
    answer = client.post(f"{TMF}/productOrder", json={**order_body(), "completionDate": [None]})
    assert answer.status_code == 400
    message = error_of(answer)["message"]
    assert "$.completionDate" in message
    assert "must be a valid ProductOrder" in message
    assert client.get(f"{TMF}/productOrder").json() == before


def test_a_json_patch_that_leaves_no_valid_order_is_a_conflict_naming_the_field(client: TestClient) -> None:
    """RFC 6902 values are free: `externalId: false` would leave an order its events and answers cannot carry. The
    patch is well-formed and schema-valid; it cannot be applied to the order: 409 (RFC 5789 2.2; TMF622 lists 409 for
    PATCH, not 422)."""
    order = client.post(f"{TMF}/productOrder", json=order_body()).json()
    answer = client.patch(
        f"{TMF}/productOrder/{order['id']}",
        content=b'[{"op": "add", "path": "/externalId", "value": false}]',
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert answer.status_code == 409
    message = error_of(answer)["message"]
    assert "$.externalId" in message
    assert "must still be a valid ProductOrder" in message
    stored = client.get(order["href"]).json()
    assert stored.get("externalId") == order.get("externalId")


def test_a_transition_the_profile_does_not_allow_names_the_current_state_and_the_allowed_ones(
    client: TestClient,
) -> None:
    order = client.post(f"{TMF}/productOrder", json=order_body()).json()
    answer = client.post(
        f"/_admin/sandboxes/default/tmf622/productOrder/{order['id']}/state", json={"state": "closed"}, headers=ADMIN
    )
    assert answer.status_code == 409
    assert answer.json()["detail"] == (
        "order in state 'acknowledged' cannot move to 'closed'; "
        "allowed next states: accepted, inProgress, rejected, cancelled, failed"
    )


def test_unregistered_hub_gets_nothing_and_a_second_delete_is_404(client: TestClient) -> None:
    hub = client.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/buyer"}).json()
    assert client.delete(f"{TMF}/hub/{hub['id']}").status_code == 204
    assert client.delete(f"{TMF}/hub/{hub['id']}").status_code == 404
    client.post(f"{TMF}/productOrder", json=order_body())
    assert journal(client) == []


def test_cancellation_before_and_after_the_point_of_no_return(client: TestClient) -> None:
    open_order = client.post(f"{TMF}/productOrder", json=order_body()).json()
    client.post(
        f"/_admin/sandboxes/default/tmf622/productOrder/{open_order['id']}/state",
        json={"state": "accepted", "reasonCode": "0000"},
        headers=ADMIN,
    )
    request = {"productOrder": {"id": open_order["id"]}, "cancellationReason": "Doppelt beauftragt"}
    answer = client.post(f"{TMF}/cancelProductOrder", json=request)
    assert answer.status_code == 201, answer.text
    task = answer.json()
    assert answer.headers["Location"] == task["href"]
    assert (task["state"], task["productOrder"]["id"]) == ("done", open_order["id"])
    cancelled = client.get(open_order["href"]).json()
    assert (cancelled["state"], cancelled["cancellationReason"]) == ("cancelled", "Doppelt beauftragt")
    assert [h["state"] for h in cancelled["stateChangeHistory"]][-3:] == [
        "accepted",
        "assessingCancellation",
        "pendingCancellation",
    ]
    assert client.get(task["href"]).json() == task

    fresh = client.post(f"{TMF}/productOrder", json=order_body(f"{BUYER}-p2")).json()  # still acknowledged
    refused = client.post(f"{TMF}/cancelProductOrder", json={"productOrder": {"id": fresh["id"]}}).json()
    assert refused["state"] == "terminatedWithError"
    assert refused["stateChangeReason"] == {"code": "1087", "description": "Eine Stornierung ist nicht möglich."}
    assert client.get(fresh["href"]).json()["state"] == "acknowledged"
    listed = client.get(f"{TMF}/cancelProductOrder", params={"state": "terminatedWithError"})
    assert [t["id"] for t in listed.json()] == [refused["id"]]
    assert listed.headers["X-Total-Count"] == "1"
    unknown = client.post(f"{TMF}/cancelProductOrder", json={"productOrder": {"id": "nope"}})
    assert unknown.status_code == 404
    assert "$.productOrder.id" in error_of(unknown)["message"]


def test_a_buyers_order_progresses_on_the_clock_and_an_added_product_enters_the_inventory() -> None:
    settings = make_settings(tmf622_step_delay=30)
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        client.put("/_admin/sandboxes/default/tmf622/inventory", json={"agreements": [{"buyer": BUYER}]}, headers=ADMIN)
        client.put(
            "/_admin/sandboxes/default/clock", json={"now": "2024-01-01T00:00:00Z", "frozen": True}, headers=ADMIN
        )
        body = {**order_body(), "productOrderItem": [{"id": "1", "action": "add", "product": {"name": "FTTH 1000"}}]}
        order = client.post(f"{TMF}/productOrder", json=body).json()
        client.post("/_admin/sandboxes/default/clock/advance", json={"seconds": 29}, headers=ADMIN)
        assert client.get(order["href"]).json()["state"] == "acknowledged"
        client.post("/_admin/sandboxes/default/clock/advance", json={"seconds": 1}, headers=ADMIN)
        assert client.get(order["href"]).json()["state"] == "accepted"
        client.post("/_admin/sandboxes/default/clock/advance", json={"seconds": 300}, headers=ADMIN)
        done = client.get(order["href"]).json()
        inventory = client.get("/_admin/sandboxes/default/tmf622/inventory", headers=ADMIN).json()
    assert done["state"] == "closed"
    assert [h["state"] for h in done["stateChangeHistory"]] == ["acknowledged", "accepted", "inProgress", "completed"]
    assert (
        done["completionDate"] == "2024-01-01T01:02:00+01:00"
    )  # accepted 0:30, contact 1:00, inProgress 1:30, done 2:00 (Berlin time)
    new_id = done["productOrderItem"][0]["product"]["id"]
    assert {"id": new_id, "name": "FTTH 1000", "owner": BUYER, "status": "active"} in inventory["products"]


def test_two_buyers_in_two_sandboxes_never_see_each_other(client: TestClient) -> None:
    client.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/a"})
    mine = client.post(f"{TMF}/productOrder", json=order_body()).json()
    other = {"X-Pruefstand-Sandbox": "other"}
    theirs = client.post(f"{TMF}/productOrder", json=order_body(f"{OTHER}-p1", OTHER), headers=other)
    assert theirs.status_code == 201
    assert client.post(f"{TMF}/productOrder", json=order_body(f"{OTHER}-p2", OTHER)).status_code == 409
    assert [o["id"] for o in client.get(f"{TMF}/productOrder").json()] == [mine["id"]]
    assert [o["id"] for o in client.get(f"{TMF}/productOrder", headers=other).json()] == [theirs.json()["id"]]
    assert client.get(f"{TMF}/productOrder/{mine['id']}", headers=other).status_code == 404
    assert [d["payload"]["event"]["productOrder"]["id"] for d in journal(client)] == [mine["id"]] * 2
    assert journal(client, "other") == []


@pytest.mark.parametrize(
    ("content", "headers", "status", "fragment"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "not valid JSON"),
        (b'{"productOrderItem": "\xff"}', {"Content-Type": "application/json"}, 400, "UTF-8"),
        (b"<order/>", {"Content-Type": "application/xml"}, 415, ""),
        (b"[" * 200 + b"]" * 200, {"Content-Type": "application/json"}, 400, "nest"),
        (b'{"productOrderItem": [{"id": 1, "action": "explode"}]}', {"Content-Type": "application/json"}, 400, "$."),
        (b'{"productOrderItem": []}', {"Content-Type": "application/json"}, 400, "$.productOrderItem"),
        (b"{}", {"Content-Type": "application/json"}, 400, "productOrderItem"),
        (b'{"a": "' + b"x" * 2_000_000 + b'"}', {"Content-Type": "application/json"}, 413, ""),
    ],
)
def test_hostile_input_gets_a_4xx_in_the_tmf_error_shape_and_stores_nothing(
    client: TestClient, content: bytes, headers: dict[str, str], status: int, fragment: str
) -> None:
    answer = client.post(f"{TMF}/productOrder", content=content, headers=headers)
    assert answer.status_code == status, answer.text
    assert fragment in error_of(answer)["message"]
    assert client.get(f"{TMF}/productOrder").json() == []


def test_a_seed_file_fills_each_sandboxes_inventory_at_start_and_a_bad_one_is_named(tmp_path: Path) -> None:
    seed = tmp_path / "inventory.yaml"
    seed.write_text(
        "sandboxes:\n  ci-1:\n    agreements: [{buyer: '500011'}]\n    products: [{id: p9, owner: '500011'}]\n",
        encoding="utf-8",
    )
    with create_app(make_settings(tmf622_seed=str(seed)), store=SQLiteStore(":memory:")).test_client() as client:
        inventory = client.get("/_admin/sandboxes/ci-1/tmf622/inventory", headers=ADMIN).json()
        ordered = client.post(f"{TMF}/productOrder", json=order_body("p9"), headers={"X-Pruefstand-Sandbox": "ci-1"})
    assert inventory["products"] == [{"id": "p9", "owner": "500011", "status": "active"}]
    assert ordered.status_code == 201
    seed.write_text("sandboxes:\n  ci-1:\n    products: [{id: p9}]\n", encoding="utf-8")
    with pytest.raises(SeedFileError, match=r"sandboxes\.ci-1: .*'owner' is a required property"):
        create_app(make_settings(tmf622_seed=str(seed)), store=SQLiteStore(":memory:"))


REFERENCE_V4 = Path(__file__).resolve().parents[3] / "shared" / "reference" / "TMF622-ProductOrder-v4.0.0.swagger.json"


@pytest.mark.skipif(not REFERENCE_V4.exists(), reason="shared/reference (TMF622 documents) is not beside the project")
def test_a_plain_tmf622_v4_client_orders_reads_and_subscribes_by_the_official_v4_schemas(client: TestClient) -> None:
    """The request is valid by the official v4 ProductOrder_Create; the answers are valid by the official v4
    ProductOrder and EventSubscription definitions (jsonschema, the swagger's own definitions)."""
    swagger = json.loads(REFERENCE_V4.read_text(encoding="utf-8"))

    def v4(definition: str) -> Draft4Validator:
        return Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": swagger["definitions"]})

    body = {
        "externalId": "PO-4711",
        "priority": "1",
        "description": "Plain v4 order",
        "category": "B2B",
        "requestedStartDate": "2024-05-01T08:00:00Z",
        "requestedCompletionDate": "2024-05-10T08:00:00Z",
        "billingAccount": {"id": "BA-1", "href": "https://buyer.example/billingAccount/BA-1"},
        "channel": [{"id": "1", "name": "online"}],
        "note": [{"text": "v4 note", "author": "buyer"}],
        "relatedParty": [{"id": BUYER, "name": "Buyer GmbH", "role": "customer", "@referredType": "Organization"}],
        "productOrderItem": [
            {
                "id": "100",
                "action": "modify",
                "quantity": 1,
                "productOffering": {"id": "PO-FTTH-250", "name": "FTTH 250"},
                "product": {"id": f"{BUYER}-p1", "isBundle": False},
            }
        ],
    }
    assert list(v4("ProductOrder_Create").iter_errors(body)) == []
    created = client.post(f"{TMF}/productOrder", json=body)
    assert created.status_code == 201, created.text
    assert [e.message for e in v4("ProductOrder").iter_errors(created.json())] == []
    assert created.json()["externalId"] == "PO-4711"
    listed = client.get(f"{TMF}/productOrder")
    assert all(not list(v4("ProductOrder").iter_errors(order)) for order in listed.json())
    hub = client.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/v4-client", "query": None})
    assert hub.status_code == 201, hub.text
    assert [e.message for e in v4("EventSubscription").iter_errors(hub.json())] == []
    cancel = client.post(f"{TMF}/cancelProductOrder", json={"productOrder": {"id": created.json()["id"]}})
    assert [e.message for e in v4("CancelProductOrder").iter_errors(cancel.json())] == []


@pytest.mark.parametrize(
    ("callback", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data", "a private or reserved address 169.254.169.254 is not on"),
        ("http://10.0.0.1/", "a private or reserved address 10.0.0.1 is not on"),
        ("http://192.168.1.1:8080/x", "a private or reserved address 192.168.1.1 is not on"),
        ("http://[fd00::1]/x", "a private or reserved address fd00::1 is not on"),
        ("http://[::ffff:10.0.0.1]/x", "a private or reserved address ::ffff:10.0.0.1 (10.0.0.1) is not on"),
        ("http://[::1", "http://[::1 is not a valid URL"),
        ("ftp://127.0.0.1/x", "does not match '^[Hh][Tt][Tt][Pp][Ss]?://'"),
        ("http://user:secret@127.0.0.1/x", "carries credentials in the URL"),
        ("http://buyer.example/tmf", "host buyer.example is not on the delivery allow-list (loopback)"),
    ],
)
def test_a_hub_callback_the_mock_may_not_send_to_is_refused_at_registration(callback: str, reason: str) -> None:
    """Given the default settings (loopback only), when a buyer registers a callback elsewhere, a private or metadata
    address, or a malformed URL, then it is refused at once with 400 naming the field."""
    with create_app(make_settings(), store=SQLiteStore(":memory:")).test_client() as client:
        refused = client.post(f"{TMF}/hub", json={"callback": callback})
    assert refused.status_code == 400
    assert refused.json()["message"].startswith("Validation Failed: $.callback: ")
    assert reason in refused.json()["message"]


@pytest.mark.parametrize(
    ("callback", "allow", "status"),
    [
        ("http://127.0.0.1:9/listener", "", 201),
        ("http://localhost:9/listener", "", 201),
        ("http://[::1]:9/listener", "", 201),
        ("https://tmf.buyer.example/listener", "*.buyer.example", 201),
        ("http://10.1.2.3/listener", "10.0.0.0/8", 201),
        ("http://192.168.1.1/listener", "*", 400),  # a name pattern never admits a private address
        ("http://169.254.169.254/latest", "*", 400),
        ("https://any.example/listener", "*", 201),
    ],
)
def test_the_allow_list_adds_names_and_networks_to_loopback(callback: str, allow: str, status: int) -> None:
    settings = make_settings(delivery_allow_hosts=allow)
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        answer = client.post(f"{TMF}/hub", json={"callback": callback})
    assert answer.status_code == status, answer.text
    if status == 201:
        assert answer.json()["callback"] == callback
    else:
        assert "is not on the delivery allow-list" in answer.json()["message"]
        assert answer.json()["message"].startswith("Validation Failed: $.callback: a private or reserved address")


def test_events_go_to_the_callback_as_is_when_so_configured() -> None:
    settings = make_settings(tmf622_callback="callback", tmf622_buyer_progress="manual")
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        client.put("/_admin/sandboxes/default/tmf622/inventory", json={"agreements": [{"buyer": BUYER}]}, headers=ADMIN)
        client.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/events"})
        client.post(f"{TMF}/productOrder", json={**order_body(), "productOrderItem": [{"id": "1", "action": "add"}]})
        targets = [d["target"] for d in journal(client)]
    assert targets == ["http://127.0.0.1:9/events", "http://127.0.0.1:9/events"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"{TMF}/productOrder?limit=abc", "query parameter limit: 'abc' is not of type 'integer'"),
        (f"{TMF}/productOrder?offset=-1", "query parameter offset: -1 is less than the minimum of 0"),
        (f"{TMF}/productOrder/{'x' * 101}", "path parameter id: '" + "x" * 101 + "' is too long"),
    ],
)
def test_a_bad_parameter_is_named_with_what_was_expected(client: TestClient, path: str, message: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 400
    assert error_of(answer)["message"] == f"Validation Failed: {message}"


def test_a_restart_with_the_seed_file_keeps_what_happened_since(tmp_path: Path) -> None:
    seed, db = tmp_path / "inventory.yaml", str(tmp_path / "state.db")
    seed.write_text(
        "sandboxes:\n  default:\n    agreements: [{buyer: '500011'}]\n    products: [{id: p1, owner: '500011'}]\n"
    )
    settings = make_settings(db=db, tmf622_seed=str(seed))
    with create_app(settings, store=SQLiteStore(db)).test_client() as client:
        order = client.post(
            "/_admin/sandboxes/default/tmf622/terminations",
            json={"buyer": BUYER, "productId": "p1", "requestedCompletionDate": "2030-01-01T00:00:00Z"},
            headers=ADMIN,
        ).json()
        for _ in range(6):
            client.post(f"/_admin/sandboxes/default/tmf622/productOrder/{order['id']}/next", headers=ADMIN)
    with create_app(settings, store=SQLiteStore(db)).test_client() as client:
        [product] = client.get("/_admin/sandboxes/default/tmf622/inventory", headers=ADMIN).json()["products"]
    assert product["status"] == "terminated"


def test_after_the_point_of_no_return_milestone_a_cancellation_ends_with_1087(client: TestClient) -> None:
    client.post(
        f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/buyer", "query": "eventType=ProductOrderMilestoneEvent"}
    )
    order = client.post(f"{TMF}/productOrder", json=order_body()).json()
    admin = f"/_admin/sandboxes/default/tmf622/productOrder/{order['id']}"
    client.post(f"{admin}/state", json={"state": "accepted", "reasonCode": "0000"}, headers=ADMIN)
    client.post(f"{admin}/state", json={"state": "inProgress", "reasonCode": "0000"}, headers=ADMIN)
    reached = client.post(f"{admin}/milestone", json={"name": "pointOfNoReturn"}, headers=ADMIN)
    assert reached.status_code == 200, reached.text
    assert [m["name"] for m in reached.json()["productOrderMilestone"]] == ["pointOfNoReturn"]
    [event] = journal(client)
    assert event["target"] == "http://127.0.0.1:9/buyer/listener/productOrderMilestoneEvent"
    assert event["payload"]["event"]["productOrder"]["productOrderMilestone"][0]["name"] == "pointOfNoReturn"
    task = client.post(f"{TMF}/cancelProductOrder", json={"productOrder": {"id": order["id"]}}).json()
    assert (task["state"], task["stateChangeReason"]["code"]) == ("terminatedWithError", "1087")
    assert client.get(order["href"]).json()["state"] == "inProgress"


def test_the_seller_asks_for_information_and_the_buyers_patches_let_the_order_go_on() -> None:
    """FIT: pending with ProductOrderInformationRequiredEvent naming the fields; the automatic plan waits; once the
    buyer's merge patches have given every field, the order goes on to inProgress and the plan runs to closed."""
    with create_app(make_settings(tmf622_step_delay=30), store=SQLiteStore(":memory:")).test_client() as client:
        client.put("/_admin/sandboxes/default/tmf622/inventory", json={"agreements": [{"buyer": BUYER}]}, headers=ADMIN)
        client.put(
            "/_admin/sandboxes/default/clock", json={"now": "2024-03-01T08:00:00Z", "frozen": True}, headers=ADMIN
        )
        client.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/buyer"})
        body = {**order_body(), "productOrderItem": [{"id": "1", "action": "add", "product": {"name": "FTTH"}}]}
        order = client.post(f"{TMF}/productOrder", json=body).json()
        client.post("/_admin/sandboxes/default/clock/advance", json={"seconds": 30}, headers=ADMIN)  # accepted
        asked = client.post(
            f"/_admin/sandboxes/default/tmf622/productOrder/{order['id']}/informationRequired",
            json={"fields": ["requestedCompletionDate", "note.text"], "reasonCode": "6000"},
            headers=ADMIN,
        )
        assert asked.status_code == 200, asked.text
        assert (asked.json()["state"], asked.json()["stateChangeReason"]["code"]) == ("pending", "6000")
        client.post("/_admin/sandboxes/default/clock/advance", json={"seconds": 600}, headers=ADMIN)
        assert client.get(order["href"]).json()["state"] == "pending"  # the plan waits for the buyer
        patch = {"requestedCompletionDate": "2024-04-01T08:00:00Z"}
        client.patch(order["href"], json=patch, headers=MERGE)
        assert client.get(order["href"]).json()["state"] == "pending"  # one of two fields given
        client.patch(order["href"], json={"note": [{"text": "Termin passt"}]}, headers=MERGE)
        assert client.get(order["href"]).json()["state"] == "inProgress"
        client.post("/_admin/sandboxes/default/clock/advance", json={"seconds": 600}, headers=ADMIN)
        final = client.get(order["href"]).json()
        events = [d["payload"] for d in journal(client)]
    required = next(e for e in events if e["eventType"] == "ProductOrderInformationRequiredEvent")
    assert required["fieldPath"] == [
        {"path": "requestedCompletionDate", "typeOfChange": "add"},  # the order had none
        {"path": "note.text", "typeOfChange": "modify"},
    ]
    states = [e["event"]["productOrder"]["state"] for e in events if e["eventType"] == "ProductOrderStateChangeEvent"]
    assert states == ["acknowledged", "accepted", "pending", "inProgress", "completed", "closed"]
    assert final["state"] == "closed"


def test_the_seller_may_date_a_change_before_its_event_and_a_bad_date_changes_nothing(client: TestClient) -> None:
    client.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/buyer"})
    client.put("/_admin/sandboxes/default/clock", json={"now": "2022-05-11T08:30:00Z", "frozen": True}, headers=ADMIN)
    order = client.post(f"{TMF}/productOrder", json=order_body()).json()
    assert order["stateChangeReason"] == {"code": "0000", "description": "Keine Änderung zum Auftrag"}  # FIT: 0000
    client.put("/_admin/sandboxes/default/clock", json={"now": "2022-05-11T08:32:00Z", "frozen": True}, headers=ADMIN)
    step = f"/_admin/sandboxes/default/tmf622/productOrder/{order['id']}/next"
    ahead = client.post(step, json={"stateChangeDate": "2022-05-11T10:33:00+02:00"}, headers=ADMIN)
    assert ahead.status_code == 400
    assert "$.stateChangeDate" in ahead.json()["detail"]
    assert "lies after now" in ahead.json()["detail"]
    assert client.get(order["href"]).json()["state"] == "acknowledged"
    accepted = client.post(step, json={"stateChangeDate": "2022-05-11T10:31:00+02:00"}, headers=ADMIN).json()
    assert (accepted["state"], accepted["stateChangeDate"]) == ("accepted", "2022-05-11T10:31:00+02:00")
    assert accepted["stateChangeHistory"][-1]["changeReason"]["code"] == "0000"  # the acknowledged entry
    event = [d for d in journal(client) if d["kind"] == "ProductOrderStateChangeEvent"][-1]["payload"]
    assert (event["eventTime"], event["event"]["productOrder"]["stateChangeDate"]) == (
        "2022-05-11T10:32:00+02:00",
        "2022-05-11T10:31:00+02:00",
    )
    agreement = client.get("/_admin/sandboxes/default/tmf622/inventory", headers=ADMIN).json()["agreements"][0]
    assert agreement["id"] == f"RV-{BUYER}"  # agreements carry an id (here their businessId)
