"""Where the seller's plans live: one record per order in its sandbox, indexed by mode, so the background task finds
the sandboxes with automatic plans in the database. A plan that is over is deleted. Both change in the caller's
transaction, with the step they record."""

from __future__ import annotations

from pruefstand.mock_server.flows.tmf622.records import PLAN_KIND, PlanRecord, read_plan, read_plans
from pruefstand.mock_server.store import FlowStore, Range, SandboxUnit, SandboxView, number_key

AUTO = "auto"


def save_plan(uow: SandboxUnit, plan: PlanRecord) -> None:
    if plan["steps"]:
        uow.put(PLAN_KIND, str(plan["orderId"]), plan)


def drop_plan(uow: SandboxUnit, order_id: str) -> None:
    """The order's plan is over (done, or the order went elsewhere)."""
    uow.delete(PLAN_KIND, order_id)


def set_plan_mode(uow: SandboxUnit, order_id: str, mode: str, next_due: float | None = None) -> None:
    """Pause an automatic plan while the seller waits for the buyer, or let it run on again (from `next_due`)."""
    plan = read_plan(uow, order_id)
    if plan is None or not plan.get("steps") or plan.get("mode") == "manual":
        return
    changed = plan.copy()
    changed["mode"] = mode
    if next_due is not None:
        changed["nextDue"] = next_due
    uow.put(PLAN_KIND, order_id, changed)


def automatic_plans(reader: SandboxView, due_by: float | None = None) -> list[PlanRecord]:
    """The automatic plans, or only those whose next step is due by `due_by` (sandbox clock, epoch seconds)."""
    if due_by is None:
        return read_plans(reader, {"mode": AUTO})
    plans: list[PlanRecord] = []
    while page := due_page(reader, due_by, limit=DUE_PAGE, offset=len(plans)):
        plans += page
    return [plan for plan in plans if plan.get("mode") == AUTO]


DUE_PAGE = 256  # due plans read at a time: a burst of thousands falling due is never held in memory at once


def due_page(reader: SandboxView, due_by: float, *, limit: int, offset: int = 0) -> list[PlanRecord]:
    """A page of the plans due by `due_by`, automatic or not, read through the nextDue index alone (so the cost
    follows what is due, not how many orders are under way; with `mode` beside it, the engine intersected every
    automatic plan's index row with the due ones: the cost of all plans again)."""
    return read_plans(reader, {"nextDue": Range(lte=number_key(due_by))}, limit=limit, offset=offset)


def sandboxes_with_plans(store: FlowStore) -> list[str]:
    return store.sandboxes_with(PLAN_KIND, "mode", AUTO)
