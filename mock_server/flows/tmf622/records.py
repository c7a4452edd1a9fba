"""The TMF622 flow's own records, typed: the seller's plan per order and the hub's subscriptions. Orders and tasks are
TMF622 resources whose shape the contract states (ProductOrder, CancelProductOrder); they stay schema-checked
documents, read through `documents.py`."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict, cast

from pruefstand.mock_server.store import SandboxView

PLAN_KIND, SUBSCRIPTION_KIND = "tmf.plan", "tmf.subscription"


class PlanRecord(TypedDict):
    """The seller's remaining steps for one order, run on the sandbox clock (`auto`) or one per admin call."""

    orderId: str
    mode: str  # auto, manual, or paused while the seller waits for the buyer
    delays: NotRequired[list[float]]  # one per step, the last one repeats
    delay: NotRequired[float]  # plans stored before per-step delays
    nextDue: float
    steps: list[dict[str, Any]]
    expectedCompletionDate: str | None
    terminationDate: str | None
    profile: NotRequired[str]


class SubscriptionRecord(TypedDict):
    """A listener registered at the hub, with the API version it registered through (its events' shape)."""

    id: str
    callback: str
    query: NotRequired[str | None]
    version: NotRequired[str]


def read_plan(view: SandboxView, order_id: str) -> PlanRecord | None:
    return cast(PlanRecord | None, view.get(PLAN_KIND, order_id))


def read_plans(
    view: SandboxView, where: dict[str, Any], *, limit: int | None = None, offset: int = 0
) -> list[PlanRecord]:
    return cast(list[PlanRecord], view.find(PLAN_KIND, where, limit=limit, offset=offset))


def read_subscriptions(view: SandboxView) -> list[SubscriptionRecord]:
    return cast(list[SubscriptionRecord], view.find(SUBSCRIPTION_KIND))
