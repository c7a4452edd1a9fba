"""TMF622 use cases against the store: orders with preconditions, state changes, the seller's progress (on the
sandbox clock or step by step), merge patches, cancellations, hub subscriptions, and the events they emit, written
to the outbox in the same transaction as the change (validated against the listener contract first)."""

from __future__ import annotations

import contextlib
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
    INFO_REQUEST_KIND,
    ORDER_KIND,
    PLAN_KIND,
    PRODUCT_KIND,
    PROFILE_KIND,
    TASK_KIND,
)
from pruefstand.mock_server.flows.tmf622.events import (
    OrderEvent,
    ProductOrderAttributeValueChangeEvent,
    ProductOrderCreateEvent,
    ProductOrderDeleteEvent,
    ProductOrderInformationRequiredEvent,
    ProductOrderMilestoneEvent,
    ProductOrderStateChangeEvent,
)
from pruefstand.mock_server.flows.tmf622.hub import Hub
from pruefstand.mock_server.flows.tmf622.inventory import Inventory
from pruefstand.mock_server.flows.tmf622.plan_store import automatic_plans, drop_plan, save_plan, set_plan_mode
from pruefstand.mock_server.flows.tmf622.profile import Profile, Step, after_step, new_plan, next_step
from pruefstand.mock_server.flows.tmf622.states import Reason
from pruefstand.mock_server.flows.tmf622.tmf630 import matches, page, parse_filters, sorted_by, split_filters
from pruefstand.mock_server.kernel.errors import BadRequest, Conflict, NotFound, Unprocessable
from pruefstand.mock_server.kernel.id_source import IdSource
from pruefstand.mock_server.kernel.sandbox import PROFILE_HEADER
from pruefstand.mock_server.store import Reader, Store, UnitOfWork


