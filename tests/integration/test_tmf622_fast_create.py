"""POST productOrder is answered in front of connexion in the plain case (http/fast_path.py, flows/tmf622/
fast_paths.py) exactly as the connexion stack answers it: the same sequence of requests against two mocks seeded
alike, one with the fast path and one without, gives the same answers byte for byte (Location and the proxy headers'
base included), the same stored orders, the same events for the hub's listener and the same journal; every refusal,
a per-request profile, a preference and a query still come from the normal path."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.fixtures.fast_path_spy import fast_answers

TMF = "/tmf-api/productOrderingManagement/v4"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ITEM = {"id": "1", "action": "add", "productOffering": {"id": "FTTH-250"}}
PLAIN = {"productOrderItem": [ITEM], "externalId": "PO-4711"}
BUYER = [{"id": "500011", "role": "customer", "@referredType": "Organization"}]
IN_S1 = {"X-Pruefstand-Sandbox": "s1"}

# (headers, query, body): what each request sends, in order; the comment says who answers it with the fast path on
REQUESTS: list[tuple[dict[str, str], dict[str, str], Any]] = [
    ({}, {}, PLAIN),  # fast: 201
    ({"Forwarded": "proto=https;host=partner.example"}, {}, PLAIN),  # fast: 201 with the proxy's base
    ({"X-Forwarded-Proto": "https"}, {}, {**PLAIN, "description": "über den Proxy"}),  # fast: 201
    ({}, {}, {"externalId": "PO-1"}),  # normal: 400, productOrderItem is required
    ({}, {}, {**PLAIN, "externalId": [{"id": "PO-1"}]}),  # normal: 409, FIT's externalId in a plain sandbox
    ({"X-Pruefstand-Profile": "tmf622"}, {}, PLAIN),  # normal: a profile per request
    ({"Prefer": "respond-async"}, {}, PLAIN),  # normal: a preference
    ({}, {"fields": "id,state"}, PLAIN),  # normal: a selection of fields
    ({"Content-Type": "application/json"}, {}, "{"),  # normal: malformed JSON, 400
    ({"Content-Type": "text/plain"}, {}, "x"),  # normal: 415
    ({**IN_S1}, {}, {**PLAIN, "relatedParty": BUYER}),  # fast: 201 in a FIT sandbox
    ({**IN_S1}, {}, PLAIN),  # normal: 422 in a FIT sandbox, no buyer named
]
FAST = [True, True, True, False, False, False, False, False, False, False, True, False]


def session(fast: bool) -> list[Any]:
    settings = make_settings(fast_path=fast, id_seed="fast-create", clock_start="2026-01-01T08:00:00Z")
    app = create_app(settings)
    seen: list[Any] = []
    with TestClient(app) as client:
        for sandbox in ("default", "s1"):
            hub = {"callback": "http://127.0.0.1:9/listener"}
            registered = client.post(f"{TMF}/hub", json=hub, headers={"X-Pruefstand-Sandbox": sandbox})
            assert registered.status_code == 201, registered.text
        profile = {"profile": "fit"}
        assert client.put("/_admin/sandboxes/s1/tmf622/profile", json=profile, headers=ADMIN).status_code == 200
        inventory = {
            "agreements": [{"buyer": "500011", "businessId": "RV-500011", "agreementType": "frameworkAgreement"}]
        }
        assert client.put("/_admin/sandboxes/s1/tmf622/inventory", json=inventory, headers=ADMIN).status_code == 200
        for headers, query, body in REQUESTS:
            if isinstance(body, str):
                response = client.post(f"{TMF}/productOrder", content=body, headers=headers, params=query)
            else:
                response = client.post(f"{TMF}/productOrder", json=body, headers=headers, params=query)
            seen.append((response.status_code, response.content, response.headers.raw))
        for sandbox in ("default", "s1"):
            listed = client.get(f"{TMF}/productOrder", headers={"X-Pruefstand-Sandbox": sandbox})
            seen.append(listed.json())
            events = [
                (m["stream"], m["kind"], m["target"], m["payload"]) for m in app.services.store.outbox.journal(sandbox)
            ]
            seen.append(events)
            journal = client.get(f"/_admin/sandboxes/{sandbox}/requests", headers=ADMIN, params={"limit": 50}).json()
            seen.append(
                [(e["method"], e["path"], e["query"], e["status"], e["request"], e["response"]) for e in journal]
            )
    return seen


def test_the_fast_create_answers_as_the_normal_path(monkeypatch: pytest.MonkeyPatch) -> None:
    answered = fast_answers(monkeypatch)
    fast = session(True)
    # the preference, the profile header, the query and the 415 never reach the fast path's checks
    assert answered == [fast_one for fast_one, request in zip(FAST, REQUESTS, strict=True) if _reaches(*request)]
    statuses = [status for status, _, _ in fast[: len(REQUESTS)]]
    assert statuses == [201, 201, 201, 400, 409, 201, 201, 201, 400, 415, 201, 422]
    behind_proxy = dict(fast[1][2])
    assert behind_proxy[b"location"].startswith(b"https://partner.example/tmf-api/productOrderingManagement/v4/")
    events = fast[len(REQUESTS) + 1]
    assert len(events) >= 8  # CreateEvent and StateChangeEvent of each order created in the plain sandbox
    normal = session(False)
    assert answered.count(True) == FAST.count(True)  # without it, nothing passes through it
    assert fast == normal


def _reaches(headers: dict[str, str], query: dict[str, str], _body: Any) -> bool:
    named = {name.lower() for name in headers}
    declined = {"prefer", "x-pruefstand-profile"} & named
    return not query and not declined and headers.get("Content-Type") != "text/plain"
