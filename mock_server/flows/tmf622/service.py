"""TMF622 use cases against the store: orders with preconditions, state changes, the seller's progress (on the
sandbox clock or step by step), merge patches, cancellations, hub subscriptions, and the events they emit, written
to the outbox in the same transaction as the change (validated against the listener contract first)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from contracts import SchemaValidator, Spec, Violation
from mock_server.clock import Clock, isoformat_utc
from mock_server.delivery.policy import host_allowed
from mock_server.errors import BadRequest, Conflict, MockError, NotFound, Unprocessable
from mock_server.flows.tmf622 import documents
from mock_server.flows.tmf622.documents import BASE
from mock_server.flows.tmf622.notifications import Subscription, deliveries_for, event_body
from mock_server.flows.tmf622.profile import FitProfile, Step, after_step, new_plan, next_step
from mock_server.flows.tmf622.states import Reason, transition
from mock_server.id_source import IdSource
from mock_server.store import Store, UnitOfWork
from mock_server.tmf630 import matches, parse_filters

ORDER_KIND, SUBSCRIPTION_KIND, TASK_KIND = "tmf.order", "tmf.subscription", "tmf.cancelProductOrder"
PRODUCT_KIND, AGREEMENT_KIND, PLAN_KIND = "tmf.product", "tmf.agreement", "tmf.plan"
# Plans are indexed outside the sandboxes ("_" is no valid sandbox name) so the background task finds them.
INDEX_SANDBOX, INDEX_KIND = "_tmf622", "tmf.plan.index"
PROGRESS_MODES = ("auto", "manual")


class EventContractError(MockError):
    """An event the mock built breaks the listener contract: a defect of the mock, never sent."""


class OrderService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        profile: FitProfile,
        listener_spec: Spec,
        on_enqueued: Callable[[], None] = lambda: None,
        *,
        step_delay: float = 5.0,
        buyer_progress: str = "auto",
        append_listener_path: bool = True,
        allow_hosts: Sequence[str] = (),
        ids: IdSource | None = None,
    ) -> None:
        self._ids = ids or IdSource()
        self._allow_hosts = tuple(allow_hosts)
        self._store = store
        self._clock = clock
        self._profile = profile
        self._machine = profile.orders
        self._listener = listener_spec
        self._validators: dict[str, SchemaValidator] = {}
        self._on_enqueued = on_enqueued
        self._delay = step_delay
        self._buyer_progress = buyer_progress
        self._append_listener_path = append_listener_path

    # inventory and agreements (seeded through the admin API or a seed file)
    def seed_agreement(self, sandbox: str, buyer: str, agreement: Mapping[str, Any]) -> None:
        with self._store.transaction() as uow:
            uow.put(sandbox, AGREEMENT_KIND, buyer, {**agreement, "buyer": buyer})

    def seed_product(self, sandbox: str, product: Mapping[str, Any]) -> None:
        with self._store.transaction() as uow:
            uow.put(sandbox, PRODUCT_KIND, str(product["id"]), dict(product))

    def seed_inventory(
        self,
        sandbox: str,
        agreements: Sequence[Mapping[str, Any]],
        products: Sequence[Mapping[str, Any]],
        *,
        replace: bool = True,
    ) -> dict[str, Any]:
        """Framework agreements (by buyer) and products (by id) in one transaction; returns what the sandbox holds.
        `replace=False` adds only what is not there yet (a seed file read at every start must not undo a
        termination that happened since)."""
        with self._store.transaction() as uow:
            for kind, key, doc in [
                *((AGREEMENT_KIND, str(a["buyer"]), dict(a)) for a in agreements),
                *((PRODUCT_KIND, str(p["id"]), {"status": "active", **p}) for p in products),
            ]:
                if replace or uow.get(sandbox, kind, key) is None:
                    uow.put(sandbox, kind, key, doc)
        return self.inventory(sandbox)

    def inventory(self, sandbox: str) -> dict[str, Any]:
        return {
            "agreements": self._store.find(sandbox, AGREEMENT_KIND),
            "products": self._store.find(sandbox, PRODUCT_KIND),
        }

    def product(self, sandbox: str, product_id: str) -> dict[str, Any]:
        found = self._store.get(sandbox, PRODUCT_KIND, product_id)
        if found is None:
            raise NotFound(f"no product {product_id!r} in the inventory")
        return found

    # hub
    def register(self, sandbox: str, callback: str, query: str | None = "") -> dict[str, Any]:
        """A hub subscription; a callback whose host is off the delivery allow-list is refused at once (400), since
        nothing would ever reach it."""
        if not host_allowed(callback, self._allow_hosts):
            raise BadRequest(
                [
                    Violation(
                        "$.callback",
                        f"host of {callback} is not on the delivery allow-list ({', '.join(self._allow_hosts)})",
                    )
                ]
            )
        subscription_id = self._ids.uuid()
        subscription = {"id": subscription_id, "callback": callback, "query": query or ""}
        with self._store.transaction() as uow:
            uow.insert(sandbox, SUBSCRIPTION_KIND, subscription_id, subscription)
        return subscription

    def unregister(self, sandbox: str, subscription_id: str) -> None:
        found = self._store.get(sandbox, SUBSCRIPTION_KIND, subscription_id)
        if found is None or found.get("deleted"):
            raise NotFound(f"no hub subscription {subscription_id!r}")
        with self._store.transaction() as uow:
            uow.put(sandbox, SUBSCRIPTION_KIND, subscription_id, {"id": subscription_id, "deleted": True})

    # reads
    def order(self, sandbox: str, order_id: str) -> dict[str, Any]:
        self.progress_due(sandbox)
        return self._stored_order(self._store, sandbox, order_id)

    def orders(self, sandbox: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """Orders matching TMF630 attribute filters (oldest first)."""
        self.progress_due(sandbox)
        return _filtered(self._store.find(sandbox, ORDER_KIND), query)

    def task(self, sandbox: str, task_id: str) -> dict[str, Any]:
        found = self._store.get(sandbox, TASK_KIND, task_id)
        if found is None:
            raise NotFound(f"no cancelProductOrder with id {task_id!r}")
        return found

    def tasks(self, sandbox: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        return _filtered(self._store.find(sandbox, TASK_KIND), query)

    # the buyer's orders
    def create_order(self, sandbox: str, body: Mapping[str, Any], buyer: str | None = None) -> dict[str, Any]:
        """Check the preconditions (framework agreement, products in the buyer's inventory, no open order on them),
        store the order as acknowledged, emit CreateEvent and the first StateChangeEvent, and plan the seller's
        steps (auto on the clock, or manual)."""
        found = buyer if buyer is not None else documents.buyer_of(body)
        if isinstance(found, Violation):
            raise Unprocessable(str(found))
        clock_now = self._clock.now(sandbox)
        now = isoformat_utc(clock_now)
        order = documents.new_order(self._ids.uuid(), body, found, now, self._machine.initial)
        with self._store.transaction() as uow:  # checked inside the write transaction: no two orders slip through
            self._check_preconditions(uow, sandbox, found, body)
            self._announce(uow, sandbox, order, now)
            plan = new_plan(
                order, self._profile.steps, mode=self._buyer_progress, delay=self._delay, start=clock_now.timestamp()
            )
            self._save_plan(uow, sandbox, plan)
        self._on_enqueued()
        return order

    def patch_order(self, sandbox: str, order_id: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """A buyer's merge patch: refused on a final order and on server-owned attributes; emits one
        ProductOrderAttributeValueChangeEvent naming each changed attribute (none when nothing changed)."""
        self.progress_due(sandbox)
        now = isoformat_utc(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            order = self._stored_order(uow, sandbox, order_id)
            if self._machine.is_final(str(order["state"])):
                raise Conflict(f"productOrder {order_id} is in the final state {order['state']!r} and cannot change")
            try:
                patched, paths = documents.merge_patched(order, patch)
            except PermissionError as exc:
                raise BadRequest(
                    [Violation(str(exc), "is set by the seller and cannot be patched")], prefix="Not patchable"
                ) from exc
            if not patched.get("productOrderItem"):
                raise BadRequest([Violation("$.productOrderItem", "an order keeps at least one item")])
            if paths:
                uow.put(sandbox, ORDER_KIND, order_id, patched)
                self._emit(uow, sandbox, "ProductOrderAttributeValueChangeEvent", patched, now, paths)
        self._on_enqueued()
        return patched

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
        delay: float | None = None,
        expected_completion: str | None = None,
        termination_date: str | None = None,
    ) -> dict[str, Any]:
        """The seller (LE) terminates a product of the buyer: an open buyer order on it is aborted with a reason that
        points to the termination, then the termination order (item action delete) is created and announced, and the
        seller's steps are planned (auto on the sandbox clock, or manual)."""
        clock_now = self._clock.now(sandbox)
        now = isoformat_utc(clock_now)
        order_id = self._ids.uuid()
        with self._store.transaction() as uow:
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
                initial=self._machine.initial,
                requested=requested,
                external_id=number,
                category=category,
                order_posted=order_posted,
            )
            reason = Reason("KUE-LE", f"Abgebrochen: Kündigung durch den Leistungserbringer, Auftrag {order_id}")
            for other in self._open_orders_on(uow, sandbox, product_id):
                allowed = self._machine.allowed(str(other["state"]))
                target = next((s for s in ("cancelled", "failed") if s in allowed), None)
                if target is None:
                    raise Conflict(
                        f"precondition: product {product_id!r} has an open order {other['id']} in state "
                        f"{other['state']!r}, which can be neither cancelled nor failed; allowed: {', '.join(allowed)}"
                    )
                aborted, _ = transition(self._machine, other, target, reason, now)
                uow.put(sandbox, ORDER_KIND, str(other["id"]), aborted)
                self._emit(uow, sandbox, "ProductOrderStateChangeEvent", aborted, now)
                self._drop_plan(uow, sandbox, str(other["id"]))
            self._announce(uow, sandbox, order, now)
            plan = new_plan(
                order,
                self._profile.steps,
                mode=mode,
                delay=self._delay if delay is None else delay,
                start=clock_now.timestamp(),
                expected_completion=expected_completion or requested,
                termination_date=termination_date,
            )
            self._save_plan(uow, sandbox, plan)
        self._on_enqueued()
        return order

    def change_state(
        self, sandbox: str, order_id: str, target: str, reason_code: str | None = None, *, manual: bool = True
    ) -> dict[str, Any]:
        """Move the order along the profile's state machine; emits exactly one ProductOrderStateChangeEvent.
        A manual change ends the order's automatic plan."""
        now = isoformat_utc(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            order = self._stored_order(uow, sandbox, order_id)
            changed = self._to_state(uow, sandbox, order, target, reason_code, now)
            if manual:
                self._drop_plan(uow, sandbox, order_id)
        self._on_enqueued()
        return changed

    def add_supplier_contact(
        self,
        sandbox: str,
        order_id: str,
        expected_completion: str,
        contact: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The seller's order-management contact and the binding completion date, as one AttributeValueChange."""
        now = isoformat_utc(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            order = self._stored_order(uow, sandbox, order_id)
            changed = self._supplier_contact(uow, sandbox, order, expected_completion, contact, now)
        self._on_enqueued()
        return changed

    def set_termination_date(self, sandbox: str, order_id: str, termination_date: str) -> dict[str, Any]:
        """The terminated product gets its terminationDate, in the order (event) and in the inventory (terminated)."""
        now = isoformat_utc(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            order = self._stored_order(uow, sandbox, order_id)
            changed = self._termination_date(uow, sandbox, order, termination_date, now)
        self._on_enqueued()
        return changed

    # progress on the clock
    def progress_due(self, sandbox: str) -> int:
        """Run every planned step whose time has come on the sandbox clock, each at its due time; returns how many."""
        ran = 0
        now = self._clock.now(sandbox).timestamp()
        for plan in self._store.find(sandbox, PLAN_KIND, {"mode": "auto"}):
            while plan.get("mode") == "auto" and plan.get("steps") and float(plan["nextDue"]) <= now:
                plan = self._run_step(sandbox, str(plan["orderId"]), due_only=now)
                if not plan:
                    break
                ran += 1
        if ran:
            self._on_enqueued()
        return ran

    def run_next(self, sandbox: str, order_id: str) -> dict[str, Any]:
        """Run the next planned step of an order now (manual mode, or ahead of the clock)."""
        self._stored_order(self._store, sandbox, order_id)
        if not self._run_step(sandbox, order_id, due_only=None) and self._store.get(sandbox, PLAN_KIND, order_id):
            raise Conflict(f"productOrder {order_id} has no planned step left")
        self._on_enqueued()
        return self._stored_order(self._store, sandbox, order_id)

    def plan(self, sandbox: str, order_id: str) -> dict[str, Any] | None:
        return self._store.get(sandbox, PLAN_KIND, order_id)

    def sandboxes_with_plans(self) -> list[str]:
        return sorted({str(entry["sandbox"]) for entry in self._store.find(INDEX_SANDBOX, INDEX_KIND)})

    # cancellation
    def cancel(self, sandbox: str, order_id: str, reason: str | None = None) -> dict[str, Any]:
        """CancelProductOrder: refused with the task terminatedWithError (1087) once the order is past its point of no
        return; otherwise task inProgress, order assessingCancellation → pendingCancellation → cancelled, task done.
        Task and order changes are separate events, as TMF622 has them."""
        self.progress_due(sandbox)
        tasks = self._profile.tasks
        now = isoformat_utc(self._clock.now(sandbox))
        task_id = self._ids.uuid()
        with self._store.transaction() as uow:
            order = uow.get(sandbox, ORDER_KIND, order_id)
            if order is None:
                raise NotFound(f"$.productOrder.id: no productOrder with id {order_id!r}")
            task: dict[str, Any] = {
                "@type": "CancelProductOrder",
                "id": task_id,
                "href": f"{BASE}/cancelProductOrder/{task_id}",
                "productOrder": {"id": order_id, "href": order["href"], "@referredType": "ProductOrder"},
                "state": tasks.initial,
                "stateChangeDate": now,
                **({"cancellationReason": reason} if reason else {}),
            }
            self._emit(uow, sandbox, "CancelProductOrderCreateEvent", task, now, match_on=order)
            if str(order["state"]) in self._profile.not_cancellable:
                code, text = self._profile.reason("1087") or ("1087", "")
                task, _ = transition(tasks, task, "terminatedWithError", Reason(code, text), now)
                self._emit(uow, sandbox, "CancelProductOrderStateChangeEvent", task, now, match_on=order)
            else:
                task, _ = transition(tasks, task, "inProgress", None, now)
                self._emit(uow, sandbox, "CancelProductOrderStateChangeEvent", task, now, match_on=order)
                for state in ("assessingCancellation", "pendingCancellation", "cancelled"):
                    order, _ = transition(self._machine, order, state, None, now)
                    if state == "cancelled":
                        order["cancellationDate"] = now
                        if reason:
                            order["cancellationReason"] = reason
                    self._emit(uow, sandbox, "ProductOrderStateChangeEvent", order, now)
                uow.put(sandbox, ORDER_KIND, order_id, order)
                self._drop_plan(uow, sandbox, order_id)
                task, _ = transition(tasks, task, "done", None, now)
                task["effectiveCancellationDate"] = now
                self._emit(uow, sandbox, "CancelProductOrderStateChangeEvent", task, now, match_on=order)
            uow.insert(sandbox, TASK_KIND, task_id, task)
        self._on_enqueued()
        return task

    # inside a transaction
    def _run_step(self, sandbox: str, order_id: str, *, due_only: float | None) -> dict[str, Any]:
        """Run the plan's first step in one transaction with the plan's update; {} when there was nothing to run
        (another worker ran it, the plan ended, the step no longer fits the order's state)."""
        with self._store.transaction() as uow:
            plan = uow.get(sandbox, PLAN_KIND, order_id)
            step = next_step(plan) if plan else None
            if plan is None or step is None or (due_only is not None and float(plan["nextDue"]) > due_only):
                return {}
            order = uow.get(sandbox, ORDER_KIND, order_id)
            if order is None or (step.state and step.state not in self._machine.allowed(str(order["state"]))):
                self._drop_plan(uow, sandbox, order_id)  # someone moved the order elsewhere: the plan is over
                return {}
            ran_at = float(plan["nextDue"]) if due_only is not None else self._clock.now(sandbox).timestamp()
            self._apply(uow, sandbox, order, step, plan, isoformat_utc(datetime.fromtimestamp(ran_at, UTC)))
            rest = after_step(plan, ran_at)
            if rest["steps"]:
                uow.put(sandbox, PLAN_KIND, order_id, rest)
            else:
                self._drop_plan(uow, sandbox, order_id)
            return rest

    def _apply(
        self, uow: UnitOfWork, sandbox: str, order: dict[str, Any], step: Step, plan: Mapping[str, Any], at: str
    ) -> None:
        if step.state is not None:
            self._to_state(uow, sandbox, order, step.state, step.reason, at)
        elif step.attributes == "supplierContact":
            expected = str(plan.get("expectedCompletionDate") or order.get("requestedCompletionDate") or at)
            self._supplier_contact(uow, sandbox, order, expected, None, at)
        else:
            self._termination_date(uow, sandbox, order, str(plan.get("terminationDate") or at), at)

    def _to_state(
        self, uow: UnitOfWork, sandbox: str, order: Mapping[str, Any], target: str, code: str | None, at: str
    ) -> dict[str, Any]:
        found = self._profile.reason(code)
        changed, _ = transition(self._machine, order, target, Reason(*found) if found else None, at)
        if target == "completed":
            changed["completionDate"] = at
            self._complete_items(uow, sandbox, changed, at)
        uow.put(sandbox, ORDER_KIND, str(order["id"]), changed)
        self._emit(uow, sandbox, "ProductOrderStateChangeEvent", changed, at)
        return changed

    def _complete_items(self, uow: UnitOfWork, sandbox: str, order: dict[str, Any], at: str) -> None:
        """A completed order changes the inventory: an added product becomes the buyer's (active); a deleted one
        is pendingTerminate until its terminationDate is set."""
        buyer = documents.buyer_of(order)
        for item in order.get("productOrderItem", []):
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
        order: dict[str, Any],
        expected: str,
        contact: Mapping[str, Any] | None,
        at: str,
    ) -> dict[str, Any]:
        party = dict(contact or self._profile.supplier_contact)
        party.setdefault("role", "orderManagementSupplierContact")
        order["relatedParty"] = [*order.get("relatedParty", []), party]
        order["expectedCompletionTimePeriod"] = {"startDateTime": expected}
        order["expectedCompletionDate"] = expected  # the TMF622 v4 field, for plain v4 clients
        uow.put(sandbox, ORDER_KIND, str(order["id"]), order)
        paths = [
            {"path": "/relatedParty/", "typeOfChange": "add"},
            {"path": "/expectedCompletionTimePeriod/", "typeOfChange": "add"},
        ]
        self._emit(uow, sandbox, "ProductOrderAttributeValueChangeEvent", order, at, paths)
        return order

    def _termination_date(
        self, uow: UnitOfWork, sandbox: str, order: dict[str, Any], termination_date: str, at: str
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
        self._emit(uow, sandbox, "ProductOrderAttributeValueChangeEvent", order, at, paths)
        return order

    def _announce(self, uow: UnitOfWork, sandbox: str, order: Mapping[str, Any], now: str) -> None:
        """A new order: stored, then CreateEvent and the StateChangeEvent of its first state (as the FIT seed shows)."""
        uow.insert(sandbox, ORDER_KIND, str(order["id"]), order)
        self._emit(uow, sandbox, "ProductOrderCreateEvent", order, now)
        self._emit(uow, sandbox, "ProductOrderStateChangeEvent", order, now)

    def _save_plan(self, uow: UnitOfWork, sandbox: str, plan: Mapping[str, Any]) -> None:
        if not plan["steps"]:
            return
        uow.put(sandbox, PLAN_KIND, str(plan["orderId"]), plan)
        uow.put(INDEX_SANDBOX, INDEX_KIND, f"{sandbox}/{plan['orderId']}", {"sandbox": sandbox})

    def _drop_plan(self, uow: UnitOfWork, sandbox: str, order_id: str) -> None:
        if uow.get(sandbox, PLAN_KIND, order_id) is not None:
            uow.put(sandbox, PLAN_KIND, order_id, {"orderId": order_id, "mode": "done", "steps": []})
        if uow.get(INDEX_SANDBOX, INDEX_KIND, f"{sandbox}/{order_id}") is not None:
            uow.put(INDEX_SANDBOX, INDEX_KIND, f"{sandbox}/{order_id}", {"sandbox": "", "done": True})

    def _open_orders_on(self, uow: UnitOfWork, sandbox: str, product_id: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self._store.find(sandbox, ORDER_KIND)
            if not self._machine.is_final(str(o.get("state")))
            and str(o.get("state")) != "completed"
            and any((i.get("product") or {}).get("id") == product_id for i in o.get("productOrderItem", []))
        ]

    @staticmethod
    def _stored_order(reader: UnitOfWork | Store, sandbox: str, order_id: str) -> dict[str, Any]:
        """The order, read inside a transaction (a unit of work) or outside it (the store)."""
        order = reader.get(sandbox, ORDER_KIND, order_id)
        if order is None:
            raise NotFound(f"no productOrder with id {order_id!r}")
        return order

    def _check_preconditions(self, uow: UnitOfWork, sandbox: str, buyer: str, body: Mapping[str, Any]) -> None:
        if uow.get(sandbox, AGREEMENT_KIND, buyer) is None:
            raise Conflict(f"precondition: Auftraggeber {buyer!r} has no framework agreement (Rahmenvertrag)")
        for index, item in enumerate(body.get("productOrderItem", [])):
            product_id = (item.get("product") or {}).get("id")
            if product_id is None:
                if item.get("action") != "add":
                    raise Conflict(
                        f"precondition: $.productOrderItem[{index}].product.id is required for action "
                        f"{item.get('action')!r}: it names the product in the inventory"
                    )
                continue
            product = uow.get(sandbox, PRODUCT_KIND, str(product_id))
            if product is None or product.get("owner") != buyer:
                raise Conflict(
                    f"precondition: $.productOrderItem[{index}].product.id {product_id!r} is not in the inventory "
                    f"of Auftraggeber {buyer!r}"
                )
            if product.get("status") == "terminated":
                raise Conflict(f"precondition: $.productOrderItem[{index}].product.id {product_id!r} is terminated")
            for other in self._open_orders_on(uow, sandbox, str(product_id)):
                raise Conflict(
                    f"precondition: product {product_id!r} has an open order {other['id']} in state {other['state']!r}"
                )

    def _emit(
        self,
        uow: UnitOfWork,
        sandbox: str,
        event_type: str,
        order: Mapping[str, Any],
        now: str,
        field_paths: Sequence[Mapping[str, str]] = (),
        match_on: Mapping[str, Any] | None = None,
    ) -> None:
        """Validate the event against the listener contract and queue it for every subscription whose query matches
        (`match_on`: the order a task belongs to, so "relatedParty.id=me" also selects the order's tasks)."""
        name = "cancelProductOrder" if event_type.startswith("CancelProductOrder") else "productOrder"
        body = event_body(event_type, name, order, event_id=self._ids.uuid(), at=now, field_paths=field_paths)
        violations = self._validator(event_type).violations(body)
        if violations:
            raise EventContractError(f"{event_type}: " + "; ".join(str(v) for v in violations))
        subscriptions = [
            Subscription(s["id"], s["callback"], s.get("query", ""))
            for s in self._store.find(sandbox, SUBSCRIPTION_KIND)
            if not s.get("deleted")
        ]
        at = datetime.now(UTC).timestamp()  # delivery runs on real time: it is about the receiver
        found = deliveries_for(
            subscriptions, event_type, match_on or order, body, append_listener_path=self._append_listener_path
        )
        for stream, target, message in found:
            uow.enqueue_delivery(sandbox, stream, event_type, target, message, {}, at)

    def _validator(self, event_type: str) -> SchemaValidator:
        if event_type not in self._validators:
            operation = self._listener.operation(f"listen{event_type}")
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            self._validators[event_type] = SchemaValidator(schema)
        return self._validators[event_type]


def _filtered(items: Sequence[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    filters = parse_filters(query)
    return [item for item in items if matches(item, filters)]