class OrderService:
    def __init__(
        self,
        store: Store,
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
    def profile_for(self, reader: Reader, sandbox: str, requested: str | None = None) -> Profile:
        """The profile a request works in: the one it names (header), else the sandbox's choice (admin API), else
        the setting `tmf622_default_profile`; `auto` is FIT for a sandbox with FIT data (framework agreements),
        plain TMF622 v4 otherwise. A service built with one profile works in that one."""
        if len(self._profiles) == 1 and requested is None:
            return next(iter(self._profiles.values()))
        name = requested or self.chosen_profile(reader, sandbox) or self._default_profile
        if name == "auto":
            name = "fit" if reader.count(sandbox, AGREEMENT_KIND) else "tmf622"
        if name not in self._profiles:
            raise BadRequest(
                [Violation(f"header {PROFILE_HEADER}", f"unknown profile {name!r}; one of {', '.join(self._profiles)}")]
            )
        return self._profiles[name]

    def chosen_profile(self, reader: Reader, sandbox: str) -> str | None:
        found = reader.get(sandbox, PROFILE_KIND, "profile")
        return str(found["profile"]) if found else None

    def profile_state(self, sandbox: str) -> dict[str, str]:
        """The sandbox's choice (`auto` when none) and the profile it works in."""
        chosen = self.chosen_profile(self._store, sandbox) or "auto"
        return {"profile": chosen, "effective": self.profile_for(self._store, sandbox).name}

    def choose_profile(self, sandbox: str, name: str) -> dict[str, str]:
        """The sandbox's profile from now on (`auto`: by its data, as without a choice)."""
        if name != "auto" and name not in self._profiles:
            raise BadRequest(
                [Violation("$.profile", f"unknown profile {name!r}; one of auto, {', '.join(self._profiles)}")]
            )
        with self._store.transaction() as uow:
            uow.put(sandbox, PROFILE_KIND, "profile", {"profile": name})
            effective = self.profile_for(uow, sandbox).name
        return {"profile": name, "effective": effective}

    def _stamp(self, moment: datetime) -> str:
        """Order and event times in the profile's time zone with its offset, whole seconds, as the FIT examples
        write them (2022-05-11T10:31:00+02:00)."""
        return moment.astimezone(self._zone).replace(microsecond=0).isoformat()

    # reads (no writes: what falls due on the clock is run by the background task or an admin clock advance)
    def order(self, sandbox: str, order_id: str) -> dict[str, Any]:
        return self._stored_order(self._store, sandbox, order_id)

    def orders(
        self,
        sandbox: str,
        query: Mapping[str, str],
        offset: int | None = None,
        limit: int | None = None,
        sort: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the orders matching TMF630 attribute filters (oldest first, or by `sort`), and how many match
        in all."""
        return _listed(self._store, sandbox, ORDER_KIND, query, offset, limit, sort)

    def task(self, sandbox: str, task_id: str) -> dict[str, Any]:
        found = self._store.get(sandbox, TASK_KIND, task_id)
        if found is None:
            raise NotFound(f"no cancelProductOrder with id {task_id!r}")
        return found

    def tasks(
        self,
        sandbox: str,
        query: Mapping[str, str],
        offset: int | None = None,
        limit: int | None = None,
        sort: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        return _listed(self._store, sandbox, TASK_KIND, query, offset, limit, sort)

    # the buyer's orders
    def create_order(
        self, sandbox: str, body: Mapping[str, Any], buyer: str | None = None, profile: str | None = None
    ) -> dict[str, Any]:
        """In the FIT profile: check the preconditions (an Auftraggeber with a framework agreement, products in its
        inventory, no open order on them). Store the order in the profile's initial state, emit CreateEvent and the
        first StateChangeEvent, and plan the seller's steps (auto on the clock, or manual)."""
        clock_now = self._clock.now(sandbox)
        now = self._stamp(clock_now)
        order_id = self._ids.record_key()
        with self._store.transaction() as uow:  # checked inside the write transaction: no two orders slip through
            p = self.profile_for(uow, sandbox, profile)
            named = buyer if buyer is not None else documents.buyer_of(body)
            if isinstance(named, Violation) and p.buyer_required:
                raise Unprocessable(str(named))
            found = None if isinstance(named, Violation) else named
            order = documents.new_order(order_id, body, found, now, p.orders.initial, p.initial_state_reason())
            if p.preconditions and found is not None:
                self.inventory.check_preconditions(uow, sandbox, found, body, p)
            self._announce(uow, sandbox, order, now, p)
            plan = new_plan(order, p.steps, mode=self._buyer_progress, delay=self._delay, start=clock_now.timestamp())
            save_plan(uow, sandbox, {**plan, "profile": p.name})
        return order

    def delete_order(self, sandbox: str, order_id: str, profile: str | None = None) -> None:
        """DELETE productOrder/{id}: gone with its plan and open requests (plain v4); the FIT profile keeps every
        order (409)."""
        with self._store.transaction() as uow:
            p = self.profile_for(uow, sandbox, profile)
            order = self._stored_order(uow, sandbox, order_id)
            if not p.deletable:
                raise Conflict(
                    f"productOrder {order_id}: the {p.name} profile keeps every order (state {order['state']!r}); "
                    "cancel it with POST /cancelProductOrder instead"
                )
            uow.delete(sandbox, ORDER_KIND, order_id)
            uow.delete(sandbox, INFO_REQUEST_KIND, order_id)
            drop_plan(uow, sandbox, order_id)
            self._publish(uow, sandbox, p, [ProductOrderDeleteEvent(order, self._stamp(self._clock.now(sandbox)))])

    def patch_order(
        self,
        sandbox: str,
        order_id: str,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        profile: str | None = None,
    ) -> dict[str, Any]:
        """A buyer's change: an RFC 7386 merge patch (an object) or an RFC 6902 JSON Patch (a list of operations).
        Refused on a final order and on attributes the seller owns or TMF622 does not know; emits one
        ProductOrderAttributeValueChangeEvent naming each changed attribute (none when nothing changed)."""
        self.progress_due(sandbox)
        now = self._stamp(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            p = self.profile_for(uow, sandbox, profile)
            order = self._stored_order(uow, sandbox, order_id)
            if p.orders.is_final(str(order["state"])):
                raise Conflict(f"productOrder {order_id} is in the final state {order['state']!r} and cannot change")
            with patch_refusals(f"productOrder {order_id}"):
                if isinstance(patch, Mapping):
                    patched, paths = documents.merge_patched(order, patch)
                    given: list[str] = list(patch)
                else:
                    patched, paths, given = documents.json_patched(order, patch)
            if not patched.get("productOrderItem"):
                raise BadRequest([Violation("$.productOrderItem", "an order keeps at least one item")])
            if p.buyer_required and isinstance(documents.buyer_of(patched), Violation):
                raise BadRequest(
                    [Violation("$.relatedParty", f"an order of the {p.name} profile keeps its Auftraggeber")]
                )
            if paths:
                uow.put(sandbox, ORDER_KIND, order_id, patched)
                self._publish(uow, sandbox, p, [ProductOrderAttributeValueChangeEvent(patched, now, paths)])
                patched = self._resume_if_answered(uow, sandbox, p, patched, given, now)
        return patched

    def _resume_if_answered(
        self, uow: UnitOfWork, sandbox: str, p: Profile, order: dict[str, Any], given: Sequence[str], now: str
    ) -> dict[str, Any]:
        """The buyer has given everything the seller asked for: the order goes on (pending → inProgress, 0000) and a
        paused automatic plan runs on."""
        request = uow.get(sandbox, INFO_REQUEST_KIND, str(order["id"]))
        updated, done = rules.answered(request, order, given, p.waiting_state) if request else (None, False)
        if updated is None:
            return order
        uow.put(sandbox, INFO_REQUEST_KIND, str(order["id"]), updated)
        if not done:
            return order
        resumed = self._to_state(uow, sandbox, p, order, p.resume_state, p.resume_reason, now)
        set_plan_mode(uow, sandbox, str(order["id"]), "auto", self._clock.now(sandbox).timestamp() + self._delay)
        return resumed

    def require_information(
        self, sandbox: str, order_id: str, fields: Sequence[str], reason_code: str | None = None
    ) -> dict[str, Any]:
        """The seller needs information from the buyer (FIT): the order goes to `pending` (StateChangeEvent) and
        ProductOrderInformationRequiredEvent names each field; an automatic plan waits. The buyer's merge patches
        that give every field let the order go on."""
        now = self._stamp(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            p = self.profile_for(uow, sandbox)
            order = self._stored_order(uow, sandbox, order_id)
            pending = self._to_state(uow, sandbox, p, order, p.waiting_state, reason_code, now)
            paths = documents.information_paths(pending, fields)
            self._publish(uow, sandbox, p, [ProductOrderInformationRequiredEvent(pending, now, paths)])
            uow.put(sandbox, INFO_REQUEST_KIND, order_id, {"fields": list(fields), "answered": [], "at": now})
            set_plan_mode(uow, sandbox, order_id, "paused")
        return pending

    # the seller's side
    def terminate_by_seller(
        self,
        sandbox: str,
        buyer: str,
        product_id: str,
        *,
        requested: str,
        external_id: str | None = None,
        category: str = "terminationBySeller",
        order_posted: str | None = None,
        mode: str = "manual",
        delay: float | Sequence[float] | None = None,
        expected_completion: str | None = None,
        termination_date: str | None = None,
    ) -> dict[str, Any]:
        """The seller (LE) terminates a product of the buyer: an open buyer order on it is aborted with a reason that
        points to the termination, then the termination order (item action delete) is created and announced, and the
        seller's steps are planned (auto on the sandbox clock, or manual)."""
        clock_now = self._clock.now(sandbox)
        now = self._stamp(clock_now)
        order_id = self._ids.record_key()
        with self._store.transaction() as uow:
            p = self.profile_for(uow, sandbox)
            agreement = uow.get(sandbox, AGREEMENT_KIND, buyer)
            if agreement is None:
                raise Conflict(f"precondition: Auftraggeber {buyer!r} has no framework agreement (Rahmenvertrag)")
            product = uow.get(sandbox, PRODUCT_KIND, product_id)
            if product is None or product.get("owner") != buyer:
                raise Conflict(
                    f"precondition: product {product_id!r} is not in the inventory of Auftraggeber {buyer!r}"
                )
            if product.get("status") == "terminated":
                raise Conflict(f"precondition: product {product_id!r} is already terminated")
            number = external_id or f"LE-{uow.next_counter(sandbox, 'tmf.sellerOrderNumber'):07d}"
            order = documents.termination_by_seller(
                order_id,
                product,
                buyer,
                now=now,
                initial=p.orders.initial,
                requested=requested,
                external_id=number,
                category=category,
                order_posted=order_posted,
                initial_reason=p.initial_state_reason(),
            )
            reason = Reason("KUE-LE", f"Abgebrochen: Kündigung durch den Leistungserbringer, Auftrag {order_id}")
            open_orders = self.inventory.open_orders_on(uow, sandbox, product_id, p)
            for aborted in rules.aborted_for_termination(p, open_orders, product_id, reason, now):
                uow.put(sandbox, ORDER_KIND, str(aborted["id"]), aborted)
                self._publish(uow, sandbox, p, [ProductOrderStateChangeEvent(aborted, now)])
                drop_plan(uow, sandbox, str(aborted["id"]))
            self._announce(uow, sandbox, order, now, p)
            plan = new_plan(
                order,
                p.steps,
                mode=mode,
                delay=self._delay if delay is None else delay,
                start=clock_now.timestamp(),
                expected_completion=expected_completion or requested,
                termination_date=termination_date,
            )
            save_plan(uow, sandbox, {**plan, "profile": p.name})
        return order

    def change_state(
        self,
        sandbox: str,
        order_id: str,
        target: str,
        reason_code: str | None = None,
        *,
        manual: bool = True,
        state_change_date: str | None = None,
    ) -> dict[str, Any]:
        """Move the order along the profile's state machine; emits exactly one ProductOrderStateChangeEvent (at the
        sandbox clock; `state_change_date` may date the change earlier). A manual change ends the automatic plan."""
        now = self._stamp(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            p = self.profile_for(uow, sandbox)
            order = self._stored_order(uow, sandbox, order_id)
            changed = self._to_state(uow, sandbox, p, order, target, reason_code, now, state_change_date)
            if manual:
                drop_plan(uow, sandbox, order_id)
        return changed

    def add_supplier_contact(
        self,
        sandbox: str,
        order_id: str,
        expected_completion: str,
        contact: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The seller's order-management contact and the binding completion date, as one AttributeValueChange."""
        now = self._stamp(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            p = self.profile_for(uow, sandbox)
            order = self._stored_order(uow, sandbox, order_id)
            changed = self._supplier_contact(uow, sandbox, p, order, expected_completion, contact, now)
        return changed

    def set_termination_date(self, sandbox: str, order_id: str, termination_date: str) -> dict[str, Any]:
        """The terminated product gets its terminationDate, in the order (event) and in the inventory (terminated)."""
        now = self._stamp(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            p = self.profile_for(uow, sandbox)
            order = self._stored_order(uow, sandbox, order_id)
            changed = self._termination_date(uow, sandbox, p, order, termination_date, now)
        return changed

    def add_milestone(self, sandbox: str, order_id: str, name: str, message: str | None = None) -> dict[str, Any]:
        """A milestone of the order (FIT: `pointOfNoReturn` ends the window for a cancellation, which is then refused
        with 1087); emits one ProductOrderMilestoneEvent."""
        now = self._stamp(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            p = self.profile_for(uow, sandbox)
            order = self._stored_order(uow, sandbox, order_id)
            if p.orders.is_final(str(order["state"])):
                raise Conflict(f"productOrder {order_id} is in the final state {order['state']!r}: no more milestones")
            milestone = {"id": self._ids.uuid(), "name": name, "milestoneDate": now, "status": "reached"}
            if message:
                milestone["message"] = message
            order["productOrderMilestone"] = [*order.get("productOrderMilestone", []), milestone]
            uow.put(sandbox, ORDER_KIND, order_id, order)
            self._publish(uow, sandbox, p, [ProductOrderMilestoneEvent(order, now)])
        return order

    # progress on the clock
    def progress_due(self, sandbox: str) -> int:
        """Run every planned step whose time has come on the sandbox clock, each at its due time; returns how many."""
        ran = 0
        now = self._clock.now(sandbox).timestamp()
        for plan in automatic_plans(self._store, sandbox):
            while plan.get("mode") == "auto" and plan.get("steps") and float(plan["nextDue"]) <= now:
                plan = self._run_step(sandbox, str(plan["orderId"]), due_only=now)
                if not plan:
                    break
                ran += 1
        return ran

    def run_next(self, sandbox: str, order_id: str, state_change_date: str | None = None) -> dict[str, Any]:
        """Run the next planned step of an order now (manual mode, or ahead of the clock); a state step may be dated
        earlier than its event with `state_change_date`."""
        order = self._stored_order(self._store, sandbox, order_id)
        if not self._run_step(sandbox, order_id, due_only=None, changed_at=state_change_date):
            raise Conflict(
                f"productOrder {order_id} in state {order['state']!r} has no planned step left (its plan ended, or a "
                "manual change ended it); move it with .../state instead"
            )
        return self._stored_order(self._store, sandbox, order_id)

    # cancellation
    def cancel(
        self, sandbox: str, order_id: str, reason: str | None = None, profile: str | None = None
    ) -> dict[str, Any]:
        """CancelProductOrder, by the profile's cancellation rules (rules.cancellation): the task, the order's path
        to cancelled or the refusal, and their events, in one unit of work."""
        self.progress_due(sandbox)
        now = self._stamp(self._clock.now(sandbox))
        task_id = self._ids.uuid()
        with self._store.transaction() as uow:
            p = self.profile_for(uow, sandbox, profile)
            order = uow.get(sandbox, ORDER_KIND, order_id)
            if order is None:
                raise NotFound(f"$.productOrder.id: no productOrder with id {order_id!r}")
            outcome = rules.cancellation(p, order, task_id, reason, now)
            if outcome.order is not None:
                uow.put(sandbox, ORDER_KIND, order_id, outcome.order)
                drop_plan(uow, sandbox, order_id)
            self._publish(uow, sandbox, p, outcome.events)
            uow.insert(sandbox, TASK_KIND, task_id, outcome.task)
        return outcome.task

    # inside a transaction
    def _run_step(
        self, sandbox: str, order_id: str, *, due_only: float | None, changed_at: str | None = None
    ) -> dict[str, Any]:
        """Run the plan's first step in one transaction with the plan's update; {} when there was nothing to run
        (another worker ran it, the plan ended, the step no longer fits the order's state)."""
        with self._store.transaction() as uow:
            plan = uow.get(sandbox, PLAN_KIND, order_id)
            step = next_step(plan) if plan else None
            if plan is None or step is None or (due_only is not None and float(plan["nextDue"]) > due_only):
                return {}
            p = self._profiles.get(str(plan.get("profile"))) or self.profile_for(uow, sandbox)
            order = uow.get(sandbox, ORDER_KIND, order_id)
            already = order is not None and step.state == order["state"]  # e.g. resumed there by the buyer's answer
            if order is None or (step.state and not already and step.state not in p.orders.allowed(order["state"])):
                drop_plan(uow, sandbox, order_id)  # someone moved the order elsewhere: the plan is over
                return {}
            ran_at = float(plan["nextDue"]) if due_only is not None else self._clock.now(sandbox).timestamp()
            if changed_at is not None and step.state is None:
                raise BadRequest(
                    [Violation("$.stateChangeDate", f"the next step ({step.name}) changes no state: give no date")]
                )
            if not already:
                if changed_at is None and step.changed_before:
                    last = documents.instant_seconds(str(order.get("stateChangeDate", ""))) or 0.0
                    changed_at = self._stamp(datetime.fromtimestamp(max(last, ran_at - step.changed_before), UTC))
                at = self._stamp(datetime.fromtimestamp(ran_at, UTC))
                self._apply(uow, sandbox, p, order, step, plan, at, changed_at)
            rest = after_step(plan, ran_at)
            if rest["steps"]:
                uow.put(sandbox, PLAN_KIND, order_id, rest)
            else:
                drop_plan(uow, sandbox, order_id)
            return rest

    def _apply(
        self,
        uow: UnitOfWork,
        sandbox: str,
        p: Profile,
        order: dict[str, Any],
        step: Step,
        plan: Mapping[str, Any],
        at: str,
        changed_at: str | None = None,
    ) -> None:
        if step.state is not None:
            self._to_state(uow, sandbox, p, order, step.state, step.reason, at, changed_at)
        elif step.attributes == "supplierContact":
            expected = str(plan.get("expectedCompletionDate") or order.get("requestedCompletionDate") or at)
            self._supplier_contact(uow, sandbox, p, order, expected, None, at)
        else:
            self._termination_date(uow, sandbox, p, order, str(plan.get("terminationDate") or at), at)

    def _to_state(
        self,
        uow: UnitOfWork,
        sandbox: str,
        p: Profile,
        order: Mapping[str, Any],
        target: str,
        code: str | None,
        at: str,
        changed_at: str | None = None,
    ) -> dict[str, Any]:
        changed = rules.state_change(p, order, target, code, at, changed_at)
        if target == p.completed_state:
            self._complete_items(uow, sandbox, changed, at)
        uow.put(sandbox, ORDER_KIND, str(order["id"]), changed)
        self._publish(uow, sandbox, p, [ProductOrderStateChangeEvent(changed, at)])
        return changed

    def _complete_items(self, uow: UnitOfWork, sandbox: str, order: dict[str, Any], _at: str) -> None:
        """A completed order changes the inventory: an added product becomes the buyer's (active); a deleted one
        is pendingTerminate until its terminationDate is set."""
        buyer = documents.buyer_of(order)
        for item in order.get("productOrderItem", []):
            if item.get("action") not in ("add", "delete"):
                continue
            ref = item.setdefault("product", {})
            if item.get("action") == "add" and isinstance(buyer, str):
                ref.setdefault("id", self._ids.uuid())
                uow.put(sandbox, PRODUCT_KIND, str(ref["id"]), {**ref, "owner": buyer, "status": "active"})
                ref["status"] = "active"
            elif item.get("action") == "delete" and "id" in ref:
                stored = uow.get(sandbox, PRODUCT_KIND, str(ref["id"]))
                if stored is not None and stored.get("status") != "terminated":
                    uow.put(sandbox, PRODUCT_KIND, str(ref["id"]), {**stored, "status": "pendingTerminate"})

    def _supplier_contact(
        self,
        uow: UnitOfWork,
        sandbox: str,
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
        uow.put(sandbox, ORDER_KIND, str(order["id"]), order)
        paths = [
            {"path": "/relatedParty/", "typeOfChange": "add"},
            {"path": "/expectedCompletionTimePeriod/", "typeOfChange": "add"},
        ]
        self._publish(uow, sandbox, p, [ProductOrderAttributeValueChangeEvent(order, at, paths)])
        return order

    def _termination_date(
        self, uow: UnitOfWork, sandbox: str, p: Profile, order: dict[str, Any], termination_date: str, at: str
    ) -> dict[str, Any]:
        deleted = [i for i in order.get("productOrderItem", []) if i.get("action") == "delete" and i.get("product")]
        if not deleted:
            raise Conflict(f"productOrder {order['id']} terminates no product (no item with action delete)")
        for item in deleted:
            ref = item["product"]
            ref["terminationDate"] = termination_date
            stored = uow.get(sandbox, PRODUCT_KIND, str(ref["id"])) or {"id": ref["id"]}
            terminated = {**stored, "status": "terminated", "terminationDate": termination_date}
            uow.put(sandbox, PRODUCT_KIND, str(ref["id"]), terminated)
        uow.put(sandbox, ORDER_KIND, str(order["id"]), order)
        paths = [{"path": "/terminationDate/", "typeOfChange": "add"}]
        self._publish(uow, sandbox, p, [ProductOrderAttributeValueChangeEvent(order, at, paths)])
        return order

    def _announce(self, uow: UnitOfWork, sandbox: str, order: Mapping[str, Any], now: str, p: Profile) -> None:
        """A new order: stored, then CreateEvent and the StateChangeEvent of its first state (as the FIT seed shows)."""
        uow.insert(sandbox, ORDER_KIND, str(order["id"]), order)
        self._publish(uow, sandbox, p, [ProductOrderCreateEvent(order, now), ProductOrderStateChangeEvent(order, now)])

    def _publish(self, uow: UnitOfWork, sandbox: str, p: Profile, events: Sequence[OrderEvent]) -> None:
        self.hub.publish(uow, sandbox, events, field_path=p.field_path)

    @staticmethod
    def _stored_order(reader: Reader, sandbox: str, order_id: str) -> dict[str, Any]:
        """The order, read inside a transaction (a unit of work) or outside it (the store)."""
        order = reader.get(sandbox, ORDER_KIND, order_id)
        if order is None:
            raise NotFound(f"no productOrder with id {order_id!r}")
        return order


_INDEXED = {kind: {i.field: i for i in INDEXES if i.kind == kind} for kind in (ORDER_KIND, TASK_KIND)}


def _listed(
    reader: Reader,
    sandbox: str,
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
        return reader.find(sandbox, kind, where, limit=limit, offset=offset or 0), reader.count(sandbox, kind, where)
    found = [item for item in reader.find(sandbox, kind, where) if matches(item, rest)]
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
