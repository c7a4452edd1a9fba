"""The TMF622 FIT-API contracts load, and every order representation carries what TMF622 v4 requires."""

from __future__ import annotations

from typing import Any

from contracts import load_spec, specs_root
from contracts.spec_catalog import contract_files
from mock_server.flows.tmf622.documents import PATCHABLE

SELLER = specs_root() / "tmf622" / "product-ordering.yaml"
LISTENER = specs_root() / "tmf622" / "listener.yaml"


def test_lint_finds_every_contract() -> None:
    names = {p.relative_to(specs_root()).as_posix() for p in contract_files()}
    assert {"maco/trigger.yaml", "maco/backend.yaml", "admin/admin.yaml", "tmf622/product-ordering.yaml"} <= names
    assert "tmf622/listener.yaml" in names
    assert "tmf622/fit-profile.yaml" not in names  # data, not a contract


def test_the_seller_api_has_the_operations_and_fit_order_fields() -> None:
    spec = load_spec(SELLER)
    for operation_id in (
        "listProductOrder",
        "createProductOrder",
        "retrieveProductOrder",
        "patchProductOrder",
        "listCancelProductOrder",
        "createCancelProductOrder",
        "retrieveCancelProductOrder",
        "registerListener",
        "unregisterListener",
    ):
        assert spec.operation(operation_id)
    for operation_id, status in (("createProductOrder", "201"), ("patchProductOrder", "200")):
        order = spec.operation(operation_id)["responses"][status]["content"]["application/json"]["schema"]
        _, properties = _flattened(order)
        assert {"id", "href", "state", "productOrderItem"} <= set(properties)
        states = properties["state"]["enum"]
        assert {"accepted", "closed", "acknowledged", "assessingCancellation"} <= set(states)
    full = spec.operation("patchProductOrder")["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"id", "href", "orderDate", "state", "productOrderItem"} <= _flattened(full)[0]  # v4 requires only items
    selected = spec.operation("retrieveProductOrder")["responses"]["200"]["content"]["application/json"]["schema"]
    assert _flattened(selected)[0] == {"id", "href"}  # fields= may select less; id and href always stay
    patch = spec.operation("patchProductOrder")["requestBody"]["content"]
    assert list(patch) == ["application/merge-patch+json", "application/json", "application/json-patch+json"]


def test_the_listener_api_has_one_path_per_event() -> None:
    paths = set(load_spec(LISTENER).document["paths"])
    assert {
        "/listener/productOrderCreateEvent",
        "/listener/productOrderStateChangeEvent",
        "/listener/productOrderAttributeValueChangeEvent",
        "/listener/productOrderDeleteEvent",
        "/listener/productOrderInformationRequiredEvent",
        "/listener/productOrderMilestoneEvent",
        "/listener/cancelProductOrderStateChangeEvent",
    } <= paths


def _flattened(schema: dict[str, Any]) -> tuple[set[str], dict[str, Any]]:
    """The required names and the properties of a schema, through its allOf parts."""
    required, properties = set(schema.get("required", [])), dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        more_required, more_properties = _flattened(part)
        required |= more_required
        properties.update(more_properties)
    return required, properties


def test_what_a_buyer_may_patch_is_what_the_contract_lists() -> None:
    spec = load_spec(specs_root() / "tmf622" / "product-ordering.yaml")
    schema = spec.operation("patchProductOrder")["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == PATCHABLE
    assert schema["additionalProperties"] is False
