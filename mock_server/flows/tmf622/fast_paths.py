"""TMF622's plain requests answered in front of connexion: GET productOrder/{id} (http/fast_read.py) and POST
productOrder (http/fast_path.py), each with the body and headers the handler's path gives (the stored order, v4's own
shapes in a plain sandbox, hrefs and Location absolute for the request's base), serialised as connexion serialises
it. A per-request profile, a preference, a query (`fields`) or a fault go the normal way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pruefstand.contracts import SchemaValidator, Spec
from pruefstand.mock_server.flows.mounting import FastPath, FastRead
from pruefstand.mock_server.flows.tmf622.buyer import NewOrder
from pruefstand.mock_server.flows.tmf622.documents import PLAIN_PROFILE, plain_v4
from pruefstand.mock_server.flows.tmf622.hrefs import absolute
from pruefstand.mock_server.flows.tmf622.profile import PROFILE_HEADER
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.kernel.call import request_base
from pruefstand.mock_server.store import SandboxUnit, UnitOfWork

_JSON = "application/json"


_PER_REQUEST = frozenset({PROFILE_HEADER.lower()})  # a profile chosen per request: the handlers' path


def order_reader(orders: OrderService, prefix: str) -> FastRead:
    """GET productOrder/{id}: the stored order as the handler shows it."""

    def read(sandbox: str, order_id: str, headers: Mapping[str, str]) -> bytes | None:
        order = orders.order(sandbox, order_id)  # NotFound: the normal path answers it, in TMF630's shape
        shown = plain_v4(order) if orders.plain(sandbox, None) else order
        return (json.dumps(absolute(shown, request_base(headers))) + "\n").encode("utf-8")

    return FastRead(prefix=prefix, read=read, declined=_PER_REQUEST)


def order_creation(orders: OrderService, spec: Spec, path: str) -> FastPath:
    """POST productOrder: the order created as the handler creates it (v4's shapes taken, in the sandbox's profile),
    answered with the order as the handler shows it and its absolute Location."""
    operation = spec.operation("createProductOrder")

    def prepare(sandbox: str, body: Mapping[str, Any]) -> NewOrder:
        return orders.prepare_order(sandbox, body, v4_shapes=True)

    def present(
        uow: UnitOfWork, sandbox: str, order: Mapping[str, Any], headers: Mapping[str, str]
    ) -> tuple[Any, list[tuple[bytes, bytes]]]:
        base = request_base(headers)
        plain = orders.profile_for(SandboxUnit(uow, sandbox)).name == PLAIN_PROFILE
        location = base + str(order["href"])
        return absolute(plain_v4(order) if plain else order, base), [(b"location", location.encode("latin-1"))]

    return FastPath(
        path=path,
        body_violations=SchemaValidator(operation["requestBody"]["content"][_JSON]["schema"]).violations,
        answer_violations=SchemaValidator(operation["responses"]["201"]["content"][_JSON]["schema"]).violations,
        prepare=prepare,
        apply=orders.apply_order,
        present=present,
        declined=frozenset({"prefer", *_PER_REQUEST}),
        takes_query=False,
    )
