"""HTTP handlers of the TMF622 API (seller side), bound by operationId: parse, call the service, shape the answer
with the TMF630 conventions (fields, filters, paging headers, Location)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connexion.context import request

from mock_server.flows.tmf622.documents import BASE
from mock_server.flows.tmf622.service import OrderService
from mock_server.sandbox import SANDBOX_HEADER, sandbox_name
from mock_server.tmf630 import select_fields

Answer = tuple[Any, int, dict[str, str]]


def _sandbox() -> str:
    return sandbox_name(request.headers.get(SANDBOX_HEADER))


def _query() -> dict[str, str]:
    return {key: str(value) for key, value in request.query_params.items()}


def _listed(found: tuple[list[dict[str, Any]], int], fields: str | None) -> Answer:
    shown, total = found
    headers = {"X-Total-Count": str(total), "X-Result-Count": str(len(shown)), "Content-Type": "application/json"}
    return [select_fields(item, fields) for item in shown], 200, headers


def _created(resource: Mapping[str, Any], fields: str | None = None) -> Answer:
    return select_fields(resource, fields), 201, {"Location": str(resource["href"]), "Content-Type": "application/json"}


class OrderHandlers:
    def __init__(self, orders: OrderService) -> None:
        self._orders = orders

    def operations(self) -> dict[str, Any]:
        return {
            "listProductOrder": self.list_orders,
            "createProductOrder": self.create_order,
            "retrieveProductOrder": self.retrieve_order,
            "patchProductOrder": self.patch_order,
            "listCancelProductOrder": self.list_tasks,
            "createCancelProductOrder": self.create_task,
            "retrieveCancelProductOrder": self.retrieve_task,
            "registerListener": self.register,
            "unregisterListener": self.unregister,
        }

    async def list_orders(
        self, fields: str | None = None, offset: int | None = None, limit: int | None = None
    ) -> Answer:
        return _listed(self._orders.orders(_sandbox(), _query(), offset, limit), fields)

    async def create_order(self, body: dict[str, Any], fields: str | None = None) -> Answer:
        return _created(self._orders.create_order(_sandbox(), body), fields)

    async def retrieve_order(self, fields: str | None = None, **path: str) -> Answer:
        order = self._orders.order(_sandbox(), _id(path))
        return select_fields(order, fields), 200, {"Content-Type": "application/json"}

    async def patch_order(self, body: dict[str, Any], **path: str) -> Answer:
        return self._orders.patch_order(_sandbox(), _id(path), body), 200, {"Content-Type": "application/json"}

    async def list_tasks(
        self, fields: str | None = None, offset: int | None = None, limit: int | None = None
    ) -> Answer:
        return _listed(self._orders.tasks(_sandbox(), _query(), offset, limit), fields)

    async def create_task(self, body: dict[str, Any]) -> Answer:
        order_id = str(body["productOrder"]["id"])
        return _created(self._orders.cancel(_sandbox(), order_id, body.get("cancellationReason")))

    async def retrieve_task(self, fields: str | None = None, **path: str) -> Answer:
        task = self._orders.task(_sandbox(), _id(path))
        return select_fields(task, fields), 200, {"Content-Type": "application/json"}

    async def register(self, body: dict[str, Any]) -> Answer:
        subscription = self._orders.hub.register(_sandbox(), body["callback"], body.get("query"))
        location = f"{BASE}/hub/{subscription['id']}"
        return subscription, 201, {"Location": location, "Content-Type": "application/json"}

    async def unregister(self, **path: str) -> tuple[None, int]:
        self._orders.hub.unregister(_sandbox(), _id(path))
        return None, 204


def _id(path: Mapping[str, str]) -> str:
    """connexion names the path parameter `id_` with pythonic parameters (id is a builtin)."""
    return str(path.get("id_") or path.get("id"))
