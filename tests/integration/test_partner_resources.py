"""Partner contracts served statefully (`--spec FILE --base-path /x`): what is posted to a resource the contract shows
is kept per sandbox and read, replaced, merged and deleted by the contract's other operations; answers fit the
contract; `spec_mode = "examples"` keeps answering from examples. A small pet store (OpenAPI 3) and the official
TMF622 v4 swagger (OpenAPI 2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pruefstand.contracts import load_spec
from pruefstand.contracts.exchange_check import ExchangeChecker
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.kernel.settings import ExtraApi
from pruefstand.mock_server.resources.crud import find_resources
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import make_settings

FIXTURES = Path(__file__).parents[1] / "fixtures"
PETS = FIXTURES / "pets.yaml"
TMF622_SWAGGER = FIXTURES / "reference" / "TMF622-ProductOrder-v4.0.0.swagger.json"


def served(spec: Path, base: str, mode: str = "stateful") -> TestClient:
    settings = make_settings(extra_apis=[ExtraApi(spec, base)], spec_mode=mode)
    return TestClient(create_app(settings, store=SQLiteStore(":memory:")))


@pytest.fixture
def pets() -> Iterator[TestClient]:
    with served(PETS, "/shop") as client:
        yield client


def test_the_resources_a_contract_shows_are_found() -> None:
    [pet] = find_resources(load_spec(PETS).document, "/shop")
    assert (pet.collection, pet.item, pet.id_param, pet.id_field, pet.id_kind) == (
        "/pets", "/pets/{petId}", "petId", "petId", "integer",
    )  # fmt: skip


def test_what_is_posted_is_kept_read_listed_replaced_merged_and_deleted(pets: TestClient) -> None:
    checker = ExchangeChecker(load_spec(PETS))
    created = pets.post("/shop/pets", json={"name": "Rex", "status": "available", "tags": ["dog"]})
    assert created.status_code == 201
    assert created.json() == {"name": "Rex", "status": "available", "tags": ["dog"], "petId": 1}
    assert created.headers["Location"] == "/shop/pets/1"
    matched = checker.match("POST", "/pets")
    assert matched is not None
    assert checker.check_response(matched, 201, dict(created.headers), created.content) == []  # fits the contract
    pets.post("/shop/pets", json={"name": "Tom", "status": "sold"})
    assert pets.get("/shop/pets/1").json()["name"] == "Rex"
    assert [p["name"] for p in pets.get("/shop/pets").json()] == ["Rex", "Tom"]
    assert [p["name"] for p in pets.get("/shop/pets?status=sold").json()] == ["Tom"]
    assert [p["name"] for p in pets.get("/shop/pets?limit=1&offset=1").json()] == ["Tom"]
    replaced = pets.put("/shop/pets/1", json={"name": "Rex II"})
    assert replaced.json() == {"name": "Rex II", "petId": 1}
    merged = pets.patch(
        "/shop/pets/1", content=b'{"status": "pending", "name": null}',
        headers={"Content-Type": "application/merge-patch+json"},
    )  # fmt: skip
    assert merged.json() == {"status": "pending", "petId": 1}  # RFC 7386: null removes
    assert pets.delete("/shop/pets/1").status_code == 204
    gone = pets.get("/shop/pets/1")
    assert gone.status_code == 404
    assert "petId '1'" in gone.json()["detail"]
    assert pets.get("/shop/stats").json() == {"pets": 42}  # not a resource: its example


def test_each_sandbox_keeps_its_own_and_invalid_bodies_are_refused(pets: TestClient) -> None:
    pets.post("/shop/pets", json={"name": "Rex"}, headers={"X-Pruefstand-Sandbox": "a"})
    assert pets.get("/shop/pets", headers={"X-Pruefstand-Sandbox": "b"}).json() == []
    assert len(pets.get("/shop/pets", headers={"X-Pruefstand-Sandbox": "a"}).json()) == 1
    refused = pets.post("/shop/pets", json={"status": "available"})
    assert refused.status_code == 400
    assert "name" in refused.json()["detail"]


def test_examples_mode_keeps_answering_from_examples() -> None:
    with served(PETS, "/shop", mode="examples") as pets:
        created = pets.post("/shop/pets", json={"name": "Rex"})
        assert created.status_code == 201
        assert created.json()["name"] == "string"  # built from the schema, not what was posted
        assert pets.get("/shop/pets/1").status_code == 200


def test_the_official_tmf622_v4_swagger_keeps_orders_per_sandbox() -> None:
    with served(TMF622_SWAGGER, "/tmf622") as tmf:
        order = {"productOrderItem": [{"id": "1", "action": "add"}], "description": "kept"}
        created = tmf.post("/tmf622/productOrder", json=order, headers={"X-Pruefstand-Sandbox": "p"})
        assert created.status_code == 201
        order_id = created.json()["id"]
        assert created.headers["Location"] == f"/tmf622/productOrder/{order_id}"
        read = tmf.get(f"/tmf622/productOrder/{order_id}", headers={"X-Pruefstand-Sandbox": "p"}).json()
        assert read["description"] == "kept"
        assert tmf.get(f"/tmf622/productOrder/{order_id}").status_code == 404  # another sandbox
        patched = tmf.patch(
            f"/tmf622/productOrder/{order_id}",
            json={"description": "patched", "productOrderItem": [{"id": "1", "action": "modify"}]},
            headers={"X-Pruefstand-Sandbox": "p"},  # the swagger's PATCH takes application/json
        )  # fmt: skip
        assert patched.json()["description"] == "patched"  # the official ProductOrder_Update requires the items
        assert patched.json()["productOrderItem"] == [{"id": "1", "action": "modify"}]
        listed = tmf.get("/tmf622/productOrder", headers={"X-Pruefstand-Sandbox": "p"}).json()
        assert [o["id"] for o in listed] == [order_id]
        deleted = tmf.delete(f"/tmf622/productOrder/{order_id}", headers={"X-Pruefstand-Sandbox": "p"})
        assert deleted.status_code in (200, 204)  # the swagger's first 2xx for DELETE
        assert tmf.get(f"/tmf622/productOrder/{order_id}", headers={"X-Pruefstand-Sandbox": "p"}).status_code == 404
