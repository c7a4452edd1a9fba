"""A page past the middle of a listing is read from its end (order_core.listed): every offset and limit, with and
without a filter, gives the same orders in the same order as reading the whole listing and cutting the page."""

from __future__ import annotations

import pytest

from pruefstand.contracts import load_spec, specs_root
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.flows.tmf622.documents import INDEXES, PLAN_KIND
from pruefstand.mock_server.flows.tmf622.profile import DEFAULT_PROFILE, load_profiles
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.store import SQLiteStore


@pytest.fixture(scope="module")
def orders() -> OrderService:
    store = SQLiteStore(":memory:")
    store.declare_indexes(INDEXES)
    store.declare_across([PLAN_KIND])
    service = OrderService(
        store, Clock(store), load_profiles(DEFAULT_PROFILE), load_spec(specs_root() / "tmf622" / "listener.yaml")
    )
    for n in range(23):
        item = {"id": "1", "action": "add", "productOffering": {"id": "FTTH-250"}}
        body = {"productOrderItem": [item], "externalId": f"PO-{n}", "category": "dsl" if n % 3 else "ftth"}
        service.create_order("s", body, v4_shapes=True)
    return service


@pytest.mark.parametrize("query", [{}, {"category": "dsl"}])  # an indexed filter: the page read in the database
def test_every_page_is_the_cut_of_the_whole_listing(orders: OrderService, query: dict[str, str]) -> None:
    whole, total = orders.orders("s", query)
    assert total == len(whole) == (23 if not query else 15)
    for limit in (0, 1, 4, 10, 30):
        for offset in range(total + 3):
            page, counted = orders.orders("s", query, offset, limit)
            assert counted == total
            assert [o["externalId"] for o in page] == [o["externalId"] for o in whole[offset : offset + limit]], (
                offset,
                limit,
            )
