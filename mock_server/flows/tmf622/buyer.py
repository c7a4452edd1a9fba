"""TMF622 buyer use cases: reading orders and cancellation tasks, creating, patching, deleting and cancelling an
order, and the information the seller asked for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pruefstand.contracts import Violation
from pruefstand.mock_server.flows.tmf622 import documents, rules
from pruefstand.mock_server.flows.tmf622.documents import (
    INFO_REQUEST_KIND,
    ORDER_KIND,
    TASK_KIND,
)
from pruefstand.mock_server.flows.tmf622.events import (
    ProductOrderAttributeValueChangeEvent,
    ProductOrderDeleteEvent,
    ProductOrderInformationRequiredEvent,
)
from pruefstand.mock_server.flows.tmf622.order_core import OrderCore, listed, patch_refusals
from pruefstand.mock_server.flows.tmf622.plan_store import drop_plan, save_plan, set_plan_mode
from pruefstand.mock_server.flows.tmf622.profile import PROFILE_HEADER, Profile, new_plan
from pruefstand.mock_server.kernel.errors import BadRequest, Conflict, NotFound, Unprocessable
from pruefstand.mock_server.store import SandboxUnit, UnitOfWork


@dataclass
class NewOrder:
    """An order to create, as prepared outside the transaction; its id is drawn once the checks passed (a refused
    order uses none), and kept should the transaction run again (group commit)."""

    sandbox: str
    body: Mapping[str, Any]
    buyer: str | None
    profile: str | None
    v4_shapes: bool
    clock_now: datetime
    order_id: str | None = None


class BuyerUseCases(OrderCore):
    # reads (no writes: what falls due on the clock is run by the background task or an admin clock advance)
    def order(self, sandbox: str, order_id: str) -> dict[str, Any]:
        return self._stored_order(self._store.view(sandbox), order_id)

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
        return listed(self._store.view(sandbox), ORDER_KIND, query, offset, limit, sort)

    def task(self, sandbox: str, task_id: str) -> dict[str, Any]:
        found = self._store.view(sandbox).get(TASK_KIND, task_id)
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
        return listed(self._store.view(sandbox), TASK_KIND, query, offset, limit, sort)

    # the buyer's orders
    def create_order(
        self,
        sandbox: str,
        body: Mapping[str, Any],
        buyer: str | None = None,
        profile: str | None = None,
        *,
        v4_shapes: bool = False,
    ) -> dict[str, Any]:
        """In the FIT profile: check the preconditions (an Auftraggeber with a framework agreement, products in its
        inventory, no open order on them). Store the order in the profile's initial state, emit CreateEvent and the
        first StateChangeEvent, and plan the seller's steps (auto on the clock, or manual)."""
        new = self.prepare_order(sandbox, body, buyer, profile, v4_shapes=v4_shapes)
        with self._store.unit_of_work(sandbox) as uow:  # checked inside the write transaction: no two slip through
            return self._create(uow, new)

    def prepare_order(
        self,
        sandbox: str,
        body: Mapping[str, Any],
        buyer: str | None = None,
        profile: str | None = None,
        *,
        v4_shapes: bool = False,
    ) -> NewOrder:
        """What needs no transaction: the clock."""
        return NewOrder(sandbox, body, buyer, profile, v4_shapes, self._clock.now(sandbox))

    def apply_order(self, uow: UnitOfWork, new: NewOrder) -> dict[str, Any]:
        """`create_order`'s transaction part in a unit of work that may span sandboxes (the fast path's group
        commit); it may run twice (only through the unit of work)."""
        return self._create(SandboxUnit(uow, new.sandbox), new)

    def _create(self, uow: SandboxUnit, new: NewOrder) -> dict[str, Any]:
        now = self._stamp(new.clock_now)
        p = self.profile_for(uow, new.profile)
        self._plain_shapes(p, new.body, new.v4_shapes)
        named = new.buyer if new.buyer is not None else documents.buyer_of(new.body)
        if isinstance(named, Violation) and p.buyer_required:
            raise Unprocessable(str(named))
        found = None if isinstance(named, Violation) else named
        if p.preconditions and found is not None:
            self.inventory.check_preconditions(uow, found, new.body, p)
        new.order_id = new.order_id or self._ids.record_key()
        order = documents.new_order(new.order_id, new.body, found, now, p.orders.initial, p.initial_state_reason())
        self._announce(uow, order, now, p)
        plan = new_plan(order, p.steps, mode=self._buyer_progress, delay=self._delay, start=new.clock_now.timestamp())
        plan["profile"] = p.name
        save_plan(uow, plan)
        return order

    @staticmethod
    def _plain_shapes(p: Profile, given: Any, v4_shapes: bool) -> None:
        """Through the v4 API a plain sandbox takes v4's shapes; the served contract also takes the FIT-API
        profile's, which conflict with the sandbox's choice: 409 (v5 clients send v5's shapes)."""
        if v4_shapes and p.name == documents.PLAIN_PROFILE and documents.sends_external_id_list(given):
            raise Conflict(
                "$.externalId: this sandbox works in the plain TMF622 v4 profile, where externalId is one string; "
                f"ExternalIdentifier[] is the FIT-API profile's (send {PROFILE_HEADER}: fit, or choose it for the "
                "sandbox in the admin API)"
            )

    def delete_order(self, sandbox: str, order_id: str, profile: str | None = None) -> None:
        """DELETE productOrder/{id}: gone with its plan and open requests (plain v4); the FIT profile keeps every
        order (409)."""
        with self._store.unit_of_work(sandbox) as uow:
            p = self.profile_for(uow, profile)
            order = self._stored_order(uow, order_id)
            if not p.deletable:
                raise Conflict(
                    f"productOrder {order_id}: the {p.name} profile keeps every order (state {order['state']!r}); "
                    "cancel it with POST /cancelProductOrder instead"
                )
            uow.delete(ORDER_KIND, order_id)
            uow.delete(INFO_REQUEST_KIND, order_id)
            drop_plan(uow, order_id)
            self._publish(uow, p, [ProductOrderDeleteEvent(order, self._stamp(self._clock.now(sandbox)))])

    def patch_order(
        self,
        sandbox: str,
        order_id: str,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        profile: str | None = None,
        *,
        v4_shapes: bool = False,
    ) -> dict[str, Any]:
        """A buyer's change: an RFC 7386 merge patch (an object) or an RFC 6902 JSON Patch (a list of operations).
        Refused on a final order and on attributes the seller owns or TMF622 does not know; emits one
        ProductOrderAttributeValueChangeEvent naming each changed attribute (none when nothing changed)."""
        self.progress_due(sandbox)
        now = self._stamp(self._clock.now(sandbox))
        with self._store.unit_of_work(sandbox) as uow:
            p = self.profile_for(uow, profile)
            self._plain_shapes(p, patch, v4_shapes)
            order = self._stored_order(uow, order_id)
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
                uow.put(ORDER_KIND, order_id, patched)
                self._publish(uow, p, [ProductOrderAttributeValueChangeEvent(patched, now, paths)])
                patched = self._resume_if_answered(uow, p, patched, given, now)
        return patched

    def _resume_if_answered(
        self, uow: SandboxUnit, p: Profile, order: dict[str, Any], given: Sequence[str], now: str
    ) -> dict[str, Any]:
        """The buyer has given everything the seller asked for: the order goes on (pending → inProgress, 0000) and a
        paused automatic plan runs on."""
        request = uow.get(INFO_REQUEST_KIND, str(order["id"]))
        updated, done = rules.answered(request, order, given, p.waiting_state) if request else (None, False)
        if updated is None:
            return order
        uow.put(INFO_REQUEST_KIND, str(order["id"]), updated)
        if not done:
            return order
        resumed = self._to_state(uow, p, order, p.resume_state, p.resume_reason, now)
        set_plan_mode(uow, str(order["id"]), "auto", self._clock.now(uow.sandbox).timestamp() + self._delay)
        return resumed

    def require_information(
        self, sandbox: str, order_id: str, fields: Sequence[str], reason_code: str | None = None
    ) -> dict[str, Any]:
        """The seller needs information from the buyer (FIT): the order goes to `pending` (StateChangeEvent) and
        ProductOrderInformationRequiredEvent names each field; an automatic plan waits. The buyer's merge patches
        that give every field let the order go on."""
        now = self._stamp(self._clock.now(sandbox))
        with self._store.unit_of_work(sandbox) as uow:
            p = self.profile_for(uow)
            order = self._stored_order(uow, order_id)
            pending = self._to_state(uow, p, order, p.waiting_state, reason_code, now)
            paths = documents.information_paths(pending, fields)
            self._publish(uow, p, [ProductOrderInformationRequiredEvent(pending, now, paths)])
            uow.put(INFO_REQUEST_KIND, order_id, {"fields": list(fields), "answered": [], "at": now})
            set_plan_mode(uow, order_id, "paused")
        return pending

    # cancellation
    def cancel(
        self, sandbox: str, order_id: str, reason: str | None = None, profile: str | None = None
    ) -> dict[str, Any]:
        """CancelProductOrder, by the profile's cancellation rules (rules.cancellation): the task, the order's path
        to cancelled or the refusal, and their events, in one unit of work."""
        self.progress_due(sandbox)
        now = self._stamp(self._clock.now(sandbox))
        task_id = self._ids.uuid()
        with self._store.unit_of_work(sandbox) as uow:
            p = self.profile_for(uow, profile)
            order = uow.get(ORDER_KIND, order_id)
            if order is None:
                raise NotFound(f"$.productOrder.id: no productOrder with id {order_id!r}")
            outcome = rules.cancellation(p, order, task_id, reason, now)
            if outcome.order is not None:
                uow.put(ORDER_KIND, order_id, outcome.order)
                drop_plan(uow, order_id)
            self._publish(uow, p, outcome.events)
            uow.insert(TASK_KIND, task_id, outcome.task)
        return outcome.task
