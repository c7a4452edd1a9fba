"""Strom-Quittung's create is answered in front of connexion in the plain case (http/fast_path.py, flows/quittung/
fast_path.py) exactly as the connexion stack answers it: the same requests against two mocks seeded alike, one with
the fast path and one without, give the same answers byte for byte, the same receipts (but for what the signing key,
random per mock, makes: serials, signatures, public keys), receipts that verify, and the same journal; every refusal,
a preference and a query still come from the normal path."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.fixtures.fast_path_spy import fast_answers

Q = "/v2.0/quittung"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
COMPLETE = {
    "seller_name": "Maxima Ladesäulia",
    "seller_email": "test@email.de",
    "seller_zipcode": "12345",
    "seller_yrconsumption": 2500,
    "buyer_name": "Ludwig von Auto GmbH",
    "tx_energy": 2.123,
    "tx_duration": 25,
}
WITH_EMAIL = {**{k: v for k, v in COMPLETE.items() if k != "seller_email"}, "email": "other@email.de"}
# what the signing key (random per mock) makes: left out of the comparison, checked by /quittung/verify instead
KEYED = {"raw", "signature", "publickey", "publicKey", "qrCodeData", "serialnumber", "serialNumber", "tseSerialnumber"}

# (headers, query, body) in order; FAST says which the fast path answers
REQUESTS: list[tuple[dict[str, str], dict[str, str], Any]] = [
    ({}, {}, COMPLETE),  # fast: 200, the receipt number
    ({}, {}, WITH_EMAIL),  # fast: 200, email stands for seller_email
    ({}, {}, {"seller_name": "Maxima"}),  # fast: 200, the documented {err, missing, account}
    ({}, {}, {**COMPLETE, "tx_energy": "viel"}),  # normal: 400, an invalid field
    ({}, {}, {**COMPLETE, "account": 7}),  # normal: 400, the contract's account is a string
    ({"X-Pruefstand-Sandbox": "s1"}, {}, COMPLETE),  # fast: 200, in another sandbox (counters of its own)
    ({"Prefer": "respond-async"}, {}, COMPLETE),  # normal: a preference
    ({}, {"x": "1"}, COMPLETE),  # normal: 400, a query parameter the operation does not have
    ({"Content-Type": "application/json"}, {}, "[1,"),  # normal: malformed JSON, 400
    ({"Content-Type": "text/plain"}, {}, "x"),  # normal: 415
]
FAST = [True, True, True, False, False, True, False, False, False, False]


def _unkeyed(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _unkeyed(v) for k, v in node.items() if k not in KEYED}
    if isinstance(node, list):
        return [_unkeyed(item) for item in node]
    return node


def session(fast: bool) -> list[Any]:
    settings = make_settings(fast_path=fast, id_seed="quittung-fast", clock_start="2026-01-01T08:00:00Z")
    seen: list[Any] = []
    with TestClient(create_app(settings)) as client:
        for headers, query, body in REQUESTS:
            if isinstance(body, str):
                answer = client.post(f"{Q}/create", content=body, headers=headers, params=query)
            else:
                answer = client.post(f"{Q}/create", json=body, headers=headers, params=query)
            seen.append((answer.status_code, answer.content, answer.headers.raw))
            in_sandbox = {"X-Pruefstand-Sandbox": headers.get("X-Pruefstand-Sandbox", "default")}
            if answer.status_code == 200 and isinstance(answer.json(), str):
                token = answer.json()
                receipt = client.get(f"{Q}/receipt", params={"token": token}, headers=in_sandbox)
                seen.append(_unkeyed(receipt.json()))
                verified = client.post(f"{Q}/verify", json={"token": token}, headers=in_sandbox).json()
                assert verified["valid"], verified
        for sandbox in ("default", "s1"):
            journal = client.get(f"/_admin/sandboxes/{sandbox}/requests", headers=ADMIN, params={"limit": 50}).json()
            seen.append([(e["method"], e["path"], e["query"], e["status"], e["request"], e["response"])
                         for e in journal if e["path"].endswith("/create")])  # fmt: skip
    return seen


def test_the_fast_create_answers_as_the_normal_path(monkeypatch: pytest.MonkeyPatch) -> None:
    answered = fast_answers(monkeypatch)
    fast = session(True)
    reached = [f for f, (headers, query, _) in zip(FAST, REQUESTS, strict=True) if _reaches(headers, query)]
    assert answered == reached
    statuses = [entry[0] for entry in fast if isinstance(entry, tuple)]
    assert statuses == [200, 200, 200, 400, 400, 200, 200, 400, 400, 415]
    normal = session(False)
    assert answered.count(True) == FAST.count(True)  # without it, nothing passes through it
    assert fast == normal


def _reaches(headers: dict[str, str], query: dict[str, str]) -> bool:
    return not query and "Prefer" not in headers and headers.get("Content-Type") != "text/plain"
