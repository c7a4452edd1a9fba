"""The TMF622 order service's core: its state (store, clock, profiles, hub, inventory), the profile a request works in,
the seller's progress on the clock (plans run step by step), and the steps inside a transaction that every use case
shares (state changes, items, contacts, dates, events to the outbox)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pruefstand.contracts import Spec, Violation
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.flows.tmf622 import documents, rules
from pruefstand.mock_server.flows.tmf622.documents import (
    AGREEMENT_KIND,
    INDEXES,
    ORDER_KIND,
    PLAIN_PROFILE,
    PLAN_KIND,
    PRODUCT_KIND,
    PROFILE_KIND,
    TASK_KIND,
)
from pruefstand.mock_server.flows.tmf622.events import (
    OrderEvent,
    ProductOrderAttributeValueChangeEvent,
    ProductOrderCreateEvent,
    ProductOrderStateChangeEvent,
)
from pruefstand.mock_server.flows.tmf622.hub import Hub
from pruefstand.mock_server.flows.tmf622.inventory import Inventory
from pruefstand.mock_server.flows.tmf622.plan_store import AUTO, DUE_PAGE, drop_plan, due_page
from pruefstand.mock_server.flows.tmf622.profile import PROFILE_HEADER, Profile, Step, after_step, next_step
from pruefstand.mock_server.flows.tmf622.records import PlanRecord, read_plan
from pruefstand.mock_server.flows.tmf622.tmf630 import matches, page, parse_filters, sorted_by, split_filters
from pruefstand.mock_server.kernel.errors import BadRequest, Conflict, NotFound
from pruefstand.mock_server.kernel.id_source import IdSource
from pruefstand.mock_server.store import FlowStore, SandboxUnit, SandboxView


class OrderCore:
    def __init__(
        self,
        store: FlowStore,
        clock: Clock,
        profiles: Mapping[str, Profile] | Profile,
        listener_spec: Spec,
        *,
        step_delay: float = 5.0,
        timezone: str = "Europe/Berlin",
        buyer_progress: str = "auto",
        append_listener_path: bool = True,
        targets: TargetPolicy | None = None,
        ids: IdSource | None = None,
        default_profile: str = "auto",
    ) -> None:
        self._ids = ids or IdSource()
        self._store = store
        self._clock = clock
        self._profiles = {profiles.name: profiles} if isinstance(profiles, Profile) else dict(profiles)
        self._default_profile = default_profile
        self._delay = step_delay
        self._zone = ZoneInfo(timezone)
        self._buyer_progress = buyer_progress
        self.inventory = Inventory(store)
        self.hub = Hub(store, listener_spec, self._ids, append_listener_path=append_listener_path, targets=targets)

    # which profile
    def profile_for(self, reader: SandboxView, requested: str | None = None) -> Profile:
        """The profile a request works in: the one it names (header), else the sandbox's choice (admin API), else
        the setting `tmf622_default_profile`; `auto` is FIT for a sandbox with FIT data (framework agreements),
        plain TMF622 v4 otherwise. A service built with one profile works in that one."""
        if len(self._profiles) == 1 and requested is None:
            return next(iter(self._profiles.values()))
        name = requested or self.chosen_profile(reader) or self._default_profile
        if name == "auto":
            name = "fit" if reader.count(AGREEMENT_KIND) else "tmf622"
        if name not in self._profiles:
            raise BadRequest(
                [Violation(f"header {PROFILE_HEADER}", f"unknown profile {name!r}; one of {', '.join(self._profiles)}")]
            )
        return self._profiles[name]

    def chosen_profile(self, reader: SandboxView) -> str | None:
        found = reader.get(PROFILE_KIND, "profile")
        return str(found["profile"]) if found else None

    def profile_state(self, sandbox: str) -> dict[str, str]:
        """The sandbox's choice (`auto` when none) and the profile it works in."""
        chosen = self.chosen_profile(self._store.view(sandbox)) or "auto"
        return {"profile": chosen, "effective": self.profile_for(self._store.view(sandbox)).name}

    def choose_profile(self, sandbox: str, name: str) -> dict[str, str]:
        """The sandbox's profile from now on (`auto`: by its data, as without a choice)."""
        if name != "auto" and name not in self._profiles:
            raise BadRequest(
                [Violation("$.profile", f"unknown profile {name!r}; one of auto, {', '.join(self._profiles)}")]
            )
        with self._store.unit_of_work(sandbox) as uow:
            uow.put(PROFILE_KIND, "profile", {"profile": name})
            effective = self.profile_for(uow).name
        return {"profile": name, "effective": effective}

    def _stamp(self, moment: datetime) -> str:
        """Order and event times in the profile's time zone with its offset, whole seconds, as the FIT examples
        write them (2022-05-11T10:31:00+02:00)."""
        return moment.astimezone(self._zone).replace(microsecond=0).isoformat()

    # progress on the clock
    def progress_due(self, sandbox: str) -> int:
        """Run every planned step whose time has come on the sandbox clock, each at its due time; returns how many."""
        return sum(self.due_steps(sandbox))

    def due_steps(self, sandbox: str, *, anywhere: bool = False) -> Iterator[int]:
        """The same, one order's due steps (one transaction) per iteration, yielding how many ran: the background task
        lets requests in between, so a burst of steps falling due at once never holds the event loop (the tail of
        order creation under load). Batches of several orders a transaction made fewer commits for the same
        throughput and a longer tail, and were dropped (bench/tmf622_create_tail.py, two workers, p99 at 10
        connections: 12.6-14.5 ms at 1, 15-16 at 2, 17-18 at 4, 21-26 at 8; the other worker waits on the writers'
        lock meanwhile). The due plans are read a page at a time (a burst of thousands is never held at once). With
        `anywhere` (the background task) the walk over a page starts at a random place: each worker where it starts
        (a plan another worker ran first is left alone, at the cost of a read)."""
        now = self._clock.now(sandbox).timestamp()
        staying: set[str] = set()  # plans read this round that stay due (manual or paused): the next page follows them
        seen: set[str] = set()  # run this round: never twice (one that did not move stays in the pages it is read in)
        while page := due_page(self._store.view(sandbox), now, limit=DUE_PAGE, offset=len(staying)):
            before = len(staying)
            staying |= {str(plan["orderId"]) for plan in page if plan.get("mode") != AUTO}
            fresh = [str(plan["orderId"]) for plan in page if plan.get("mode") == AUTO]
            fresh = [order_id for order_id in fresh if order_id not in staying and order_id not in seen]
            if not fresh and len(staying) == before:  # nothing new in the page: the rest waits for the next round
                return
            seen |= set(fresh)
            start = random.randrange(len(fresh)) if anywhere and fresh else 0
            for order_id in fresh[start:] + fresh[:start]:
                with self._store.unit_of_work(sandbox) as uow:  # a broken plan raises: this round ends there
                    ran, stays = self._run_due(uow, order_id, now)
                if stays:
                    staying.add(order_id)
                yield ran

    def _run_due(self, uow: SandboxUnit, order_id: str, now: float) -> tuple[int, bool]:
        """Every step of the order's automatic plan that is due by `now`: how many ran, and whether the plan stays
        due (a step paused it, waiting for the buyer)."""
        ran = 0
        plan = self._step(uow, order_id, due_only=now)
        while plan is not None:
            ran += 1
            if not plan.get("steps") or float(plan["nextDue"]) > now:
                return ran, False
            if plan.get("mode") != "auto":
                return ran, True
            plan = self._step(uow, order_id, due_only=now)
        return ran, False

    def run_next(self, sandbox: str, order_id: str, state_change_date: str | None = None) -> dict[str, Any]:
        """Run the next planned step of an order now (manual mode, or ahead of the clock); a state step may be dated
        earlier than its event with `state_change_date`."""
        order = self._stored_order(self._store.view(sandbox), order_id)
        if not self._run_step(sandbox, order_id, due_only=None, changed_at=state_change_date):
            raise Conflict(
                f"productOrder {order_id} in state {order['state']!r} has no planned step left (its plan ended, or a "
                "manual change ended it); move it with .../state instead"
            )
        return self._stored_order(self._store.view(sandbox), order_id)

    def _run_step(
        self, sandbox: str, order_id: str, *, due_only: float | None, changed_at: str | None = None
    ) -> PlanRecord | None:
        with self._store.unit_of_work(sandbox) as uow:
            return self._step(uow, order_id, due_only=due_only, changed_at=changed_at)

    # inside a transaction
    def _step(
        self, uow: SandboxUnit, order_id: str, *, due_only: float | None, changed_at: str | None = None
    ) -> PlanRecord | None:
        """Run the plan's first step with the plan's update; None when there was nothing to run (another worker ran
        it, the plan ended, the step no longer fits the order's state)."""
        plan = read_plan(uow, order_id)
        step = next_step(plan) if plan else None
        if plan is None or step is None or (due_only is not None and float(plan["nextDue"]) > due_only):
            return None
        p = self._profiles.get(str(plan.get("profile"))) or self.profile_for(uow)
        order = uow.get(ORDER_KIND, order_id)
        already = order is not None and step.state == order["state"]  # e.g. resumed there by the buyer's answer
        if order is None or (step.state and not already and step.state not in p.orders.allowed(order["state"])):
            drop_plan(uow, order_id)  # someone moved the order elsewhere: the plan is over
            return None
        ran_at = float(plan["nextDue"]) if due_only is not None else self._clock.now(uow.sandbox).timestamp()
        if changed_at is not None and step.state is None:
            raise BadRequest(
                [Violation("$.stateChangeDate", f"the next step ({step.name}) changes no state: give no date")]
            )
        if not already:
            if changed_at is None and step.changed_before:
                last = documents.instant_seconds(str(order.get("stateChangeDate", ""))) or 0.0
                changed_at = self._stamp(datetime.fromtimestamp(max(last, ran_at - step.changed_before), UTC))
            at = self._stamp(datetime.fromtimestamp(ran_at, UTC))
            self._apply(uow, p, order, step, plan, at, changed_at)
        rest = after_step(plan, ran_at)
        if rest["steps"]:
            uow.put(PLAN_KIND, order_id, rest)
        else:
            drop_plan(uow, order_id)
        return rest

    def _apply(
        self,
        uow: SandboxUnit,
        p: Profile,
        order: dict[str, Any],
        step: Step,
        plan: Mapping[str, Any],
        at: str,
        changed_at: str | None = None,
    ) -> None:
        if step.state is not None:
            self._to_state(uow, p, order, step.state, step.reason, at, changed_at)
        elif step.attributes == "supplierContact":
            expected = str(plan.get("expectedCompletionDate") or order.get("requestedCompletionDate") or at)
            self._supplier_contact(uow, p, order, expected, None, at)
        else:
            self._termination_date(uow, p, order, str(plan.get("terminationDate") or at), at)

    def _to_state(
        self,
        uow: SandboxUnit,
        p: Profile,
        order: Mapping[str, Any],
        target: str,
        code: str | None,
        at: str,
        changed_at: str | None = None,
    ) -> dict[str, Any]:
        changed = rules.state_change(p, order, target, code, at, changed_at)
        if target == p.completed_state:
            self._complete_items(uow, changed, at)
        uow.put(ORDER_KIND, str(order["id"]), changed)
        self._publish(uow, p, [ProductOrderStateChangeEvent(changed, at)])
        return changed

    def _complete_items(self, uow: SandboxUnit, order: dict[str, Any], _at: str) -> None:
        """A completed order changes the inventory: an added product becomes the buyer's (active); a deleted one
        is pendingTerminate until its terminationDate is set."""
        buyer = documents.buyer_of(order)
        for item in order.get("productOrderItem", []):
            if item.get("action") not in ("add", "delete"):
                continue
            ref = item.setdefault("product", {})
            if item.get("action") == "add" and isinstance(buyer, str):
                ref.setdefault("id", self._ids.uuid())
                uow.put(PRODUCT_KIND, str(ref["id"]), {**ref, "owner": buyer, "status": "active"})
                ref["status"] = "active"
            elif item.get("action") == "delete" and "id" in ref:
                stored = uow.get(PRODUCT_KIND, str(ref["id"]))
                if stored is not None and stored.get("status") != "terminated":
                    uow.put(PRODUCT_KIND, str(ref["id"]), {**stored, "status": "pendingTerminate"})

    def _supplier_contact(
        self,
        uow: SandboxUnit,
        p: Profile,
        order: dict[str, Any],
        expected: str,
        contact: Mapping[str, Any] | None,
        at: str,
    ) -> dict[str, Any]:
        party = dict(contact or p.supplier_contact)
        party.setdefault("role", "orderManagementSupplierContact")
        order["relatedParty"] = [*order.get("relatedParty", []), party]
        order["expectedCompletionTimePeriod"] = {"startDateTime": expected}
        order["expectedCompletionDate"] = expected  # the TMF622 v4 field, for plain v4 clients
        uow.put(ORDER_KIND, str(order["id"]), order)
        paths = [
            {"path": "/relatedParty/", "typeOfChange": "add"},
            {"path": "/expectedCompletionTimePeriod/", "typeOfChange": "add"},
        ]
        self._publish(uow, p, [ProductOrderAttributeValueChangeEvent(order, at, paths)])
        return order

    def _termination_date(
        self, uow: SandboxUnit, p: Profile, order: dict[str, Any], termination_date: str, at: str
    ) -> dict[str, Any]:
        deleted = [i for i in order.get("productOrderItem", []) if i.get("action") == "delete" and i.get("product")]
        if not deleted:
            raise Conflict(f"productOrder {order['id']} terminates no product (no item with action delete)")
        for item in deleted:
            ref = item["product"]
            ref["terminationDate"] = termination_date
            stored = uow.get(PRODUCT_KIND, str(ref["id"])) or {"id": ref["id"]}
            terminated = {**stored, "status": "terminated", "terminationDate": termination_date}
            uow.put(PRODUCT_KIND, str(ref["id"]), terminated)
        uow.put(ORDER_KIND, str(order["id"]), order)
        paths = [{"path": "/terminationDate/", "typeOfChange": "add"}]
        self._publish(uow, p, [ProductOrderAttributeValueChangeEvent(order, at, paths)])
        return order

    def _announce(self, uow: SandboxUnit, order: Mapping[str, Any], now: str, p: Profile) -> None:
        """A new order: stored, then CreateEvent and the StateChangeEvent of its first state (as the FIT seed shows)."""
        uow.insert(ORDER_KIND, str(order["id"]), order)
        self._publish(uow, p, [ProductOrderCreateEvent(order, now), ProductOrderStateChangeEvent(order, now)])

    def _publish(self, uow: SandboxUnit, p: Profile, events: Sequence[OrderEvent]) -> None:
        self.hub.publish(uow, events, field_path=p.field_path, plain=p.name == PLAIN_PROFILE)

    def plain(self, sandbox: str, requested: str | None = None) -> bool:
        """Whether a request works in the plain TMF622 v4 profile (its answers show v4's own shapes)."""
        return self.profile_for(self._store.view(sandbox), requested).name == PLAIN_PROFILE

    @staticmethod
    def _stored_order(reader: SandboxView, order_id: str) -> dict[str, Any]:
        """The order, read inside a transaction (a unit of work) or outside it (the store)."""
        order = reader.get(ORDER_KIND, order_id)
        if order is None:
            raise NotFound(f"no productOrder with id {order_id!r}")
        return order


