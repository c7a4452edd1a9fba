"""The order rules of a profile as pure functions: a state change, a cancellation, the abort of open orders when the
seller terminates a product, the buyer's answer to a request for information. Each returns the changed documents
and the typed events they emit; the service stores them and publishes the events in one unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pruefstand.contracts import Violation
from pruefstand.mock_server.flows.tmf622 import documents
from pruefstand.mock_server.flows.tmf622.documents import BASE
from pruefstand.mock_server.flows.tmf622.events import (
    CancelProductOrderCreateEvent,
    CancelProductOrderStateChangeEvent,
    OrderEvent,
    ProductOrderStateChangeEvent,
)
from pruefstand.mock_server.flows.tmf622.profile import Profile
from pruefstand.mock_server.flows.tmf622.states import Reason, StateMachine, transition
from pruefstand.mock_server.kernel.errors import BadRequest, Conflict
from pruefstand.mock_server.store.indexing import instant_key


def state_change(
    profile: Profile, order: Mapping[str, Any], target: str, code: str | None, at: str, changed_at: str | None = None
) -> dict[str, Any]:
    """The order moved to `target` along the profile's machine, with the reason the code names; a completed order
    gets its completionDate. `changed_at` dates the change (stateChangeDate) before its event at `at`, as the FIT
    seed's accepted step does; it may not lie after `at` nor before the order's last change.
    (Its event: `ProductOrderStateChangeEvent(changed, at)`, once the caller is done.)"""
    found = profile.reason(code)
    dated = at if changed_at is None else _checked_change_date(order, changed_at, at)
    changed = transition(profile.orders, order, target, Reason(*found) if found else None, dated)
    if target == profile.completed_state:
        changed["completionDate"] = dated
    return changed


def _checked_change_date(order: Mapping[str, Any], changed_at: str, at: str) -> str:
    field = "$.stateChangeDate"
    moment = instant_key(changed_at) if len(changed_at.strip()) > 10 else None
    if moment is None:
        raise BadRequest([Violation(field, f"{changed_at!r} is not a date-time with an offset")])
    if moment > str(instant_key(at)):
        raise BadRequest([Violation(field, f"{changed_at} lies after now ({at}): a change is not dated ahead")])
    last = instant_key(str(order.get("stateChangeDate", "")))
    if last is not None and moment < last:
        last_change = order["stateChangeDate"]
        raise BadRequest([Violation(field, f"{changed_at} lies before the order's last change ({last_change})")])
    return changed_at


@dataclass(frozen=True)
class Cancellation:
    task: dict[str, Any]
    order: dict[str, Any] | None  # the cancelled order; None when the cancellation was refused
    events: list[OrderEvent]


def cancellation(
    profile: Profile, order: Mapping[str, Any], task_id: str, reason: str | None, now: str
) -> Cancellation:
    """CancelProductOrder: refused (task terminatedWithError with the profile's refusal code) in a state the profile
    does not let go, or past its point of no return; otherwise the task runs and the order walks the profile's
    cancellation path. Task and order changes are separate events, as TMF622 has them."""
    rules, tasks = profile.cancellation, profile.tasks
    task: dict[str, Any] = {
        "@type": "CancelProductOrder",
        "id": task_id,
        "href": f"{BASE}/cancelProductOrder/{task_id}",
        "productOrder": {"id": order["id"], "href": order["href"], "@referredType": "ProductOrder"},
        "state": tasks.initial,
        "stateChangeDate": now,
        **({"cancellationReason": reason} if reason else {}),
    }
    events: list[OrderEvent] = [CancelProductOrderCreateEvent(task, now, order=order)]
    if str(order["state"]) in profile.not_cancellable or _past(order, rules.point_of_no_return):
        found = profile.reason(rules.refusal_code)
        task = _task_step(tasks, task, "terminatedWithError", Reason(*found) if found else None, now)
        events.append(CancelProductOrderStateChangeEvent(task, now, order=order))
        return Cancellation(task, None, events)
    task = _task_step(tasks, task, "inProgress", None, now)
    events.append(CancelProductOrderStateChangeEvent(task, now, order=order))
    changed = dict(order)
    for state in rules.path:
        changed = transition(profile.orders, changed, state, None, now)
        if state == rules.path[-1]:
            changed["cancellationDate"] = now
            if reason:
                changed["cancellationReason"] = reason
        events.append(ProductOrderStateChangeEvent(changed, now))
    task = _task_step(tasks, task, "done", None, now)
    task["effectiveCancellationDate"] = now
    events.append(CancelProductOrderStateChangeEvent(task, now, order=changed))
    return Cancellation(task, changed, events)


def aborted_for_termination(
    profile: Profile, open_orders: Sequence[Mapping[str, Any]], product_id: str, reason: Reason, now: str
) -> list[dict[str, Any]]:
    """The buyer's open orders on a product the seller terminates, each moved to the first abort state its state
    allows (the profile's `abort_states`); an order that allows none stops the termination (409)."""
    aborted = []
    for other in open_orders:
        allowed = profile.orders.allowed(str(other["state"]))
        target = next((s for s in profile.abort_states if s in allowed), None)
        if target is None:
            raise Conflict(
                f"precondition: product {product_id!r} has an open order {other['id']} in state "
                f"{other['state']!r}, which can be neither {' nor '.join(profile.abort_states)}; "
                f"allowed: {', '.join(allowed)}"
            )
        aborted.append(transition(profile.orders, other, target, reason, now))
    return aborted


def answered(
    request: Mapping[str, Any], order: Mapping[str, Any], patch: Iterable[str], waiting_state: str
) -> tuple[dict[str, Any] | None, bool]:
    """The seller's open request for information after the buyer's patch: (the request updated, or None when there
    is none open; whether everything asked for is now given, so the order goes on)."""
    if request.get("done") or order["state"] != waiting_state:
        return None, False
    given = sorted({*request.get("answered", []), *patch})
    done = documents.answered(dict.fromkeys(given), request["fields"])
    return {**request, "answered": given, "done": done}, done


def _task_step(
    tasks: StateMachine, task: Mapping[str, Any], target: str, reason: Reason | None, now: str
) -> dict[str, Any]:
    return transition(tasks, task, target, reason, now)


def _past(order: Mapping[str, Any], milestone: str) -> bool:
    return any(m.get("name") == milestone for m in order.get("productOrderMilestone", []))
