"""GET productOrder/{id} is answered in front of connexion in the plain case (http/fast_read.py), with the bytes the
normal path sends: checked against the normal path itself (`?fields=` with no value selects everything and takes the
normal path), in a plain sandbox, behind a proxy (Forwarded, X-Forwarded-Proto), and in a sandbox with the FIT
profile; an unknown id, a profile per request and a fault go the normal way."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.http import fast_read

TMF = "/tmf-api/productOrderingManagement/v4"
ADMIN = {"Authorization": "Bearer test-admin-token"}
PLAIN = {"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "FTTH-250"}}]}


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the fast read answered each GET it saw (True) or left it to the normal path (False)."""
    seen: list[bool] = []
    original = fast_read.FastReadMiddleware._answer

    def spying(self: Any, scope: Any) -> Any:
        answer = original(self, scope)
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(f"{TMF}/productOrder/"):
            seen.append(answer is not None)
        return answer

    monkeypatch.setattr(fast_read.FastReadMiddleware, "_answer", spying)
    return seen


def both(client: TestClient, order_id: str, headers: dict[str, str] | None = None) -> tuple[Any, Any]:
    fast = client.get(f"{TMF}/productOrder/{order_id}", headers=headers)
    normal = client.get(f"{TMF}/productOrder/{order_id}", params={"fields": ""}, headers=headers)
    return fast, normal


@pytest.mark.parametrize(
    "forwarded", [{}, {"Forwarded": "proto=https;host=partner.example"}, {"X-Forwarded-Proto": "https"}]
)
def test_a_plain_read_gives_the_normal_paths_bytes(
    client: TestClient, answered: list[bool], forwarded: dict[str, str]
) -> None:
    created = client.post(f"{TMF}/productOrder", json={**PLAIN, "externalId": "PO-4711"})
    assert created.status_code == 201, created.text
    fast, normal = both(client, created.json()["id"], forwarded)
    assert answered == [True, False]
    assert fast.status_code == normal.status_code == 200
    assert fast.content == normal.content
    assert fast.headers["content-type"] == normal.headers["content-type"] == "application/json"
    assert fast.headers["content-length"] == normal.headers["content-length"]
    if forwarded.get("Forwarded"):
        assert fast.json()["href"].startswith("https://partner.example/tmf-api/")


def test_a_fit_sandbox_read_gives_the_normal_paths_bytes(client: TestClient, answered: list[bool]) -> None:
    assert client.put("/_admin/sandboxes/s1/tmf622/profile", json={"profile": "fit"}, headers=ADMIN).status_code == 200
    in_s1 = {"X-Pruefstand-Sandbox": "s1"}
    buyer = {**PLAIN, "relatedParty": [{"id": "500011", "role": "customer", "@referredType": "Organization"}]}
    created = client.post(f"{TMF}/productOrder", json=buyer, headers={**in_s1, "X-Pruefstand-Profile": "tmf622"})
    assert created.status_code == 201, created.text
    fast, normal = both(client, created.json()["id"], in_s1)
    assert answered == [True, False]
    assert fast.content == normal.content


def test_what_the_plain_read_does_not_do_goes_the_normal_way(client: TestClient, answered: list[bool]) -> None:
    order_id = client.post(f"{TMF}/productOrder", json=PLAIN).json()["id"]
    unknown = client.get(f"{TMF}/productOrder/no-such-order")
    assert unknown.status_code == 404
    assert unknown.json()["code"]  # TMF630's error shape, from the normal path
    per_request = client.get(f"{TMF}/productOrder/{order_id}", headers={"X-Pruefstand-Profile": "tmf622"})
    assert per_request.status_code == 200
    faults = {"rules": [{"status": 503, "probability": 1.0}]}
    assert client.put("/_admin/sandboxes/default/faults", json=faults, headers=ADMIN).status_code in (200, 204)
    assert client.get(f"{TMF}/productOrder/{order_id}").status_code == 503
    assert answered == [False, False, False]


def test_a_fast_read_is_journaled(client: TestClient, answered: list[bool]) -> None:
    order_id = client.post(f"{TMF}/productOrder", json=PLAIN).json()["id"]
    assert client.get(f"{TMF}/productOrder/{order_id}").status_code == 200
    assert answered == [True]
    found = client.post(
        "/_admin/sandboxes/default/requests/find",
        json={"method": "GET", "url": f"{TMF}/productOrder/{order_id}"},
        headers=ADMIN,
    )
    assert found.status_code == 200, found.text
    assert len(found.json()["requests"]) == 1
