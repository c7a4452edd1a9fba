"""The TMF622 FIT-API contracts load, and every order representation carries what TMF622 v4 requires."""

from __future__ import annotations

import re
from typing import Any

import jsonpointer
import pytest

from pruefstand.contracts import load_spec, specs_root
from pruefstand.contracts.fuzzing import _pinned
from pruefstand.contracts.spec_catalog import contract_files
from pruefstand.mock_server.commands.fuzz_target import OWN_LISTENER, _pins
from pruefstand.mock_server.flows.tmf622.documents import PATCHABLE
from pruefstand.mock_server.flows.tmf622.notifications import query_violations
from pruefstand.mock_server.flows.tmf622.tmf630 import schema_attributes

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


def test_the_hub_query_pattern_admits_what_the_hub_evaluates_and_nothing_else() -> None:
    """The contract says which hub queries can be evaluated (so a fuzzer with positive-data acceptance sends only
    those); the pattern and the hub's own check agree on every case, and the pattern knows every event type the
    listener contract has and every ProductOrder attribute."""
    spec = load_spec(specs_root() / "tmf622" / "product-ordering.yaml")
    listener = load_spec(specs_root() / "tmf622" / "listener.yaml")
    schema = spec.operation("registerListener")["requestBody"]["content"]["application/json"]["schema"]
    pattern = re.compile(schema["properties"]["query"]["pattern"])
    order = spec.operation("retrieveProductOrder")["responses"]["200"]["content"]["application/json"]["schema"]
    attributes = schema_attributes(order)
    types = {
        str(op["operationId"]).removeprefix("listen")
        for item in listener.document["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and str(op.get("operationId", "")).startswith("listen")
    }
    cases = [
        "",
        "category=terminationBySeller&relatedParty.id=500011",
        "productOrder.relatedPartyRefOrValue=500011&productOrder.category=terminationBySeller",
        "event.productOrder.state=completed",
        "eventType=" + ",".join(sorted(types)),
        *(f"{a}=x" for a in attributes),
        "eventType=NoSuchEvent",
        "colour=red",
        "state=",
        "state",
        "relatedPartyRefOrValue.name=x",
        "state=x&&id=1",
        "\n",
    ]
    for query in cases:
        accepted = pattern.search(query) is not None
        assert accepted == (not query or not query_violations(query, types, attributes)), query
    assert not pattern.search("\n")  # no end-of-line trick: the pattern ends at the end of the text


def test_a_pinned_schema_must_name_a_place_in_the_contract() -> None:
    spec = load_spec(specs_root() / "tmf622" / "product-ordering.yaml")
    pins = _pins(spec, OWN_LISTENER)
    pinned = _pinned(spec.document, pins)
    [pointer] = pins
    assert jsonpointer.resolve_pointer(pinned, pointer) == {"type": "string", "enum": [OWN_LISTENER]}
    unchanged = jsonpointer.resolve_pointer(spec.document, pointer)  # the contract itself is unchanged
    assert unchanged["pattern"] == "^[Hh][Tt][Tt][Pp][Ss]?://"
    with pytest.raises(ValueError, match="not in the contract"):
        _pinned(spec.document, {"/paths/~1nothing/post": {}})
