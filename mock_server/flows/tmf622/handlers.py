"""HTTP handlers of the TMF622 API (seller side), bound by operationId: parse, call the service, shape the answer
with the TMF630 conventions (fields, filters, paging headers, Location)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pruefstand.contracts import Spec
from pruefstand.mock_server.flows.tmf622.documents import BASE, plain_v4
from pruefstand.mock_server.flows.tmf622.hrefs import with_absolute_hrefs
from pruefstand.mock_server.flows.tmf622.hub import EventContractError
from pruefstand.mock_server.flows.tmf622.profile import PROFILE_HEADER
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.flows.tmf622.tmf630 import (
    content_range,
    filter_violations,
    parse_filters,
    schema_attributes,
    select_fields,
    sort_violations,
)
from pruefstand.mock_server.kernel.call import Call
from pruefstand.mock_server.kernel.errors import BadRequest

Answer = tuple[Any, int, dict[str, str]]


def _profile(call: Call) -> str | None:
    """The profile this request asks for (`X-Pruefstand-Profile`), else the sandbox's."""
    return call.header(PROFILE_HEADER) or None


def _listed(found: tuple[list[dict[str, Any]], int], fields: str | None, offset: int | None) -> Answer:
    """200 with the whole collection, 206 with a part of it (TMF630), with the paging headers."""
    shown, total = found
    headers = {**content_range(offset or 0, len(shown), total), "Content-Type": "application/json"}
    return [select_fields(item, fields) for item in shown], 206 if len(shown) < total else 200, headers


def _created(resource: Mapping[str, Any], fields: str | None = None) -> Answer:
    return select_fields(resource, fields), 201, {"Location": str(resource["href"]), "Content-Type": "application/json"}


class OrderHandlers:
    def __init__(self, orders: OrderService, spec: Spec) -> None:
        self._orders = orders
        self._known = {
            name: schema_attributes(
                spec.operation(operation)["responses"]["200"]["content"]["application/json"]["schema"]
            )
            for name, operation in (("order", "retrieveProductOrder"), ("task", "retrieveCancelProductOrder"))
        }
        self._instants = {"order": {"orderDate"}, "task": set()}

    def _checked_query(self, call: Call, resource: str, sort: str | None) -> dict[str, str]:
        """The TMF630 filters of this request, refused (400) when they name an unknown attribute or a bad value."""
        query = dict(call.query)
        violations = filter_violations(parse_filters(query), self._known[resource], self._instants[resource])
        violations += sort_violations(sort, self._known[resource])
        if violations:
            raise BadRequest(violations)
        return query

    def operations(self) -> dict[str, Any]:
        """Each operation's handler; every answer names resources with absolute hrefs (hrefs.py)."""
        return {name: with_absolute_hrefs(handler, self._v4_view) for name, handler in self._handlers().items()}

    def _v4_view(self, call: Call, body: Any) -> Any:
        """In the plain TMF622 v4 profile an order shows v4's own shapes (documents.plain_v4)."""
        return plain_v4(body) if self._orders.plain(call.sandbox, _profile(call)) else body

    def _handlers(self) -> dict[str, Any]:
        return {
            "listProductOrder": self.list_orders,
            "createProductOrder": self.create_order,
            "retrieveProductOrder": self.retrieve_order,
            "patchProductOrder": self.patch_order,
            "deleteProductOrder": self.delete_order,
            "listCancelProductOrder": self.list_tasks,
            "createCancelProductOrder": self.create_task,
            "retrieveCancelProductOrder": self.retrieve_task,
            "registerListener": self.register,
            "unregisterListener": self.unregister,
        }

    async def list_orders(
        self,
        call: Call,
        fields: str | None = None,
        offset: int | None = None,
        limit: int | None = None,
        sort: str | None = None,
    ) -> Answer:
        query = self._checked_query(call, "order", sort)
        return _listed(self._orders.orders(call.sandbox, query, offset, limit, sort), fields, offset)

    async def create_order(self, call: Call, body: dict[str, Any], fields: str | None = None) -> Answer:
        try:
            order = self._orders.create_order(call.sandbox, body, profile=_profile(call), v4_shapes=True)
        except EventContractError as exc:  # attributes the request schema leaves open, in a shape no order can have
            raise exc.refusal("the order must be a valid ProductOrder") from exc
        return _created(order, fields)

    async def retrieve_order(self, call: Call, fields: str | None = None, **path: str) -> Answer:
        order = self._orders.order(call.sandbox, _id(path))
        return select_fields(order, fields), 200, {"Content-Type": "application/json"}

    async def patch_order(self, call: Call, body: dict[str, Any] | list[dict[str, Any]], **path: str) -> Answer:
        try:
            patched = self._orders.patch_order(call.sandbox, _id(path), body, profile=_profile(call), v4_shapes=True)
        except EventContractError as exc:  # a JSON Patch's values are free: the result must still be a ProductOrder
            raise exc.conflict("the order after the patch must still be a valid ProductOrder") from exc
        return patched, 200, {"Content-Type": "application/json"}

    async def delete_order(self, call: Call, **path: str) -> tuple[None, int]:
        self._orders.delete_order(call.sandbox, _id(path), profile=_profile(call))
        return None, 204

    async def list_tasks(
        self,
        call: Call,
        fields: str | None = None,
        offset: int | None = None,
        limit: int | None = None,
        sort: str | None = None,
    ) -> Answer:
        query = self._checked_query(call, "task", sort)
        return _listed(self._orders.tasks(call.sandbox, query, offset, limit, sort), fields, offset)

    async def create_task(self, call: Call, body: dict[str, Any]) -> Answer:
        order_id = str(body["productOrder"]["id"])
        return _created(
            self._orders.cancel(call.sandbox, order_id, body.get("cancellationReason"), profile=_profile(call))
        )

    async def retrieve_task(self, call: Call, fields: str | None = None, **path: str) -> Answer:
        task = self._orders.task(call.sandbox, _id(path))
        return select_fields(task, fields), 200, {"Content-Type": "application/json"}

    async def register(self, call: Call, body: dict[str, Any]) -> Answer:
        subscription = self._orders.hub.register(
            call.sandbox, body["callback"], body.get("query"), attributes=self._known["order"]
        )
        location = f"{BASE}/hub/{subscription['id']}"
        return subscription, 201, {"Location": location, "Content-Type": "application/json"}

    async def unregister(self, call: Call, **path: str) -> tuple[None, int]:
        self._orders.hub.unregister(call.sandbox, _id(path))
        return None, 204


def _id(path: Mapping[str, str]) -> str:
    """connexion names the path parameter `id_` with pythonic parameters (id is a builtin)."""
    return str(path.get("id_") or path.get("id"))
