"""Flow handlers get the request as a `Call` (headers, query, token claims) from the HTTP layer, never from
connexion's context; a query parameter named `call` is a query parameter, not the request."""

from __future__ import annotations

from starlette.testclient import TestClient

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


def test_the_token_claims_reach_the_maco_handler(client: TestClient, auth: dict[str, str]) -> None:
    missing = client.get("/maco/processes/00000000-0000-4000-8000-000000000000", headers=auth)
    assert missing.status_code == 404
    assert "00000000-0000-4000-8000-000000000000" in missing.json()["message"]
