"""Flow handlers get the request as a `Call` (headers, query, token claims) from the HTTP layer, never from
connexion's context; a query parameter named `call` is a query parameter, not the request."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.conftest import get_token

TMF = "/tmf-api/productOrderingManagement/v4"


def test_given_a_sandbox_header_when_an_order_is_created_then_the_call_carries_it(client: TestClient) -> None:
    order = {"productOrderItem": [{"id": "1", "action": "add"}]}
    created = client.post(f"{TMF}/productOrder", json=order, headers={"X-Pruefstand-Sandbox": "call-a"})
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    assert client.get(f"{TMF}/productOrder/{order_id}", headers={"X-Pruefstand-Sandbox": "call-a"}).status_code == 200
    assert client.get(f"{TMF}/productOrder/{order_id}").status_code == 404  # the default sandbox has none


def test_a_query_parameter_named_call_is_not_the_request(client: TestClient) -> None:
    order = {"productOrderItem": [{"id": "1", "action": "add"}]}
    created = client.post(f"{TMF}/productOrder", json=order).json()
    found = client.get(f"{TMF}/productOrder/{created['id']}", params={"call": "x", "fields": "state"})
    assert found.status_code == 200, found.text
    assert found.json() == {"id": created["id"], "href": created["href"], "state": created["state"]}
    listed = client.get(f"{TMF}/productOrder", params={"call": "x"})
    assert listed.status_code == 400  # a TMF630 filter on an attribute orders do not have, named as such
    assert "call" in listed.json()["message"]


def test_the_token_claims_reach_the_maco_handler(
    client: TestClient, settings: Any, example: Any, auth: dict[str, str]
) -> None:
    """A token issued in a sandbox works there without the header: the handler reads the sandbox from its claims."""
    token = get_token(client, settings, sandbox="claims-1")
    own = {"Authorization": f"Bearer {token}"}
    started = client.post("/maco/inbound", json=example("Z34_Marktlokation"), headers=own)
    assert started.status_code == 201, started.text
    key = started.json()["businessKey"]
    assert client.get(f"/maco/processes/{key}", headers=own).json()["businessKey"] == key
    assert client.get(f"/maco/processes/{key}", headers=auth).status_code == 404  # a token of the default sandbox
    admin = {"Authorization": "Bearer test-admin-token"}
    stored = client.get("/_admin/sandboxes/claims-1/maco/processes", headers=admin).json()
    assert [p["businessKey"] for p in stored] == [key]
