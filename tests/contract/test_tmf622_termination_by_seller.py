"""The seed's KUE-LE sequence ("Auftrag (Kündigung durch LE) anlegen", seeds/001): a buyer registers at the hub with
a real listener on 127.0.0.1, the seller's termination is driven through the admin API on the sandbox clock, and the
listener receives the eight notifications, each compared field by field with the seed's tables. Also: delivery to a
listener that fails first (retried, in order, each event once) and a restart in the middle of delivery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from pruefstand.contracts import SchemaValidator, load_spec, specs_root
from pruefstand.contracts.listener import CallbackListener
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.serving.process_hygiene import free_port
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.contract.test_fuzz_own_apis import serving_app
from tests.contract.test_maco_callbacks import wait_for

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TMF = "/tmf-api/productOrderingManagement/v4"
BUYER, PRODUCT = "500011", "922ebf01-e930-47a0-842e-059d1f188a15"
INVENTORY = {
    "agreements": [{"buyer": BUYER, "businessId": "RV-500011", "agreementType": "frameworkAgreement"}],
    "products": [
        {"id": PRODUCT, "owner": BUYER, "singleContractId": "3091231119", "buyerServiceContract": "500012"},
    ],
}
# The seed's timeline of events: created 10:30, accepted 10:32 (dated 10:31), contact 10:34, inProgress 20 May 10:40,
# completed 16 Dec 10:45, terminationDate 10:45:30, closed 10:46 (German time, as the seed's tables write it).
SEED_TIMES = [
    "2022-05-11T10:30:00+02:00",
    "2022-05-11T10:30:00+02:00",
    "2022-05-11T10:32:00+02:00",
    "2022-05-11T10:34:00+02:00",
    "2022-05-20T10:40:00+02:00",
    "2022-12-16T10:45:00+01:00",
    "2022-12-16T10:45:30+01:00",
    "2022-12-16T10:46:00+01:00",
]
STEP_DELAYS = [
    (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()
    for earlier, later in pairwise(SEED_TIMES[1:])
]
TERMINATION = {
    "buyer": BUYER,
    "productId": PRODUCT,
    "requestedCompletionDate": "2022-12-01T12:00:00+01:00",
    "externalId": "1000111",
    "orderPostedDate": "2022-05-11T10:30:00+02:00",
    "terminationDate": "2022-12-16T10:45:00+01:00",
    "progress": "auto",
    "stepDelaySeconds": STEP_DELAYS,
}
KEINE_AENDERUNG = {"code": "0000", "description": "Keine Änderung zum Auftrag"}
AUSGEFUEHRT = {"code": "0010", "description": "Auftrag ausgeführt."}
SUPPLIER_CONTACT = {
    "role": "orderManagementSupplierContact",
    "salutation": "Frau",
    "givenName": "Lisa",
    "familyName": "Bach",
    "contactMedium": [  # both readings of the seed: v4's mediumType + characteristic, FIT 1.0's flat @type form
        {
            "@type": "PhoneContactMedium",
            "mediumType": "phone",
            "contactType": "fixed",
            "phoneNumber": "0221/789456",
            "characteristic": {"contactType": "fixed", "phoneNumber": "0221/789456"},
        },
        {
            "@type": "PhoneContactMedium",
            "mediumType": "phone",
            "contactType": "mobile",
            "phoneNumber": "0178/78787878",
            "characteristic": {"contactType": "mobile", "phoneNumber": "0178/78787878"},
        },
        {
            "@type": "EmailContactMedium",
            "mediumType": "email",
            "contactType": "email",
            "emailAddress": "l.bach@example.net",
            "characteristic": {"contactType": "email", "emailAddress": "l.bach@example.net"},
        },
    ],
}
# The seed's steps 2-9: listener path, state, reason, and the history entry the event adds (the state left).
SEED = [
    ("productOrderCreateEvent", "acknowledged", KEINE_AENDERUNG, None),
    ("productOrderStateChangeEvent", "acknowledged", KEINE_AENDERUNG, None),
    ("productOrderStateChangeEvent", "accepted", KEINE_AENDERUNG, "acknowledged"),
    ("productOrderAttributeValueChangeEvent", "accepted", KEINE_AENDERUNG, None),
    ("productOrderStateChangeEvent", "inProgress", KEINE_AENDERUNG, "accepted"),
    ("productOrderStateChangeEvent", "completed", AUSGEFUEHRT, "inProgress"),
    ("productOrderAttributeValueChangeEvent", "completed", AUSGEFUEHRT, None),
    ("productOrderStateChangeEvent", "closed", AUSGEFUEHRT, "completed"),
]


def _drive(client: Any, callback: str, sandbox: str = "kue-le") -> dict[str, Any]:
    """Seed the inventory, register the buyer, freeze the clock at the seed's 2022-05-11 10:30, create the
    termination with automatic progress on the seed's timeline, then let the year pass on the sandbox clock."""
    base = f"/_admin/sandboxes/{sandbox}"
    assert client.put(f"{base}/tmf622/inventory", json=INVENTORY, headers=ADMIN).status_code == 200
    hub = client.post(
        f"{TMF}/hub",
        json={"callback": callback, "query": f"category=terminationBySeller&relatedParty.id={BUYER}"},
        headers={"X-Pruefstand-Sandbox": sandbox},
    )
    assert hub.status_code == 201, hub.text
    client.put(f"{base}/clock", json={"now": "2022-05-11T08:30:00Z", "frozen": True}, headers=ADMIN)
    created = client.post(f"{base}/tmf622/terminations", json=TERMINATION, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert client.post(f"{base}/clock/advance", json={"seconds": 365 * 86400}, headers=ADMIN).status_code == 200
    return dict(created.json())


def test_the_buyers_listener_receives_the_seed_sequence_field_by_field() -> None:
    listener = CallbackListener()
    settings = make_settings(delivery_backoff_base_ms=50, delivery_backoff_cap_ms=50)
    listener_contract = load_spec(specs_root() / "tmf622" / "listener.yaml")
    with listener.serving() as url, create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        created = _drive(client, url + "/tmf")
        wait_for(lambda: len(listener.received()) >= len(SEED))
        order = client.get(f"{TMF}/productOrder/{created['id']}", headers={"X-Pruefstand-Sandbox": "kue-le"}).json()
        product = client.get("/_admin/sandboxes/kue-le/tmf622/inventory", headers=ADMIN).json()["products"][0]
    received = listener.received()
    assert len(received) == len(SEED)
    for number, (message, (path, state, reason, left)) in enumerate(zip(received, SEED, strict=True), start=2):
        assert message.path == f"/tmf/listener/{path}", f"step {number}"
        body = message.body
        operation = "listen" + path[0].upper() + path[1:]
        schema = listener_contract.operation(operation)["requestBody"]["content"]["application/json"]["schema"]
        assert SchemaValidator(schema).violations(body) == [], f"step {number}"
        assert body["eventType"] == path[0].upper() + path[1:]
        po = body["event"]["productOrder"]
        assert (po["id"], po["state"], po.get("stateChangeReason")) == (created["id"], state, reason), f"step {number}"
        # the order as the seller created it (step 2 field table), in every event
        assert po["category"] == "terminationBySeller"
        assert po["orderPostedDate"] == "2022-05-11T10:30:00+02:00"
        assert po["requestedCompletionDate"] == "2022-12-01T12:00:00+01:00"
        assert po["requestedCompletionTimePeriod"] == {"startDateTime": "2022-12-01T12:00:00+01:00"}
        assert po["productOrderItem"][0]["action"] == "delete"
        assert po["productOrderItem"][0]["product"]["id"] == PRODUCT
        assert po["externalId"][0]["id"] == "1000111"
        single = {"id": "3091231119", "businessId": "3091231119", "agreementType": "singleContract"}
        assert {**single, "name": "singleContract"} in po["agreement"]
        contract = next(a for a in po["agreement"] if a["agreementType"] == "buyerServiceContract")
        assert (contract["businessId"], contract["engagedParty"]["businessId"]) == ("500012", BUYER)
        roles = [p.get("role") for p in po["relatedParty"]]
        assert "orderManagementBuyerContact" not in roles  # not filled: the seller created the order
        if left is not None:
            entry = po["stateChangeHistory"][-1]
            assert (entry["@type"], entry["state"]) == ("StateChange", left), f"step {number}"
        if path == "productOrderStateChangeEvent":
            # the seed dates the acceptance 10:31 and sends its event 10:32; every other change is sent when made
            expected = "2022-05-11T10:31:00+02:00" if state == "accepted" else body["eventTime"]
            assert po["stateChangeDate"] == expected, f"step {number}"
    contact_event, date_event = received[3].body, received[6].body
    assert contact_event["fieldPath"] == [
        {"path": "/relatedParty/", "typeOfChange": "add"},
        {"path": "/expectedCompletionTimePeriod/", "typeOfChange": "add"},
    ]
    contact_order = contact_event["event"]["productOrder"]
    assert contact_order["relatedParty"][-1] == SUPPLIER_CONTACT
    assert contact_order["expectedCompletionTimePeriod"] == {"startDateTime": "2022-12-01T12:00:00+01:00"}
    assert contact_order["expectedCompletionDate"] == "2022-12-01T12:00:00+01:00"
    assert date_event["fieldPath"] == [{"path": "/terminationDate/", "typeOfChange": "add"}]
    terminated = date_event["event"]["productOrder"]["productOrderItem"][0]["product"]
    assert terminated["terminationDate"] == "2022-12-16T10:45:00+01:00"
    # each step ran at the seed's time, on the sandbox clock, written as the seed writes it
    assert [m.body["eventTime"] for m in received] == SEED_TIMES
    assert [h["state"] for h in order["stateChangeHistory"]] == [
        "acknowledged",
        "accepted",
        "inProgress",
        "completed",
    ]
    assert order["completionDate"] == "2022-12-16T10:45:00+01:00"
    assert [h["changeDate"] for h in order["stateChangeHistory"]] == [
        "2022-05-11T10:30:00+02:00",
        "2022-05-11T10:31:00+02:00",
        "2022-05-20T10:40:00+02:00",
        "2022-12-16T10:45:00+01:00",
    ]
    # the seed's history entries carry their reasons: acknowledged and accepted 0000, inProgress 0000, completed 0010
    reasons = [h.get("changeReason") for h in order["stateChangeHistory"]]
    assert reasons == [KEINE_AENDERUNG, KEINE_AENDERUNG, KEINE_AENDERUNG, AUSGEFUEHRT]
    assert (product["status"], product["terminationDate"]) == ("terminated", "2022-12-16T10:45:00+01:00")


class FlakyListener:
    """A buyer's listener that answers 503 to its first `failures` requests, then records and accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.seen: list[dict[str, Any]] = []

    def app(self) -> Starlette:
        async def receive(request: Request) -> JSONResponse:
            body = await request.json()
            self.seen.append(
                {"path": request.url.path, "body": body, "id": request.headers["x-pruefstand-delivery-id"]}
            )
            if len(self.seen) <= self.failures:
                return JSONResponse({"code": "503"}, status_code=503)
            return JSONResponse({}, status_code=201)

        return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])


@pytest.fixture
def flaky() -> Iterator[tuple[FlakyListener, str]]:
    receiver = FlakyListener(failures=2)
    with serving_app(receiver.app()) as url:
        yield receiver, url


def test_a_listener_that_fails_first_gets_every_event_once_and_in_order(flaky: tuple[FlakyListener, str]) -> None:
    receiver, url = flaky
    settings = make_settings(delivery_backoff_base_ms=20, delivery_backoff_cap_ms=50)
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        _drive(client, url)
        wait_for(lambda: len({s["body"]["eventId"] for s in receiver.seen}) == len(SEED) and _all_delivered(client))
        journal = client.get("/_admin/sandboxes/kue-le/deliveries", headers=ADMIN).json()
    accepted = receiver.seen[receiver.failures :]
    assert [s["path"].rsplit("/", 1)[-1] for s in accepted] == [path for path, *_ in SEED]
    assert len({s["body"]["eventId"] for s in accepted}) == len(accepted) == len(SEED)  # each event once
    assert receiver.seen[0]["id"] == receiver.seen[1]["id"] == receiver.seen[2]["id"]  # the same delivery, retried
    assert [a["statusCode"] for a in journal[0]["attempts"]] == [503, 503, 201]
    assert all(d["status"] == "delivered" for d in journal)


def test_a_restart_in_the_middle_of_delivery_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """The first mock stops with the events still in the outbox; the second, on the same state file, delivers them."""
    db = tmp_path / "state.db"
    listener = CallbackListener()
    settings = make_settings(db=str(db), delivery_backoff_base_ms=20)
    with listener.serving() as url:
        first_store = SQLiteStore(db)
        first = create_app(settings, store=first_store)
        no_worker = TestClient(first)  # no lifespan: the delivery worker never runs, as if killed before sending
        _drive(no_worker, url)
        queued = no_worker.get("/_admin/sandboxes/kue-le/deliveries", headers=ADMIN).json()
        first_store.close()
        with create_app(settings, store=SQLiteStore(db)).test_client() as client:
            wait_for(lambda: len(listener.received()) >= len(SEED) and _all_delivered(client))
    assert [d["status"] for d in queued] == ["pending"] * len(SEED)
    received = listener.received()
    assert [m.path.rsplit("/", 1)[-1] for m in received] == [path for path, *_ in SEED]
    assert len({m.body["eventId"] for m in received}) == len(SEED)


def _all_delivered(client: Any) -> bool:
    journal = client.get("/_admin/sandboxes/kue-le/deliveries", headers=ADMIN).json()
    return bool(journal) and all(d["status"] == "delivered" for d in journal)


def test_a_listener_that_is_down_then_up_gets_everything_in_order_after_redelivery() -> None:
    """Down: every attempt at the first event fails until it is dead (a short retry policy), and the later events of
    the stream wait behind it, never attempted. Up again: the admin API sends the dead one again, and the listener
    receives the whole sequence in order, each event once."""
    port = free_port()
    settings = make_settings(delivery_backoff_base_ms=10, delivery_backoff_cap_ms=20, delivery_max_attempts=2)
    receiver = FlakyListener(failures=0)
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        _drive(client, f"http://127.0.0.1:{port}")
        wait_for(lambda: "dead" in _statuses(client))
        held = client.get("/_admin/sandboxes/kue-le/deliveries", headers=ADMIN).json()
        with serving_app(receiver.app(), port=port):
            again = client.post("/_admin/sandboxes/kue-le/deliveries/redeliver", headers=ADMIN)
            wait_for(lambda: _statuses(client) == {"delivered"})
        journal = client.get("/_admin/sandboxes/kue-le/deliveries", headers=ADMIN).json()
    assert [d["status"] for d in held] == ["dead"] + ["pending"] * (len(SEED) - 1)
    assert [len(d["attempts"]) for d in held] == [2] + [0] * (len(SEED) - 1)
    assert all(a["statusCode"] is None for a in held[0]["attempts"])
    assert again.json() == {"sandbox": "kue-le", "redelivered": 1}
    assert [s["path"].rsplit("/", 1)[-1] for s in receiver.seen] == [path for path, *_ in SEED]
    assert len({s["body"]["eventId"] for s in receiver.seen}) == len(SEED)
    assert [[a["attempt"] for a in d["attempts"]] for d in journal] == [[1, 2, 3]] + [[1]] * (len(SEED) - 1)


def _statuses(client: Any) -> set[str]:
    return {d["status"] for d in client.get("/_admin/sandboxes/kue-le/deliveries", headers=ADMIN).json()}
