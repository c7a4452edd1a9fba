"""TMF622 orders at the service level: preconditions with clear messages, the seed's state path, events for the
matching subscriptions only, in order, valid against the listener contract, written with the change."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pruefstand.contracts import load_spec, specs_root
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.flows.tmf622.documents import INDEXES, PLAN_KIND
from pruefstand.mock_server.flows.tmf622.profile import Profile
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.flows.tmf622.states import InvalidTransition
from pruefstand.mock_server.kernel.errors import Conflict, NotFound
from pruefstand.mock_server.store import SQLiteStore, Store

PRODUCT = "922ebf01-e930-47a0-842e-059d1f188a15"
BUYER = "500011"
QUERY = "eventType=ProductOrderStateChangeEvent&eventType=ProductOrderCreateEvent&relatedParty.id=500011"


@pytest.fixture
def service() -> OrderService:
    return new_service()


def new_service() -> OrderService:
    """The order service on an in-memory store, buyer orders in manual progress, with the buyer's agreement and
    product seeded."""
    store = SQLiteStore(":memory:")
    store.declare_indexes(INDEXES)  # as the flow's mount declares them
    store.declare_across([PLAN_KIND])
    orders = OrderService(
        store,
        Clock(store),
        Profile.load(),
        load_spec(specs_root() / "tmf622" / "listener.yaml"),
        buyer_progress="manual",
        targets=TargetPolicy.from_patterns(["*.example"]),
    )
    orders.inventory.seed_agreement("s", BUYER, {"businessId": "RV-1", "agreementType": "frameworkAgreement"})
    orders.inventory.seed_product("s", {"id": PRODUCT, "owner": BUYER, "status": "active"})
    return orders


def termination() -> dict[str, Any]:
    return {
        "@type": "ProductOrder",
        "category": "terminationBySeller",
        "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": PRODUCT}}],
    }


def journal(service: OrderService) -> list[dict[str, Any]]:
    store = cast(Store, service._store)  # the service holds the flows' door; the journal is the store's own
    return store.outbox.journal("s")


def test_a_created_order_is_acknowledged_and_announced_to_the_matching_subscriber_only(service: OrderService) -> None:
    service.hub.register("s", "http://buyer.example/tmf", QUERY)
    service.hub.register("s", "http://other.example", "relatedParty.id=500099")
    order = service.create_order("s", buyer=BUYER, body=termination())
    assert order["state"] == "acknowledged"
    assert order["href"] == f"/tmf-api/productOrderingManagement/v4/productOrder/{order['id']}"
    assert order["relatedParty"] == [{"id": BUYER, "role": "customer", "@referredType": "Organization"}]
    created, acknowledged = journal(service)
    assert created["target"] == "http://buyer.example/tmf/listener/productOrderCreateEvent"
    assert created["payload"]["event"]["productOrder"]["id"] == order["id"]
    assert acknowledged["target"] == "http://buyer.example/tmf/listener/productOrderStateChangeEvent"
    assert acknowledged["payload"]["event"]["productOrder"]["state"] == "acknowledged"
    assert service.order("s", order["id"]) == order


def test_the_seed_path_emits_one_state_change_event_per_transition_in_order(service: OrderService) -> None:
    service.hub.register("s", "http://buyer.example/tmf", QUERY)
    order = service.create_order("s", buyer=BUYER, body=termination())
    for state, code in (("accepted", "0000"), ("inProgress", "0000"), ("completed", "0010"), ("closed", "0010")):
        order = service.change_state("s", order["id"], state, code)
    events = [d["payload"] for d in journal(service)]
    assert [e["eventType"] for e in events] == ["ProductOrderCreateEvent"] + ["ProductOrderStateChangeEvent"] * 5
    assert [e["event"]["productOrder"]["state"] for e in events[1:]] == [
        "acknowledged",
        "accepted",
        "inProgress",
        "completed",
        "closed",
    ]
    assert events[-1]["event"]["productOrder"]["stateChangeReason"] == {
        "code": "0010",
        "description": "Auftrag ausgeführt.",
    }
    assert len({d["stream"] for d in journal(service)}) == 1  # one subscriber, one ordered stream
    with pytest.raises(InvalidTransition, match="cannot move to 'inProgress'; allowed next states: none, it is final"):
        service.change_state("s", order["id"], "inProgress")


@pytest.mark.parametrize(
    ("buyer", "body", "message"),
    [
        ("500099", termination(), "Auftraggeber '500099' has no framework agreement"),
        (
            BUYER,
            {"productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "unknown"}}]},
            "$.productOrderItem[0].product.id 'unknown' is not in the inventory of Auftraggeber '500011'",
        ),
    ],
)
def test_each_precondition_refuses_with_a_clear_message(
    service: OrderService, buyer: str, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(Conflict) as caught:
        service.create_order("s", buyer=buyer, body=body)
    assert message in str(caught.value)
    assert journal(service) == []


def test_no_second_open_order_on_a_product(service: OrderService) -> None:
    first = service.create_order("s", buyer=BUYER, body=termination())
    with pytest.raises(Conflict, match=f"product '{PRODUCT}' has an open order {first['id']} in state 'acknowledged'"):
        service.create_order("s", buyer=BUYER, body=termination())
    service.change_state("s", first["id"], "rejected", "0041")
    assert service.create_order("s", buyer=BUYER, body=termination())["state"] == "acknowledged"


def test_unknown_orders_and_subscriptions(service: OrderService) -> None:
    with pytest.raises(NotFound):
        service.order("s", "nope")
    subscription = service.hub.register("s", "http://buyer.example")
    service.hub.unregister("s", subscription["id"])
    service.create_order("s", buyer=BUYER, body=termination())
    assert journal(service) == []  # the unregistered hub gets nothing
    with pytest.raises(NotFound):
        service.hub.unregister("s", "nope")


SUPPLIER_CONTACT = {
    "role": "orderManagementSupplierContact",
    "salutation": "Frau",
    "givenName": "Lisa",
    "familyName": "Bach",
    "contactMedium": [
        {"@type": "PhoneContactMedium", "contactType": "fixed", "phoneNumber": "+49 30 1234567"},
        {"@type": "EmailContactMedium", "contactType": "email", "emailAddress": "lisa.bach@le.example"},
    ],
}


def test_the_seed_termination_by_seller_sequence(service: OrderService) -> None:
    """KUE-LE as in the seed: Create; acknowledged; accepted 0000; AVC contact + expected period; inProgress 0000;
    completed 0010; AVC terminationDate; closed 0010, with the open buyer order aborted first."""
    service.hub.register("s", "http://buyer.example/tmf", "category=terminationBySeller&relatedParty.id=500011")
    service.hub.register("s", "http://buyer.example/own", "category=productChange")
    own = service.create_order("s", buyer=BUYER, body={**termination(), "category": "productChange"})
    service.change_state("s", own["id"], "accepted", "0000")

    order = service.terminate_by_seller(
        "s", BUYER, PRODUCT, requested="2022-12-01T00:00:00+01:00", external_id="LE-4711"
    )
    service.change_state("s", order["id"], "accepted", "0000")
    service.add_supplier_contact("s", order["id"], "2022-12-01T00:00:00+01:00", SUPPLIER_CONTACT)
    service.change_state("s", order["id"], "inProgress", "0000")
    service.change_state("s", order["id"], "completed", "0010")
    service.set_termination_date("s", order["id"], "2022-12-16T10:45:00+01:00")
    final = service.change_state("s", order["id"], "closed", "0010")

    aborted = service.order("s", own["id"])
    assert aborted["state"] == "cancelled"
    assert aborted["stateChangeReason"]["code"] == "KUE-LE"
    assert order["id"] in aborted["stateChangeReason"]["description"]
    to_buyer = [d for d in journal(service) if d["target"].startswith("http://buyer.example/tmf/")]
    kinds = [(d["payload"]["eventType"], d["payload"]["event"]["productOrder"]["state"]) for d in to_buyer]
    assert kinds == [
        ("ProductOrderCreateEvent", "acknowledged"),
        ("ProductOrderStateChangeEvent", "acknowledged"),
        ("ProductOrderStateChangeEvent", "accepted"),
        ("ProductOrderAttributeValueChangeEvent", "accepted"),
        ("ProductOrderStateChangeEvent", "inProgress"),
        ("ProductOrderStateChangeEvent", "completed"),
        ("ProductOrderAttributeValueChangeEvent", "completed"),
        ("ProductOrderStateChangeEvent", "closed"),
    ]
    contact_event = to_buyer[3]["payload"]
    assert contact_event["fieldPath"] == [
        {"path": "/relatedParty/", "typeOfChange": "add"},
        {"path": "/expectedCompletionTimePeriod/", "typeOfChange": "add"},
    ]
    assert contact_event["event"]["productOrder"]["relatedParty"][-1] == SUPPLIER_CONTACT
    date_event = to_buyer[6]["payload"]
    assert date_event["fieldPath"] == [{"path": "/terminationDate/", "typeOfChange": "add"}]
    item = date_event["event"]["productOrder"]["productOrderItem"][0]
    assert (item["action"], item["product"]["terminationDate"]) == ("delete", "2022-12-16T10:45:00+01:00")
    assert final["externalId"] == [{"id": "LE-4711", "owner": "seller", "externalIdentifierType": "sellerOrderNumber"}]
    assert [h["state"] for h in final["stateChangeHistory"]] == ["acknowledged", "accepted", "inProgress", "completed"]
    product = service.inventory.product("s", PRODUCT)
    assert product == {
        "id": PRODUCT,
        "owner": BUYER,
        "status": "terminated",
        "terminationDate": "2022-12-16T10:45:00+01:00",
    }
    own_stream = [d for d in journal(service) if d["target"].startswith("http://buyer.example/own/")]
    assert [d["payload"]["event"]["productOrder"]["state"] for d in own_stream][-1] == "cancelled"


def test_a_cancellation_before_the_point_of_no_return_cancels_the_order(service: OrderService) -> None:
    service.hub.register("s", "http://buyer.example/tmf", "relatedParty.id=500011")
    order = service.create_order("s", buyer=BUYER, body=termination())
    service.change_state("s", order["id"], "accepted", "0000")
    task = service.cancel("s", order["id"], "Doppelt beauftragt")
    assert task["state"] == "done"
    assert task["productOrder"]["id"] == order["id"]
    assert service.order("s", order["id"])["state"] == "cancelled"
    events = [(d["payload"]["eventType"], _state(d["payload"])) for d in journal(service)][3:]
    assert events == [
        ("CancelProductOrderCreateEvent", "acknowledged"),
        ("CancelProductOrderStateChangeEvent", "inProgress"),
        ("ProductOrderStateChangeEvent", "assessingCancellation"),
        ("ProductOrderStateChangeEvent", "pendingCancellation"),
        ("ProductOrderStateChangeEvent", "cancelled"),
        ("CancelProductOrderStateChangeEvent", "done"),
    ]
    assert journal(service)[-1]["target"] == "http://buyer.example/tmf/listener/cancelProductOrderStateChangeEvent"


@pytest.mark.parametrize("state", ["acknowledged", "completed"])
def test_a_cancellation_past_the_point_of_no_return_ends_with_error_1087(service: OrderService, state: str) -> None:
    order = service.create_order("s", buyer=BUYER, body=termination())
    for step in {"acknowledged": [], "completed": ["accepted", "inProgress", "completed"]}[state]:
        service.change_state("s", order["id"], step)
    task = service.cancel("s", order["id"])
    assert task["state"] == "terminatedWithError"
    assert task["stateChangeReason"] == {"code": "1087", "description": "Eine Stornierung ist nicht möglich."}
    assert service.order("s", order["id"])["state"] == state


def _state(payload: dict[str, Any]) -> str:
    resource = payload["event"].get("productOrder") or payload["event"]["cancelProductOrder"]
    return str(resource["state"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(Profile.load().orders.states), max_size=12))
def test_each_state_change_of_the_service_emits_exactly_one_event_and_history_only_grows(targets: list[str]) -> None:
    """Whatever is asked: refused transitions change and emit nothing, allowed ones emit one StateChangeEvent each."""
    orders = new_service()
    orders.hub.register("s", "http://buyer.example/tmf")
    order = orders.create_order("s", termination(), BUYER)
    taken = 0
    for target in targets:
        before = orders.order("s", order["id"])
        try:
            after = orders.change_state("s", order["id"], target)
        except InvalidTransition:
            assert orders.order("s", order["id"]) == before
            continue
        taken += 1
        assert after["stateChangeHistory"][:-1] == before.get("stateChangeHistory", [])
        assert target in Profile.load().orders.allowed(before["state"])
    kinds = [d["kind"] for d in journal(orders)]
    assert kinds.count("ProductOrderStateChangeEvent") == taken + 1  # + the initial acknowledged
    assert len(orders.order("s", order["id"]).get("stateChangeHistory", [])) == taken
