"""Where the seller's plans live: one record per order in its sandbox, and an index outside the sandboxes ("_" is no
valid sandbox name) so the background task knows which sandboxes have plans. Both change in the caller's
transaction, with the step they record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.flows.tmf622.documents import PLAN_KIND
from mock_server.store import Store, UnitOfWork

INDEX_SANDBOX, INDEX_KIND = "_tmf622", "tmf.plan.index"


def save_plan(uow: UnitOfWork, sandbox: str, plan: Mapping[str, Any]) -> None:
    if not plan["steps"]:
        return
    uow.put(sandbox, PLAN_KIND, str(plan["orderId"]), plan)
    uow.put(INDEX_SANDBOX, INDEX_KIND, f"{sandbox}/{plan['orderId']}", {"sandbox": sandbox})


def drop_plan(uow: UnitOfWork, sandbox: str, order_id: str) -> None:
    """The order's plan is over (done, or the order went elsewhere)."""
    if uow.get(sandbox, PLAN_KIND, order_id) is not None:
        uow.put(sandbox, PLAN_KIND, order_id, {"orderId": order_id, "mode": "done", "steps": []})
    if uow.get(INDEX_SANDBOX, INDEX_KIND, f"{sandbox}/{order_id}") is not None:
        uow.put(INDEX_SANDBOX, INDEX_KIND, f"{sandbox}/{order_id}", {"sandbox": "", "done": True})


def set_plan_mode(uow: UnitOfWork, sandbox: str, order_id: str, mode: str, next_due: float | None = None) -> None:
    """Pause an automatic plan while the seller waits for the buyer, or let it run on again (from `next_due`)."""
    plan = uow.get(sandbox, PLAN_KIND, order_id)
    if plan is None or not plan.get("steps") or plan.get("mode") == "manual":
        return
    changed = {**plan, "mode": mode}
    if next_due is not None:
        changed["nextDue"] = next_due
    uow.put(sandbox, PLAN_KIND, order_id, changed)


def sandboxes_with_plans(store: Store) -> list[str]:
    return sorted({str(e["sandbox"]) for e in store.find(INDEX_SANDBOX, INDEX_KIND) if e.get("sandbox")})
