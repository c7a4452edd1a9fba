"""TMF622 use cases against the store: orders with preconditions, state changes, hub subscriptions, and the events
they emit, written to the outbox in the same transaction as the change (validated against the listener contract).

Not yet bound to HTTP: the handlers and the served contract come next (see docs/DECISIONS.md, TMF622).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from contracts import SchemaValidator, Spec
from mock_server.clock import Clock, isoformat_utc
from mock_server.errors import Conflict, MockError, NotFound
from mock_server.flows.tmf622.notifications import Subscription, deliveries_for, event_body
from mock_server.flows.tmf622.states import Reason, StateMachine, transition
from mock_server.store import Store, UnitOfWork

BASE = "/tmf-api/productOrderingManagement/v4"
ORDER_KIND, SUBSCRIPTION_KIND = "tmf.order", "tmf.subscription"
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
    ) -> None:
        self._store = store
        self._clock = clock
        self._machine = machine
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
            uow.insert(sandbox, ORDER_KIND, order_id, order)
            self._emit(uow, sandbox, "ProductOrderCreateEvent", order, now)
        self._on_enqueued()
        return order

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
        open_orders = [
            o for o in self._store.find(sandbox, ORDER_KIND) if not self._machine.is_final(str(o.get("state")))
        ]
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
            for other in open_orders:
                if any((i.get("product") or {}).get("id") == product_id for i in other.get("productOrderItem", [])):
                    raise Conflict(
                        f"precondition: product {product_id!r} has an open order {other['id']} in state "
                        f"{other['state']!r}"
                    )

    def _emit(self, uow: UnitOfWork, sandbox: str, event_type: str, order: Mapping[str, Any], now: str) -> None:
        body = event_body(event_type, "productOrder", order, event_id=str(uuid.uuid4()), at=now)
        violations = self._validator(event_type).violations(body)
        if violations:
            raise EventContractError(f"{event_type}: " + "; ".join(str(v) for v in violations))
        subscriptions = [
            Subscription(s["id"], s["callback"], s.get("query", ""))
            for s in self._store.find(sandbox, SUBSCRIPTION_KIND)
            if not s.get("deleted")
        ]
        at = self._clock.now(sandbox).timestamp()
        for stream, target, message in deliveries_for(subscriptions, event_type, order, body):
            uow.enqueue_delivery(sandbox, stream, event_type, target, message, {}, at)

    def _validator(self, event_type: str) -> SchemaValidator:
        if event_type not in self._validators:
            operation = self._listener.operation(f"listen{event_type}")
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            self._validators[event_type] = SchemaValidator(schema)
        return self._validators[event_type]
