"""TMF622 notifications: subscription queries, event envelopes valid against the listener contract, targets."""

from __future__ import annotations

from typing import Any

from pruefstand.contracts import SchemaValidator, load_spec, specs_root
from pruefstand.mock_server.flows.tmf622.notifications import Subscription, deliveries_for, event_body, listener_path

LISTENER = load_spec(specs_root() / "tmf622" / "listener.yaml")
ORDER: dict[str, Any] = {
    "id": "7",
    "href": "/tmf-api/productOrderingManagement/v4/productOrder/7",
    "orderDate": "2022-05-11T08:30:00Z",
    "state": "accepted",
    "category": "terminationBySeller",
    "stateChangeReason": {"code": "0000", "description": "Keine Änderung zum Auftrag"},
    "relatedParty": [{"id": "500011", "role": "customer", "@referredType": "Organization"}],
    "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "922ebf01-e930-47a0-842e-059d1f188a15"}}],
}
SEED_QUERY = "eventType=ProductOrderStateChangeEvent&category=terminationBySeller&relatedParty.id=500011"


def test_the_seed_registration_wants_exactly_its_events() -> None:
    mine = Subscription("s1", "http://buyer.example/tmf", SEED_QUERY)
    assert mine.wants("ProductOrderStateChangeEvent", ORDER)
    assert not mine.wants("ProductOrderCreateEvent", ORDER)
    assert not mine.wants("ProductOrderStateChangeEvent", {**ORDER, "category": "new"})
    assert not mine.wants("ProductOrderStateChangeEvent", {**ORDER, "relatedParty": [{"id": "500099"}]})
    assert Subscription("s2", "http://x.example").wants("ProductOrderDeleteEvent", ORDER)  # no query: everything


def test_an_event_body_is_valid_against_the_listener_contract() -> None:
    body = event_body("ProductOrderStateChangeEvent", "productOrder", ORDER, event_id="e1", at="2022-05-11T08:32:00Z")
    schema = LISTENER.operation("listenProductOrderStateChangeEvent")["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert SchemaValidator(schema).violations(body) == []
    broken = {**body, "event": {"productOrder": {**ORDER, "state": "finished"}}}
    [violation] = SchemaValidator(schema).violations(broken)
    assert violation.path == "$.event.productOrder.state"


def test_attribute_value_changes_carry_field_paths() -> None:
    body = event_body(
        "ProductOrderAttributeValueChangeEvent",
        "productOrder",
        ORDER,
        event_id="e2",
        at="2022-05-11T08:33:00Z",
        field_paths=[{"path": "/relatedParty/", "typeOfChange": "add"}],
    )
    schema = LISTENER.operation("listenProductOrderAttributeValueChangeEvent")["requestBody"]["content"][
        "application/json"
    ]["schema"]
    assert body["fieldPath"] == [{"path": "/relatedParty/", "typeOfChange": "add"}]
    assert SchemaValidator(schema).violations(body) == []


def test_each_subscriber_gets_its_own_stream_and_listener_path() -> None:
    subs = [
        Subscription("a", "http://a.example/cb/", SEED_QUERY),
        Subscription("b", "http://b.example", "category=new"),
    ]
    body = {"eventId": "e"}
    assert deliveries_for(subs, "ProductOrderStateChangeEvent", ORDER, body) == [
        ("hub:a", "http://a.example/cb/listener/productOrderStateChangeEvent", body)
    ]
    assert deliveries_for(subs[:1], "ProductOrderStateChangeEvent", ORDER, body, append_listener_path=False)[0][1] == (
        "http://a.example/cb/"
    )
    assert listener_path("CancelProductOrderStateChangeEvent") == "/listener/cancelProductOrderStateChangeEvent"


def test_event_types_may_be_repeated_or_comma_separated() -> None:
    repeated = Subscription("a", "http://b", "eventType=ProductOrderCreateEvent&eventType=ProductOrderDeleteEvent")
    commas = Subscription("b", "http://b", "eventType=ProductOrderCreateEvent,ProductOrderDeleteEvent&state=closed")
    assert repeated.event_types == commas.event_types == {"ProductOrderCreateEvent", "ProductOrderDeleteEvent"}
    assert commas.wants("ProductOrderDeleteEvent", {"state": "closed"})
    assert not commas.wants("ProductOrderStateChangeEvent", {"state": "closed"})
    assert not commas.wants("ProductOrderCreateEvent", {"state": "acknowledged"})
