"""Where the seller's plans live: one record per order in its sandbox, indexed by mode, so the background task finds
the sandboxes with automatic plans in the database. A plan that is over is deleted. Both change in the caller's
transaction, with the step they record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pruefstand.mock_server.flows.tmf622.documents import PLAN_KIND
from pruefstand.mock_server.store import Reader, Store, UnitOfWork

AUTO = "auto"


def save_plan(uow: UnitOfWork, sandbox: str, plan: Mapping[str, Any]) -> None:
    if plan["steps"]:
        uow.put(sandbox, PLAN_KIND, str(plan["orderId"]), plan)


def drop_plan(uow: UnitOfWork, sandbox: str, order_id: str) -> None:
    """The order's plan is over (done, or the order went elsewhere)."""
    uow.delete(sandbox, PLAN_KIND, order_id)


def set_plan_mode(uow: UnitOfWork, sandbox: str, order_id: str, mode: str, next_due: float | None = None) -> None:
    """Pause an automatic plan while the seller waits for the buyer, or let it run on again (from `next_due`)."""
    plan = uow.get(sandbox, PLAN_KIND, order_id)
    if plan is None or not plan.get("steps") or plan.get("mode") == "manual":
        return
    changed = {**plan, "mode": mode}
    if next_due is not None:
        changed["nextDue"] = next_due
    uow.put(sandbox, PLAN_KIND, order_id, changed)


def automatic_plans(reader: Reader, sandbox: str) -> list[dict[str, Any]]:
    return reader.find(sandbox, PLAN_KIND, {"mode": AUTO})


def sandboxes_with_plans(store: Store) -> list[str]:
    return store.sandboxes_with(PLAN_KIND, "mode", AUTO)
