"""TMF630 conventions: fields selection, attribute filters, paging."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pruefstand.contracts import load_spec, specs_root
from pruefstand.mock_server.flows.tmf622.tmf630 import (
    Filter,
    matches,
    page,
    parse_filters,
    schema_attributes,
    select_fields,
)

ORDER = {
    "id": "42",
    "href": "/tmf-api/productOrderingManagement/v4/productOrder/42",
    "state": "acknowledged",
    "category": "terminationBySeller",
    "orderDate": "2022-05-11T08:30:00Z",
    "priority": "1",
    "relatedParty": [{"id": "500011", "role": "customer"}, {"id": "LE-1", "role": "seller"}],
    "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "922ebf01"}}],
}


def test_fields_keeps_id_and_href_and_the_named_attributes() -> None:
    assert select_fields(ORDER, "state, category") == {
        "id": "42",
        "href": ORDER["href"],
        "state": "acknowledged",
        "category": "terminationBySeller",
    }
    assert select_fields(ORDER, None) == ORDER
    assert select_fields(ORDER, "nothing") == {"id": "42", "href": ORDER["href"]}


def test_filters_parse_paths_and_operators_and_skip_reserved_parameters() -> None:
    assert parse_filters(
        {"relatedParty.id": "500011", "orderDate.gte": "2022-05-01T00:00:00Z", "fields": "id", "offset": "0"}
    ) == [
        Filter(("relatedParty", "id"), "eq", "500011"),
        Filter(("orderDate",), "gte", "2022-05-01T00:00:00Z"),
    ]


def test_filters_match_through_lists_and_are_anded() -> None:
    def check(query: dict[str, str]) -> bool:
        return matches(ORDER, parse_filters(query))

    assert check({"relatedParty.id": "500011"})
    assert check({"productOrderItem.product.id": "922ebf01", "category": "terminationBySeller"})
    assert not check({"relatedParty.id": "500011", "category": "new"})
    assert check({"orderDate.gt": "2022-05-11T10:29:59+02:00"})
    assert not check({"orderDate.lt": "2022-05-11T08:30:00Z"})
    assert check({"orderDate.lte": "2022-05-11T08:30:00Z"})
    assert not check({"orderDate.gt": "not a date"})
    assert check({"priority.lt": "2"})
    assert not check({"state": "accepted"})


@given(st.integers(0, 50), st.one_of(st.none(), st.integers(0, 20)), st.integers(0, 30))
def test_paging_returns_the_slice_and_the_total(offset: int, limit: int | None, size: int) -> None:
    items = list(range(size))
    chunk, total = page(items, offset, limit)
    assert total == size
    assert chunk == items[offset : None if limit is None else offset + limit]


def test_a_comma_in_a_filter_value_means_either_value() -> None:
    orders = [{"id": "1", "state": "acknowledged"}, {"id": "2", "state": "accepted"}, {"id": "3", "state": "closed"}]
    wanted = parse_filters({"state": "acknowledged,closed"})
    assert [o["id"] for o in orders if matches(o, wanted)] == ["1", "3"]


def test_the_sort_patterns_of_the_contract_name_exactly_the_attributes_of_their_resource() -> None:
    """`sort` in the contract lists what may be sorted on (so a fuzzer with positive-data acceptance only sends what
    the mock accepts); it must follow the resource schemas when they change."""
    spec = load_spec(specs_root() / "tmf622" / "product-ordering.yaml")
    for listing, retrieve in (
        ("listProductOrder", "retrieveProductOrder"),
        ("listCancelProductOrder", "retrieveCancelProductOrder"),
    ):
        [sort] = [p for p in spec.operation(listing)["parameters"] if p["name"] == "sort"]
        pattern = re.compile(sort["schema"]["pattern"])
        named = set(pattern.pattern.split("(?:", 2)[1].split(")")[0].split("|"))
        schema = spec.operation(retrieve)["responses"]["200"]["content"]["application/json"]["schema"]
        assert {n.replace("\\", "") for n in named} == schema_attributes(schema)
        assert all(pattern.match(ok) for ok in ("-state,id", " state", "state.sub.path"))
        assert not any(pattern.match(bad) for bad in ("colour", "state,", "-"))