_INDEXED = {kind: {i.field: i for i in INDEXES if i.kind == kind} for kind in (ORDER_KIND, TASK_KIND)}


def listed(
    reader: SandboxView,
    kind: str,
    query: Mapping[str, str],
    offset: int | None,
    limit: int | None,
    sort: str | None,
) -> tuple[list[dict[str, Any]], int]:
    """Filters on indexed fields and the page run in the database; other filters (and a sort) are applied here on
    what the indexed ones selected."""
    where, rest = split_filters(parse_filters(query), _INDEXED[kind])
    if not rest and not sort:
        total, start = reader.count(kind, where), offset or 0
        if limit is None or start <= total // 2:
            return reader.find(kind, where, limit=limit, offset=start), total
        # past the middle, the page is read from the end: the same records, fewer passed over (deep offsets)
        shown = max(0, min(limit, total - start))
        return reader.find(kind, where, limit=shown, offset=total - start - shown, descending=True)[::-1], total
    found = [item for item in reader.find(kind, where) if matches(item, rest)]
    return page([dict(i) for i in sorted_by(found, sort)], offset, limit)


@contextlib.contextmanager
def patch_refusals(what: str) -> Iterator[None]:
    """A buyer's patch refused as TMF622 answers it: a seller-owned attribute or one TMF622 does not know is 400, a
    JSON Patch that does not fit the order as it is now 409 (RFC 5789 2.2)."""
    try:
        yield
    except PermissionError as exc:
        raise BadRequest(
            [Violation(str(exc), "is set by the seller and cannot be patched")], prefix="Not patchable"
        ) from exc
    except documents.PatchConflict as exc:
        raise Conflict(f"the JSON Patch does not apply to {what} as it is now: {exc}") from exc
    except ValueError as exc:
        raise BadRequest([Violation("$", str(exc))], prefix="Not patchable") from exc
