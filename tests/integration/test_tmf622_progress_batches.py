"""The seller's automatic steps run one order to a transaction (order_core.due_steps): each due step of a burst runs
once, a plan that breaks fails alone (the orders before it are committed; the next round runs the rest), a plan that
does not move ends the round instead of running for ever, and the due plans are read a page at a time past the paused
ones."""

from __future__ import annotations

from typing import Any

import pytest

from pruefstand.contracts import load_spec, specs_root
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.flows.tmf622 import order_core
from pruefstand.mock_server.flows.tmf622.documents import INDEXES, PLAN_KIND
from pruefstand.mock_server.flows.tmf622.order_core import OrderCore
from pruefstand.mock_server.flows.tmf622.plan_store import automatic_plans, set_plan_mode
from pruefstand.mock_server.flows.tmf622.profile import DEFAULT_PROFILE, load_profiles
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.store import SQLiteStore

PLAIN = {"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "FTTH-250"}}]}


def created(count: int) -> tuple[OrderService, SQLiteStore, Clock, list[str]]:
    """`count` plain orders with automatic plans, their first step due (no background task here)."""
    store = SQLiteStore(":memory:")
    store.declare_indexes(INDEXES)
    store.declare_across([PLAN_KIND])
    clock = Clock(store)
    orders = OrderService(
        store,
        clock,
        load_profiles(DEFAULT_PROFILE),
        load_spec(specs_root() / "tmf622" / "listener.yaml"),
        step_delay=30,
    )
    ids = [orders.create_order("s", PLAIN, v4_shapes=True)["id"] for _ in range(count)]
    clock.advance("s", 30)
    return orders, store, clock, ids


def states(orders: OrderService, ids: list[str]) -> list[str]:
    return [orders.order("s", order_id)["state"] for order_id in ids]


def due(store: SQLiteStore, clock: Clock) -> list[str]:
    return [str(p["orderId"]) for p in automatic_plans(store.view("s"), due_by=clock.now("s").timestamp())]


def test_each_due_order_is_one_transaction_and_runs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    orders, store, clock, ids = created(20)
    assert set(states(orders, ids)) == {"acknowledged"}
    opened: list[str] = []
    unit_of_work = SQLiteStore.unit_of_work

    def counting(self: SQLiteStore, sandbox: str) -> Any:
        opened.append(sandbox)
        return unit_of_work(self, sandbox)

    monkeypatch.setattr(SQLiteStore, "unit_of_work", counting)
    assert list(orders.due_steps("s", anywhere=True)) == [1] * 20  # each plan's first step
    assert len(opened) == 20
    assert set(states(orders, ids)) == {"inProgress"}
    assert due(store, clock) == []
    assert list(orders.due_steps("s", anywhere=True)) == []  # nothing runs twice
    assert set(states(orders, ids)) == {"inProgress"}


def test_a_plan_that_does_not_move_ends_the_round(monkeypatch: pytest.MonkeyPatch) -> None:
    orders, store, clock, _ids = created(5)
    stuck = due(store, clock)[2]
    step = OrderCore._step

    def not_moving(self: OrderCore, uow: Any, order_id: str, **kwargs: Any) -> Any:
        return None if order_id == stuck else step(self, uow, order_id, **kwargs)

    monkeypatch.setattr(OrderCore, "_step", not_moving)
    assert orders.progress_due("s") == 4  # the others ran; the stuck one is left for the next round, not looped on
    assert orders.order("s", stuck)["state"] == "acknowledged"


def test_a_broken_plan_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    orders, store, clock, ids = created(6)
    in_order = due(store, clock)
    broken = in_order[3]
    step = OrderCore._step

    def breaking(self: OrderCore, uow: Any, order_id: str, **kwargs: Any) -> Any:
        if order_id == broken:
            raise RuntimeError("a broken plan")
        return step(self, uow, order_id, **kwargs)

    monkeypatch.setattr(OrderCore, "_step", breaking)
    with pytest.raises(RuntimeError, match="a broken plan"):
        list(orders.due_steps("s"))
    moved = [order_id for order_id in in_order if orders.order("s", order_id)["state"] == "inProgress"]
    assert moved == in_order[:3]  # the three before it committed; the broken one and those after it wait
    monkeypatch.setattr(OrderCore, "_step", step)
    assert orders.progress_due("s") == 3  # the next round runs the rest
    assert set(states(orders, ids)) == {"inProgress"}


def test_due_plans_are_read_a_page_at_a_time_past_the_paused_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of three due plans; three of ten plans paused (due, but waiting for the buyer) among them: one round
    runs every automatic plan, leaves the paused ones as they are and ends."""
    monkeypatch.setattr(order_core, "DUE_PAGE", 3)
    orders, store, _clock, ids = created(10)
    paused = [ids[0], ids[4], ids[5]]
    with store.unit_of_work("s") as uow:
        for order_id in paused:
            set_plan_mode(uow, order_id, "waiting")
    assert orders.progress_due("s") == 7
    assert [orders.order("s", order_id)["state"] for order_id in paused] == ["acknowledged"] * 3
    assert {orders.order("s", order_id)["state"] for order_id in ids if order_id not in paused} == {"inProgress"}
