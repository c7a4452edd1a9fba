"""TMF622 seller use cases, driven through the admin API: termination by the seller (KUE-LE), state changes with
reasons, supplier contact, termination date, milestones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pruefstand.mock_server.flows.tmf622 import documents, rules
from pruefstand.mock_server.flows.tmf622.documents import (
    AGREEMENT_KIND,
    ORDER_KIND,
    PRODUCT_KIND,
)
from pruefstand.mock_server.flows.tmf622.events import (
    ProductOrderMilestoneEvent,
    ProductOrderStateChangeEvent,
)
from pruefstand.mock_server.flows.tmf622.order_core import OrderCore
from pruefstand.mock_server.flows.tmf622.plan_store import drop_plan, save_plan
from pruefstand.mock_server.flows.tmf622.profile import new_plan
from pruefstand.mock_server.flows.tmf622.states import Reason
from pruefstand.mock_server.kernel.errors import Conflict


class SellerUseCases(OrderCore):
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
        with self._store.unit_of_work(sandbox) as uow:
            p = self.profile_for(uow)
            agreement = uow.get(AGREEMENT_KIND, buyer)
            if agreement is None:
                raise Conflict(f"precondition: Auftraggeber {buyer!r} has no framework agreement (Rahmenvertrag)")
            product = uow.get(PRODUCT_KIND, product_id)
            if product is None or product.get("owner") != buyer:
                raise Conflict(
                    f"precondition: product {product_id!r} is not in the inventory of Auftraggeber {buyer!r}"
                )
            if product.get("status") == "terminated":
                raise Conflict(f"precondition: product {product_id!r} is already terminated")
            number = external_id or f"LE-{uow.next_counter('tmf.sellerOrderNumber'):07d}"
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
            open_orders = self.inventory.open_orders_on(uow, product_id, p)
            for aborted in rules.aborted_for_termination(p, open_orders, product_id, reason, now):
                uow.put(ORDER_KIND, str(aborted["id"]), aborted)
                self._publish(uow, p, [ProductOrderStateChangeEvent(aborted, now)])
                drop_plan(uow, str(aborted["id"]))
            self._announce(uow, order, now, p)
            plan = new_plan(
                order,
                p.steps,
                mode=mode,
                delay=self._delay if delay is None else delay,
                start=clock_now.timestamp(),
                expected_completion=expected_completion or requested,
                termination_date=termination_date,
            )
            plan["profile"] = p.name
            save_plan(uow, plan)
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
        with self._store.unit_of_work(sandbox) as uow:
            p = self.profile_for(uow)
            order = self._stored_order(uow, order_id)
            changed = self._to_state(uow, p, order, target, reason_code, now, state_change_date)
            if manual:
                drop_plan(uow, order_id)
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
        with self._store.unit_of_work(sandbox) as uow:
            p = self.profile_for(uow)
            order = self._stored_order(uow, order_id)
            changed = self._supplier_contact(uow, p, order, expected_completion, contact, now)
        return changed

    def set_termination_date(self, sandbox: str, order_id: str, termination_date: str) -> dict[str, Any]:
        """The terminated product gets its terminationDate, in the order (event) and in the inventory (terminated)."""
        now = self._stamp(self._clock.now(sandbox))
        with self._store.unit_of_work(sandbox) as uow:
            p = self.profile_for(uow)
            order = self._stored_order(uow, order_id)
            changed = self._termination_date(uow, p, order, termination_date, now)
        return changed

    def add_milestone(self, sandbox: str, order_id: str, name: str, message: str | None = None) -> dict[str, Any]:
        """A milestone of the order (FIT: `pointOfNoReturn` ends the window for a cancellation, which is then refused
        with 1087); emits one ProductOrderMilestoneEvent."""
        now = self._stamp(self._clock.now(sandbox))
        with self._store.unit_of_work(sandbox) as uow:
            p = self.profile_for(uow)
            order = self._stored_order(uow, order_id)
            if p.orders.is_final(str(order["state"])):
                raise Conflict(f"productOrder {order_id} is in the final state {order['state']!r}: no more milestones")
            milestone = {"id": self._ids.uuid(), "name": name, "milestoneDate": now, "status": "Completed"}
            if message:
                milestone["message"] = message
            order["productOrderMilestone"] = [*order.get("productOrderMilestone", []), milestone]
            uow.put(ORDER_KIND, order_id, order)
            self._publish(uow, p, [ProductOrderMilestoneEvent(order, now)])
        return order
