"""TMF622 v5 over HTTP: the same orders as v4, at /tmf-api/productOrderingManagement/v5, validated against the
contract derived from the official v5.0.0 OAS (specs/tmf622/product-ordering-v5.json).

Not mounted through connexion: v5's schemas are recursive (a Product holds Products) and connexion inlines every
`$ref`; these routes validate with lazy `$ref` resolution instead (contracts.derived_contract.schema_ref), with the
same body guards as the connexion APIs (size, media type, UTF-8, depth). Answers and events are v5 views of the
stored documents (flows/tmf622/v5.py); the tests check them against the official v5 schemas.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pruefstand.contracts import MalformedMessage, SchemaValidator, Violation, bundled_spec_path, load_spec
from pruefstand.contracts.derived_contract import schema_ref
from pruefstand.contracts.json_body import parse_json_body
from pruefstand.mock_server.flows.tmf622 import documents, v5
from pruefstand.mock_server.flows.tmf622.hrefs import absolute, absolute_location
from pruefstand.mock_server.flows.tmf622.hub import EventContractError
from pruefstand.mock_server.flows.tmf622.profile import PROFILE_HEADER
from pruefstand.mock_server.flows.tmf622.service import OrderService, patch_refusals
from pruefstand.mock_server.flows.tmf622.tmf630 import (
    content_range,
    filter_violations,
    parse_filters,
    select_fields,
    sort_violations,
)
from pruefstand.mock_server.kernel.call import request_base
from pruefstand.mock_server.kernel.errors import BadRequest
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER, sandbox_name

_ORDER_JSON = ("application/json",)
_PATCH_JSON = ("application/merge-patch+json", "application/json")
_JSON_PATCH = "application/json-patch+json"
_VALIDATED = ("ProductOrder_FVO", "ProductOrder_MVO", "CancelProductOrder_FVO", "Hub_FVO", "JsonPatchOperations")


class V5Routes:
    def __init__(self, orders: OrderService, contract_path: Path, *, max_depth: int) -> None:
        self._orders = orders
        self.contract: dict[str, Any] = json.loads(contract_path.read_text(encoding="utf-8"))
        self._max_depth = max_depth
        self._validators = {
            name: SchemaValidator(schema_ref(self.contract, f"#/components/schemas/{name}")) for name in _VALIDATED
        }
        # one store for v4 and v5: an order must also be a valid v4 order, or its v4 events could not be sent
        v4 = load_spec(bundled_spec_path("tmf622/product-ordering.yaml"))
        self._v4_create = SchemaValidator(_json_schema(v4.operation("createProductOrder")))
        self._v4_update = SchemaValidator(_json_schema(v4.operation("patchProductOrder")))
        self._task_attributes = {"id", "href", "@type", "state", "productOrder", "creationDate", "cancellationReason",
                                 "requestedCancellationDate", "effectiveCancellationDate"}  # fmt: skip

    def routes(self) -> list[Route]:
        base = v5.V5_BASE
        return [
            Route(f"{base}/productOrder", _absolute(self.list_orders), methods=["GET"]),
            Route(f"{base}/productOrder", _absolute(self.create_order), methods=["POST"]),
            Route(f"{base}/productOrder/{{id}}", _absolute(self.retrieve_order), methods=["GET"]),
            Route(f"{base}/productOrder/{{id}}", _absolute(self.patch_order), methods=["PATCH"]),
            Route(f"{base}/productOrder/{{id}}", _absolute(self.delete_order), methods=["DELETE"]),
            Route(f"{base}/cancelProductOrder", _absolute(self.list_tasks), methods=["GET"]),
            Route(f"{base}/cancelProductOrder", _absolute(self.create_task), methods=["POST"]),
            Route(f"{base}/cancelProductOrder/{{id}}", _absolute(self.retrieve_task), methods=["GET"]),
            Route(f"{base}/hub", _absolute(self.register), methods=["POST"]),
            Route(f"{base}/hub/{{id}}", _absolute(self.unregister), methods=["DELETE"]),
            Route(f"{base}/openapi.json", self._openapi, methods=["GET"]),
        ]

    async def _openapi(self, _request: Request) -> Response:
        return JSONResponse(self.contract)

    # orders
    async def list_orders(self, request: Request) -> Response:
        query, offset, limit, sort = self._listing(request, v5.ORDER_ATTRIBUTES)
        found, total = self._orders.orders(_sandbox(request), query, offset, limit, sort)
        return _page([v5.order_v5(o) for o in found], total, offset, request.query_params.get("fields"))

    async def create_order(self, request: Request) -> Response:
        body = await self._body(request, "ProductOrder_FVO", _ORDER_JSON)
        stored = v5.order_from_v5(body)
        self._representable(self._v4_create, stored)
        try:
            order = self._orders.create_order(_sandbox(request), stored, profile=_profile(request))
        except EventContractError as exc:
            raise _not_representable(exc) from exc
        shown = v5.order_v5(order)
        headers = {"Location": shown["href"]}
        return JSONResponse(_selected(shown, request.query_params.get("fields")), 201, headers=headers)

    async def retrieve_order(self, request: Request) -> Response:
        order = self._orders.order(_sandbox(request), request.path_params["id"])
        return JSONResponse(_selected(v5.order_v5(order), request.query_params.get("fields")))

    async def patch_order(self, request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == _JSON_PATCH:
            operations = await self._body(request, "JsonPatchOperations", (_JSON_PATCH,))
            changes = self._json_patch_as_merge(request, operations)
        else:
            body = await self._body(request, "ProductOrder_MVO", (*_PATCH_JSON, _JSON_PATCH))
            changes = v5.order_from_v5(body)
        self._representable(self._v4_update, {k: v for k, v in changes.items() if v is not None})
        try:
            patched = self._orders.patch_order(
                _sandbox(request), request.path_params["id"], changes, profile=_profile(request)
            )
        except EventContractError as exc:  # as for v4: the change cannot be applied to the order as it is (409)
            raise exc.conflict("orders are kept for v4 and v5 clients alike, and v4 events require it") from exc
        return JSONResponse(_selected(v5.order_v5(patched), request.query_params.get("fields")))

    @staticmethod
    def _representable(validator: SchemaValidator, stored: dict[str, Any]) -> None:
        """What v5 allows but v4 cannot hold (a note without text, a priority other than 0-4) is refused naming it:
        v4 clients read the same orders and v4 subscribers get their events."""
        violations = validator.violations(stored)
        if violations:
            raise BadRequest(
                [
                    Violation(v.path, f"{v.message} (orders are kept for v4 and v5 clients alike, and v4 requires it)")
                    for v in violations
                ]
            )

    def _json_patch_as_merge(self, request: Request, operations: Any) -> dict[str, Any]:
        """An RFC 6902 JSON Patch addresses the order as v5 shows it: applied to that view, the first-level
        attributes it changed become a merge patch of the stored order (one path for both versions' rules)."""
        shown = v5.order_v5(self._orders.order(_sandbox(request), request.path_params["id"]))
        with patch_refusals("the order"):
            patched, _paths, changed = documents.json_patched(shown, operations)
        kept = {key: patched[key] for key in changed if key in patched}
        violations = self._validators["ProductOrder_MVO"].violations({"@type": "ProductOrder", **kept})
        if violations:
            raise BadRequest(violations, prefix="Not patchable")
        return {**v5.order_from_v5(kept), **{key: None for key in changed if key not in patched}}

    async def delete_order(self, request: Request) -> Response:
        self._orders.delete_order(_sandbox(request), request.path_params["id"], profile=_profile(request))
        return Response(status_code=204)

    # cancellations
    async def list_tasks(self, request: Request) -> Response:
        query, offset, limit, sort = self._listing(request, self._task_attributes)
        found, total = self._orders.tasks(_sandbox(request), query, offset, limit, sort)
        return _page([v5.task_v5(t) for t in found], total, offset, request.query_params.get("fields"))

    async def create_task(self, request: Request) -> Response:
        body = await self._body(request, "CancelProductOrder_FVO", _ORDER_JSON)
        task = self._orders.cancel(
            _sandbox(request), str(body["productOrder"]["id"]), body.get("cancellationReason"), _profile(request)
        )
        shown = v5.task_v5(task)
        return JSONResponse(shown, 201, headers={"Location": shown["href"]})

    async def retrieve_task(self, request: Request) -> Response:
        task = self._orders.task(_sandbox(request), request.path_params["id"])
        return JSONResponse(_selected(v5.task_v5(task), request.query_params.get("fields")))

    # hub
    async def register(self, request: Request) -> Response:
        body = await self._body(request, "Hub_FVO", _ORDER_JSON)
        subscription = self._orders.hub.register(
            _sandbox(request), body["callback"], body.get("query"), attributes=v5.ORDER_ATTRIBUTES, version="v5"
        )
        location = f"{v5.V5_BASE}/hub/{subscription['id']}"
        return JSONResponse(v5.subscription_v5(subscription), 201, headers={"Location": location})

    async def unregister(self, request: Request) -> Response:
        self._orders.hub.unregister(_sandbox(request), request.path_params["id"])
        return Response(status_code=204)

    # parsing
    async def _body(self, request: Request, schema: str, media_types: tuple[str, ...]) -> Any:
        """The JSON body, valid against the contract's schema (an object, or a list for a JSON Patch)."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in media_types:  # 400, not 415: the v5 contract (and TMF630) documents no 415
            raise BadRequest(
                [
                    Violation(
                        "header.Content-Type",
                        f"{media_type or '(none)'} is not taken here; send {' or '.join(media_types)}",
                    )
                ]
            )
        try:
            body = parse_json_body(await request.body(), max_depth=self._max_depth, refuse_nul=True)
        except MalformedMessage as exc:
            raise BadRequest([Violation("$", str(exc))]) from exc
        violations = self._validators[schema].violations(body)
        if violations:
            raise BadRequest(violations)
        return body

    def _listing(
        self, request: Request, attributes: set[str] | frozenset[str]
    ) -> tuple[dict[str, str], int | None, int | None, str | None]:
        params = dict(request.query_params)
        offset, limit = _count(params, "offset", 0), _count(params, "limit", 1)
        sort = params.get("sort")
        query = {_v4_key(k): v for k, v in params.items()}
        violations = filter_violations(parse_filters(query), set(attributes), set())
        violations += sort_violations(sort, set(attributes))
        if violations:
            raise BadRequest(violations)
        return query, offset, limit, sort


def _v4_key(key: str) -> str:
    """A v5 filter key on the stored (v4-shaped) order: relatedParty.partyOrPartyRole.id is relatedParty.id."""
    return key.replace(".partyOrPartyRole.", ".")


def _count(params: Mapping[str, str], name: str, minimum: int) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or int(text) < minimum:  # len first: no huge int
        raise BadRequest([Violation(f"query parameter {name}", f"{text!r} is not an integer >= {minimum}")])
    return int(text)


def _absolute(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint's JSON answer with absolute hrefs and Location for the request's base (hrefs.py)."""

    @functools.wraps(endpoint)
    async def answering(request: Request) -> Response:
        response = await endpoint(request)
        if not isinstance(response, JSONResponse):
            return response
        base = request_base(request.headers)
        kept = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type", "location")}
        if "location" in response.headers:
            kept["Location"] = response.headers["location"]
        body = absolute(json.loads(bytes(response.body)), base)
        return JSONResponse(body, response.status_code, headers=absolute_location(kept, base))

    return answering


def _page(items: list[dict[str, Any]], total: int, offset: int | None, fields: str | None) -> Response:
    headers = content_range(offset or 0, len(items), total)
    shown = [_selected(item, fields) for item in items]
    # 200 with the range headers also for a part of the collection: the v5 contract documents no 206
    return JSONResponse(shown, 200, headers=headers)


def _selected(resource: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """TMF630 `fields`, keeping what v5 requires of every object: id, href and @type."""
    return select_fields(resource, fields, ("id", "href", "@type"))


def _sandbox(request: Request) -> str:
    return sandbox_name(request.headers.get(SANDBOX_HEADER))


def _profile(request: Request) -> str | None:
    return request.headers.get(PROFILE_HEADER) or None


def _not_representable(error: EventContractError) -> BadRequest:
    """A v5 order whose v4 event could not be sent (v5 lets it go without what v4 requires)."""
    return error.refusal("orders are kept for v4 and v5 clients alike, and v4 events require it")


def _json_schema(operation: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema
