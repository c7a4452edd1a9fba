"""The TMF622 flow's admin operations (specs/tmf622/admin.yaml): profile, inventory, and driving the seller."""

from __future__ import annotations

from typing import Any

from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.kernel.answers import Answer, json_answer


class Tmf622Admin:
    def __init__(self, orders: OrderService) -> None:
        self._orders = orders

    def operations(self) -> dict[str, Any]:
        return {
            "get_tmf622_profile": self.get_tmf622_profile,
            "set_tmf622_profile": self.set_tmf622_profile,
            "get_tmf622_inventory": self.get_tmf622_inventory,
            "seed_tmf622_inventory": self.seed_tmf622_inventory,
            "create_tmf622_termination": self.create_tmf622_termination,
            "set_tmf622_state": self.set_tmf622_state,
            "add_tmf622_supplier_contact": self.add_tmf622_supplier_contact,
            "set_tmf622_termination_date": self.set_tmf622_termination_date,
            "run_tmf622_next_step": self.run_tmf622_next_step,
            "add_tmf622_milestone": self.add_tmf622_milestone,
            "require_tmf622_information": self.require_tmf622_information,
        }

    async def get_tmf622_profile(self, sandbox: str) -> Answer:
        return json_answer(self._orders.profile_state(sandbox))

    async def set_tmf622_profile(self, sandbox: str, body: dict[str, Any]) -> Answer:
        return json_answer(self._orders.choose_profile(sandbox, str(body["profile"])))

    async def get_tmf622_inventory(self, sandbox: str) -> Answer:
        return json_answer(self._orders.inventory.holding(sandbox))

    async def seed_tmf622_inventory(self, sandbox: str, body: dict[str, Any]) -> Answer:
        return json_answer(self._orders.inventory.seed(sandbox, body.get("agreements", []), body.get("products", [])))

    async def create_tmf622_termination(self, sandbox: str, body: dict[str, Any]) -> Answer:
        delay = body.get("stepDelaySeconds")
        order = self._orders.terminate_by_seller(
            sandbox,
            body["buyer"],
            body["productId"],
            requested=body["requestedCompletionDate"],
            external_id=body.get("externalId"),
            category=body.get("category", "terminationBySeller"),
            order_posted=body.get("orderPostedDate"),
            mode=body.get("progress", "manual"),
            delay=delay,
            expected_completion=body.get("expectedCompletionDate"),
            termination_date=body.get("terminationDate"),
        )
        return json_answer(order, 201)

    async def set_tmf622_state(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        changed = self._orders.change_state(
            sandbox, order_id, body["state"], body.get("reasonCode"), state_change_date=body.get("stateChangeDate")
        )
        return json_answer(changed)

    async def add_tmf622_supplier_contact(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        order = self._orders.add_supplier_contact(
            sandbox, order_id, body["expectedCompletionDate"], body.get("contact")
        )
        return json_answer(order)

    async def set_tmf622_termination_date(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        return json_answer(self._orders.set_termination_date(sandbox, order_id, body["terminationDate"]))

    async def add_tmf622_milestone(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        return json_answer(self._orders.add_milestone(sandbox, order_id, body["name"], body.get("message")))

    async def require_tmf622_information(self, sandbox: str, order_id: str, body: dict[str, Any]) -> Answer:
        return json_answer(self._orders.require_information(sandbox, order_id, body["fields"], body.get("reasonCode")))

    async def run_tmf622_next_step(self, sandbox: str, order_id: str, body: dict[str, Any] | None = None) -> Answer:
        return json_answer(self._orders.run_next(sandbox, order_id, (body or {}).get("stateChangeDate")))
