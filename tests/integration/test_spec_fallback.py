"""`serve --spec FILE --base-path /x`: any OpenAPI 2/3 document answered from its examples, requests validated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.kernel.settings import ExtraApi
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import FIXTURES, make_settings

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"


def served(spec: Path, base_path: str) -> TestClient:
    """Answers from examples (spec_mode "examples"); the stateful default: test_partner_resources.py."""
    settings = make_settings(extra_apis=[ExtraApi(spec, base_path)], spec_mode="examples")
    client: TestClient = create_app(settings, store=SQLiteStore(":memory:")).test_client()
    return client


@pytest.fixture
def orders() -> Iterator[TestClient]:
    with served(FIXTURES / "orders-swagger2.json", "/orders") as client:
        yield client


def test_the_documented_example_is_served(orders: TestClient) -> None:
    response = orders.get("/orders/order/42")
    assert response.status_code == 200
    assert response.json() == {"id": "42", "state": "acknowledged", "item": [{"id": "1", "item": []}]}


def test_without_example_an_answer_is_built_from_the_recursive_schema(orders: TestClient) -> None:
    response = orders.post("/orders/order", json={"item": [{"id": "1"}]})
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "acknowledged"
    assert body["orderDate"] == "2026-01-01T00:00:00Z"
    assert isinstance(body["item"][0]["item"], list)


def test_an_invalid_request_is_refused_naming_the_field(orders: TestClient) -> None:
    response = orders.post("/orders/order", json={"item": []})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Validation Failed: $.item: [] should be non-empty"


def test_a_declared_charset_does_not_refuse_plain_json(orders: TestClient) -> None:
    response = orders.post(
        "/orders/order",
        content=b'{"item": [{"id": "7"}]}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


def test_prefer_code_picks_a_documented_answer(orders: TestClient) -> None:
    response = orders.get("/orders/order/42", headers={"Prefer": "code=404"})
    assert response.status_code == 404
    assert response.json() == {"code": "string", "reason": "string"}


def test_the_bundled_apis_stay_served_beside_it(orders: TestClient) -> None:
    assert orders.get("/healthz").json()["status"] == "ok"
    assert orders.post("/maco/inbound", json={}).status_code == 401


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference (TMF622 documents) is not beside the project")
@pytest.mark.parametrize(
    ("document", "base"),
    [
        ("TMF622-ProductOrder-v4.0.0.swagger.json", "/tmf4"),
        ("TMF622-ProductOrdering-v5.0.0.oas.yaml", "/tmf5"),
    ],
)
def test_the_official_tmf622_documents_load_and_serve(document: str, base: str) -> None:
    with served(REFERENCE / document, base) as client:
        found = client.get(f"{base}/productOrder/1")
        refused = client.post(f"{base}/productOrder", json={"note": "no items"})
    assert found.status_code == 200
    assert "id" in found.json()
    assert refused.status_code == 400


def test_prefer_example_picks_a_named_example_and_path_parameters_are_validated() -> None:
    with served(FIXTURES / "named-examples.yaml", "/meters") as client:
        first = client.get("/meters/meter/1234")
        gas = client.get("/meters/meter/1234", headers={"Prefer": "example=gas"})
        missing = client.get("/meters/meter/1234", headers={"Prefer": "code=404"})
        invalid = client.get("/meters/meter/12x")
    assert first.json() == {"id": "0001", "kind": "electricity"}
    assert gas.json() == {"id": "0002", "kind": "gas"}
    assert missing.status_code == 404
    assert missing.json() == {"error": "unknown meter"}
    assert invalid.status_code == 400
    assert "does not match" in invalid.json()["detail"]
