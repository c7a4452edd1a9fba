"""GET productOrder/{id} in the plain case, answered in front of connexion (http/fast_read.py): the body the
handler's path gives (the stored order, v4's own shapes in a plain sandbox, hrefs absolute for the request's base),
serialised as connexion serialises it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from pruefstand.mock_server.flows.tmf622.documents import plain_v4
from pruefstand.mock_server.flows.tmf622.hrefs import absolute
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.kernel.call import request_base


def order_reader(orders: OrderService) -> Callable[[str, str, Mapping[str, str]], bytes | None]:
    def read(sandbox: str, order_id: str, headers: Mapping[str, str]) -> bytes | None:
        order = orders.order(sandbox, order_id)  # NotFound: the normal path answers it, in TMF630's shape
        shown = plain_v4(order) if orders.plain(sandbox, None) else order
        return (json.dumps(absolute(shown, request_base(headers))) + "\n").encode("utf-8")

    return read
