"""TMF622 use cases against the store: orders with preconditions, state changes, hub subscriptions, and the events
they emit, written to the outbox in the same transaction as the change (validated against the listener contract).

Not yet bound to HTTP: the handlers and the served contract come next (see docs/DECISIONS.md, TMF622).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from contracts import SchemaValidator, Spec
from mock_server.clock import Clock, isoformat_utc
from mock_server.errors import Conflict, MockError, NotFound
from mock_server.flows.tmf622.notifications import Subscription, deliveries_for, event_body
from mock_server.flows.tmf622.states import Reason, StateMachine, transition
from mock_server.store import Store, UnitOfWork

BASE = "/tmf-api/productOrderingManagement/v4"
ORDER_KIND, SUBSCRIPTION_KIND, TASK_KIND = "tmf.order", "tmf.subscription", "tmf.cancelProductOrder"
PRODUCT_KIND, AGREEMENT_KIND = "tmf.product", "tmf.agreement"


class EventContractError(MockError):
    """An event the mock built breaks the listener contract: a defect of the mock, never sent."""


class OrderService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        machine: StateMachine,
        reasons: Mapping[str, str],
        listener_spec: Spec,
        on_enqueued: Callable[[], None] = lambda: None,
        *,
        task_machine: StateMachine | None = None,
        not_cancellable: Sequence[str] = (),
    ) -> None:
        self._store = store
        self._clock = clock
        self._machine = machine
        self._task_machine = task_machine
        self._not_cancellable = frozenset(not_cancellable)
        self._reasons = reasons
        self._listener = listener_spec
        self._validators: dict[str, SchemaValidator] = {}
        self._on_enqueued = on_enqueued

    # inventory and agreements (seeded through the admin API)
    def seed_agreement(self, sandbox: str, buyer: str, agreement: Mapping[str, Any]) -> None:
        with self._store.transaction() as uow:
            uow.put(sandbox, AGREEMENT_KIND, buyer, dict(agreement))

    def seed_product(self, sandbox: str, product: Mapping[str, Any]) -> None:
        with self._store.transaction() as uow:
            uow.put(sandbox, PRODUCT_KIND, str(product["id"]), dict(product))

    # hub
    def register(self, sandbox: str, callback: str, query: str = "") -> dict[str, Any]:
        subscription = {"id": str(uuid.uuid4()), "callback": callback, "query": query}
        with self._store.transaction() as uow:
            uow.insert(sandbox, SUBSCRIPTION_KIND, subscription["id"], subscription)
        return subscription

    def unregister(self, sandbox: str, subscription_id: str) -> None:
        if self._store.get(sandbox, SUBSCRIPTION_KIND, subscription_id) is None:
            raise NotFound(f"no hub subscription {subscription_id!r}")
        with self._store.transaction() as uow:
            uow.put(sandbox, SUBSCRIPTION_KIND, subscription_id, {"id": subscription_id, "deleted": True})

    # orders
    def order(self, sandbox: str, order_id: str) -> dict[str, Any]:
        found = self._store.get(sandbox, ORDER_KIND, order_id)
        if found is None:
            raise NotFound(f"no productOrder with id {order_id!r}")
        return found

    def create_order(self, sandbox: str, buyer: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Check the preconditions (framework agreement, products in the buyer's inventory, no open order on them),
        store the order as acknowledged and emit ProductOrderCreateEvent."""
        now = isoformat_utc(self._clock.now(sandbox))
        order_id = str(uuid.uuid4())
        order = {
            **body,
            "id": order_id,
            "href": f"{BASE}/productOrder/{order_id}",
            "orderDate": now,
            "creationDate": now,
            "state": self._machine.initial,
            "stateChangeDate": now,
            "relatedParty": list(body.get("relatedParty") or [])
            or [{"id": buyer, "role": "customer", "@referredType": "Organization"}],
        }
        with self._store.transaction() as uow:  # checked inside the write transaction: no two orders slip through
            self._check_preconditions(sandbox, buyer, body)
            self._announce(uow, sandbox, order, now)
        self._on_enqueued()
        return order

    def terminate_by_seller(
        self,
        sandbox: str,
        buyer: str,
        product_id: str,
        *,
        requested: str,
        external_id: str,
        category: str = "terminationBySeller",
    ) -> dict[str, Any]:
        """The seller (LE) terminates a product of the buyer: an open buyer order on it is aborted with a reason that
        points to the termination, then the termination order (item action delete) is created and announced."""
        now = isoformat_utc(self._clock.now(sandbox))
        order_id = str(uuid.uuid4())
        order = {
            "@type": "ProductOrder",
            "id": order_id,
            "href": f"{BASE}/productOrder/{order_id}",
            "category": category,
            "orderDate": now,
            "creationDate": now,
            "orderPostedDate": now,
            "state": self._machine.initial,
            "stateChangeDate": now,
            "externalId": [{"id": external_id, "owner": "seller"}],
            "requestedCompletionTimePeriod": {"startDateTime": requested},
            "relatedParty": [{"id": buyer, "role": "customer", "@referredType": "Organization"}],
            "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": product_id}}],
        }
        with self._store.transaction() as uow:
            product = uow.get(sandbox, PRODUCT_KIND, product_id)
            if product is None or product.get("owner") != buyer:
                raise Conflict(
                    f"precondition: product {product_id!r} is not in the inventory of Auftraggeber {buyer!r}"
                )
            reason = Reason("KUE-LE", f"Abgebrochen: Kündigung durch den Leistungserbringer, Auftrag {order_id}")
            for other in self._open_orders_on(sandbox, product_id):
                target = next(s for s in ("cancelled", "failed") if s in self._machine.allowed(str(other["state"])))
                aborted, _ = transition(self._machine, other, target, reason, now)
                uow.put(sandbox, ORDER_KIND, str(other["id"]), aborted)
                self._emit(uow, sandbox, "ProductOrderStateChangeEvent", aborted, now)
            self._announce(uow, sandbox, order, now)
        self._on_enqueued()
        return order

    def add_attributes(
        self, sandbox: str, order_id: str, additions: Mapping[str, Any], *, type_of_change: str = "add"
    ) -> dict[str, Any]:
        """Add first-level attributes (lists are extended) and emit one ProductOrderAttributeValueChangeEvent whose
        fieldPath names each of them."""
        now = isoformat_utc(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            order = uow.get(sandbox, ORDER_KIND, order_id)
            if order is None:
                raise NotFound(f"no productOrder with id {order_id!r}")
            for key, value in additions.items():
                order[key] = [*order.get(key, []), *value] if isinstance(value, list) else value
            uow.put(sandbox, ORDER_KIND, order_id, order)
            paths = [{"path": f"/{key}/", "typeOfChange": type_of_change} for key in additions]
            self._emit(uow, sandbox, "ProductOrderAttributeValueChangeEvent", order, now, paths)
        self._on_enqueued()
        return order

    def set_termination_date(self, sandbox: str, order_id: str, termination_date: str) -> dict[str, Any]:
        """The terminated product gets its terminationDate, in the order (event) and in the inventory (terminated)."""
        now = isoformat_utc(self._clock.now(sandbox))
        with self._store.transaction() as uow:
            order = uow.get(sandbox, ORDER_KIND, order_id)
            if order is None:
                raise NotFound(f"no productOrder with id {order_id!r}")
            for item in order.get("productOrderItem", []):
                product_ref = item.get("product") or {}
                if item.get("action") == "delete" and "id" in product_ref:
                    product_ref["terminationDate"] = termination_date
                    stored = uow.get(sandbox, PRODUCT_KIND, str(product_ref["id"])) or {"id": product_ref["id"]}
                    uow.put(
                        sandbox,
                        PRODUCT_KIND,
                        str(product_ref["id"]),
                        {**stored, "status": "terminated", "terminationDate": termination_date},
                    )
            uow.put(sandbox, ORDER_KIND, order_id, order)
            paths = [{"path": "/terminationDate/", "typeOfChange": "add"}]
            self._emit(uow, sandbox, "ProductOrderAttributeValueChangeEvent", order, now, paths)
        self._on_enqueued()
        return order

    def cancel(self, sandbox: str, order_id: str, reason: str | None = None) -> dict[str, Any]:
        """CancelProductOrder: refused with the task terminatedWithError (1087) once the order is past its point of no
        return; otherwise task inProgress, order assessingCancellation → pendingCancellation → cancelled, task done.
        Task and order changes are separate events, as TMF622 has them."""
        if self._task_machine is None:
            raise NotFound("cancellation is not configured for this profile")
        tasks = self._task_machine
        now = isoformat_utc(self._clock.now(sandbox))
        task_id = str(uuid.uuid4())
        with self._store.transaction() as uow:
            order = uow.get(sandbox, ORDER_KIND, order_id)
            if order is None:
                raise NotFound(f"no productOrder with id {order_id!r}")
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
            if str(order["state"]) in self._not_cancellable:
                no = Reason("1087", self._reasons.get("1087", ""))
                task, _ = transition(tasks, task, "terminatedWithError", no, now)
                self._emit(uow, sandbox, "CancelProductOrderStateChangeEvent", task, now, match_on=order)
            else:
                task, _ = transition(tasks, task, "inProgress", None, now)
                self._emit(uow, sandbox, "CancelProductOrderStateChangeEvent", task, now, match_on=order)
                for state in ("assessingCancellation", "pendingCancellation", "cancelled"):
                    order, _ = transition(self._machine, order, state, None, now)
                    self._emit(uow, sandbox, "ProductOrderStateChangeEvent", order, now)
                order["cancellationDate"] = now
                uow.put(sandbox, ORDER_KIND, order_id, order)
                task, _ = transition(tasks, task, "done", None, now)
                task["effectiveCancellationDate"] = now
                self._emit(uow, sandbox, "CancelProductOrderStateChangeEvent", task, now, match_on=order)
            uow.insert(sandbox, TASK_KIND, task_id, task)
        self._on_enqueued()
        return task

    def _announce(self, uow: UnitOfWork, sandbox: str, order: Mapping[str, Any], now: str) -> None:
        """A new order: stored, then CreateEvent and the StateChangeEvent of its first state (as the FIT seed shows)."""
        uow.insert(sandbox, ORDER_KIND, str(order["id"]), order)
        self._emit(uow, sandbox, "ProductOrderCreateEvent", order, now)
        self._emit(uow, sandbox, "ProductOrderStateChangeEvent", order, now)

    def _open_orders_on(self, sandbox: str, product_id: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self._store.find(sandbox, ORDER_KIND)
            if not self._machine.is_final(str(o.get("state")))
            and any((i.get("product") or {}).get("id") == product_id for i in o.get("productOrderItem", []))
        ]

    def change_state(self, sandbox: str, order_id: str, target: str, reason_code: str | None = None) -> dict[str, Any]:
        """Move the order along the profile's state machine; emits exactly one ProductOrderStateChangeEvent."""
        now = isoformat_utc(self._clock.now(sandbox))
        reason = Reason(reason_code, self._reasons.get(reason_code, "")) if reason_code else None
        with self._store.transaction() as uow:
            current = uow.get(sandbox, ORDER_KIND, order_id)
            if current is None:
                raise NotFound(f"no productOrder with id {order_id!r}")
            changed, _ = transition(self._machine, current, target, reason, now)
            uow.put(sandbox, ORDER_KIND, order_id, changed)
            self._emit(uow, sandbox, "ProductOrderStateChangeEvent", changed, now)
        self._on_enqueued()
        return changed

    def _check_preconditions(self, sandbox: str, buyer: str, body: Mapping[str, Any]) -> None:
        if self._store.get(sandbox, AGREEMENT_KIND, buyer) is None:
            raise Conflict(f"precondition: Auftraggeber {buyer!r} has no framework agreement (Rahmenvertrag)")
        for index, item in enumerate(body.get("productOrderItem", [])):
            product_id = (item.get("product") or {}).get("id")
            if product_id is None:
                continue
            product = self._store.get(sandbox, PRODUCT_KIND, str(product_id))
            if product is None or product.get("owner") != buyer:
                raise Conflict(
                    f"precondition: $.productOrderItem[{index}].product.id {product_id!r} is not in the inventory "
                    f"of Auftraggeber {buyer!r}"
                )
            for other in self._open_orders_on(sandbox, str(product_id)):
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
        body = event_body(event_type, name, order, event_id=str(uuid.uuid4()), at=now, field_paths=field_paths)
        violations = self._validator(event_type).violations(body)
        if violations:
            raise EventContractError(f"{event_type}: " + "; ".join(str(v) for v in violations))
        subscriptions = [
            Subscription(s["id"], s["callback"], s.get("query", ""))
            for s in self._store.find(sandbox, SUBSCRIPTION_KIND)
            if not s.get("deleted")
        ]
        at = self._clock.now(sandbox).timestamp()
        for stream, target, message in deliveries_for(subscriptions, event_type, match_on or order, body):
            uow.enqueue_delivery(sandbox, stream, event_type, target, message, {}, at)

    def _validator(self, event_type: str) -> SchemaValidator:
        if event_type not in self._validators:
            operation = self._listener.operation(f"listen{event_type}")
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            self._validators[event_type] = SchemaValidator(schema)
        return self._validators[event_type]
