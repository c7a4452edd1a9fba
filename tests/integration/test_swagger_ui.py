"""What a partner meets in Swagger UI: a sandbox field on every operation, request examples the mock accepts as they
are, and response examples that belong to their status."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.contracts import SchemaValidator, bundled_spec_path, load_spec
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.commands.api_specs import request_example, spec_of
from pruefstand.mock_server.kernel import registry
from tests.conftest import make_settings

METHODS = ("get", "put", "post", "delete", "patch")
TMF = "/tmf-api/productOrderingManagement/v4"


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if isinstance(item.get(method), dict):
                yield path, method, item[method]


@pytest.mark.parametrize(("name", "base"), [("maco", "/maco"), ("tmf622", TMF), ("quittung", "/v2.0")])
def test_every_served_operation_has_the_sandbox_field_and_the_contract_file_has_not(
    client: TestClient, name: str, base: str
) -> None:
    served = client.get(f"{base}/openapi.json").json()
    for path, method, operation in operations(served):
        [field] = [p for p in operation.get("parameters", []) if p.get("name") == "X-Pruefstand-Sandbox"]
        assert field["in"] == "header", (path, method)
        assert field["required"] is False
        assert "mock only" in field["description"]
    contract = spec_of(name).document
    assert all(
        p.get("name") != "X-Pruefstand-Sandbox" for _, _, op in operations(contract) for p in op.get("parameters", [])
    )


def test_the_sandbox_field_chooses_the_sandbox(client: TestClient) -> None:
    order = {"productOrderItem": [{"id": "1", "action": "add"}]}
    created = client.post(f"{TMF}/productOrder", json=order, headers={"X-Pruefstand-Sandbox": "ui-anna"})
    assert created.status_code == 201
    assert client.get(f"{TMF}/productOrder/{created.json()['id']}").status_code == 404
    found = client.get(f"{TMF}/productOrder/{created.json()['id']}", headers={"X-Pruefstand-Sandbox": "ui-anna"})
    assert found.status_code == 200


@pytest.mark.parametrize("api", [a.name for a in registry.apis(served=True) if a.resolve == "all"])
def test_every_documented_example_fits_its_schema_and_an_error_example_its_status(api: str) -> None:
    document = spec_of(api).document
    checked = 0
    for path, method, operation in operations(document):
        bodies = [("request", m, c) for m, c in operation.get("requestBody", {}).get("content", {}).items()]
        for status, response in operation.get("responses", {}).items():
            bodies += [(status, m, c) for m, c in (response.get("content") or {}).items()]
        for where, media, content in bodies:
            for name, example in (content.get("examples") or {}).items():
                problems = SchemaValidator(content.get("schema", {})).violations(example["value"])
                assert problems == [], f"{method} {path} {where} {media} example {name}: {problems}"
                value = example["value"]
                if where != "request" and isinstance(value, dict):
                    code = value.get("errorCode", value.get("status", value.get("code")))
                    assert code is None or str(code) == where, f"{method} {path} {where} example {name}: {code}"
                checked += 1
    assert checked > 0


def test_maco_error_examples_differ_per_status() -> None:
    operation = load_spec(bundled_spec_path("maco/trigger.yaml")).operation("inbound")
    messages = {
        status: next(iter(response["content"]["application/json"]["examples"].values()))["value"]["message"]
        for status, response in operation["responses"].items()
        if status != "201"
    }
    assert sorted(messages) == ["400", "401", "409", "413", "415"]
    assert len(set(messages.values())) == 5


def test_the_tmf622_request_examples_work_as_they_are(admin: dict[str, str]) -> None:
    with TestClient(create_app(make_settings())) as c:
        plain = c.post(f"{TMF}/productOrder", json=request_example("tmf622", "createProductOrder", "plain_v4"))
        assert plain.status_code == 201, plain.text
        order_id = plain.json()["id"]
        merge = request_example("tmf622", "patchProductOrder", "new_description")
        patched = c.patch(f"{TMF}/productOrder/{order_id}", json=merge,
                          headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
        assert patched.status_code == 200, patched.text
        assert patched.json()["description"] == merge["description"]
        operations_ = request_example("tmf622", "patchProductOrder", "replace_description")
        json_patched = c.request("PATCH", f"{TMF}/productOrder/{order_id}", json=operations_,
                                 headers={"Content-Type": "application/json-patch+json"})  # fmt: skip
        assert json_patched.status_code == 200, json_patched.text
        cancel = copy.deepcopy(request_example("tmf622", "createCancelProductOrder", "cancel"))
        cancel["productOrder"]["id"] = order_id
        assert c.post(f"{TMF}/cancelProductOrder", json=cancel).status_code == 201
        hub = c.post(f"{TMF}/hub", json=request_example("tmf622", "registerListener", "terminations_by_seller"))
        assert hub.status_code == 201, hub.text
        inventory = {"agreements": [{"buyer": "500011", "businessId": "RV-500011"}], "products": []}
        seeded = c.put("/_admin/sandboxes/fit-ui/tmf622/inventory", headers=admin, json=inventory)
        assert seeded.status_code == 200, seeded.text
        fit = c.post(f"{TMF}/productOrder", json=request_example("tmf622", "createProductOrder", "fit_buyer_order"),
                     headers={"X-Pruefstand-Sandbox": "fit-ui"})  # fmt: skip
        assert fit.status_code == 201, fit.text
        assert fit.json()["relatedParty"][0]["id"] == "500011"


def test_the_index_page_lists_every_api_its_contract_and_ui(client: TestClient) -> None:
    listed = client.get("/", headers={"Accept": "application/json"}).json()
    bases = {api["basePath"]: api for api in listed["apis"]}
    assert set(bases) >= {"/maco", "/v2.0", "/tmf-api/productOrderingManagement/v4", "/_admin"}
    for api in listed["apis"]:
        assert client.get(api["contract"]).status_code == 200
        if "ui" in api:
            assert client.get(api["ui"]).status_code == 200
    page = client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert "<a href='/maco/ui/'>Swagger UI</a>" in page.text


def test_the_sandboxes_with_state_are_listed(client: TestClient) -> None:
    client.post("/v2.0/quittung/prepare", json={"tx_energy": "1.0"}, headers={"X-Pruefstand-Sandbox": "listed-1"})
    found = client.get("/_admin/sandboxes", headers={"Authorization": "Bearer test-admin-token"}).json()
    assert {"sandbox": "listed-1", "records": 1} in found["sandboxes"]
    assert all(not s["sandbox"].startswith("_") for s in found["sandboxes"])  # the signing key's own is internal


def test_tmf622_v5_has_a_swagger_ui_on_its_own_contract(client: TestClient) -> None:
    base = "/tmf-api/productOrderingManagement/v5"
    page = client.get(f"{base}/ui/")
    assert page.status_code == 200
    assert "url: '../openapi.json'" in page.text
    assert client.get(f"{base}/ui/swagger-ui-bundle.js").status_code == 200
    assert client.get(f"{base}/ui/secret.txt").status_code == 404  # only the bundle's own files
    assert client.get(f"{base}/openapi.json").json()["info"]["title"].startswith("ProductOrdering")
