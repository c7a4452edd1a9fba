"""Absolute `href`s and `Location`s, as TMF630 clients expect: a resource is stored with its path
(`/tmf-api/productOrderingManagement/v4/productOrder/1`), and every answer names it with the base the client used to
reach the mock (proxy headers honoured: kernel/call.py `request_base`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pruefstand.mock_server.kernel.call import Call


def absolute(node: Any, base: str) -> Any:
    """`node` with every `href` that is a path made absolute under `base` (a new structure; `node` is not changed)."""
    if isinstance(node, Mapping):
        return {
            key: (base + value if key == "href" and isinstance(value, str) and value.startswith("/") else
                  absolute(value, base))
            for key, value in node.items()
        }  # fmt: skip
    if isinstance(node, list):
        return [absolute(item, base) for item in node]
    return node


def absolute_location(headers: Mapping[str, str], base: str) -> dict[str, str]:
    location = headers.get("Location")
    if location is None or not location.startswith("/"):
        return dict(headers)
    return {**headers, "Location": base + location}


def with_absolute_hrefs(
    handler: Callable[..., Awaitable[Any]], view: Callable[[Call, Any], Any] | None = None
) -> Callable[..., Awaitable[Any]]:
    """A handler's answer (body, status[, headers]) with absolute hrefs and Location, for the request's base; `view`
    shapes the body for the request first (the plain v4 profile's own shapes)."""

    @functools.wraps(handler)
    async def answering(*args: Any, call: Call, **kwargs: Any) -> Any:
        answer = await handler(*args, call=call, **kwargs)
        base = call.base_url()
        if not isinstance(answer, tuple) or answer[0] is None:
            return answer
        body, status, *rest = answer
        headers = [absolute_location(rest[0], base)] if rest else []
        shown = view(call, body) if view is not None and status < 300 else body
        return (absolute(shown, base), status, *headers)

    return answering
