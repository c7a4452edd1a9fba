"""Error bodies of the public standards the kit's APIs use: RFC 7807 problem+json, TMF630 Error, RFC 6749 §5.2.

Each is an ErrorShape: (status, message naming the field) -> (body, media type). A flow names its API's shape in its
mount; the HTTP layer renders whatever reaches the edge through it (http/errors.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

Body = tuple[Mapping[str, Any], str]
# An API's documented error body for a status and a message naming the field: (body, media type).
ErrorShape = Callable[[int, str], Body]


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"


def problem(status: int, message: str) -> Body:
    """RFC 7807 problem+json, for the admin API and contracts served from examples."""
    body = {"type": "about:blank", "title": _phrase(status), "status": status, "detail": message}
    return body, "application/problem+json"


def tmf_error(status: int, message: str) -> Body:
    """TMF630 Error {code, reason, message, status, @type}."""
    code = str(status)
    return {"code": code, "reason": _phrase(status), "message": message, "status": code, "@type": "Error"}, (
        "application/json"
    )


_OAUTH_CODES = {401: "invalid_client"}
_OAUTH_ERRORS = frozenset({"invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type"})


def oauth_error(status: int, message: str) -> Body:
    """Token endpoint: RFC 6749 §5.2 {error, error_description}; the code is taken from a `code:` message prefix."""
    prefix, _, rest = message.partition(":")
    if prefix in _OAUTH_ERRORS:
        code, description = prefix, rest.strip()
    else:
        code, description = _OAUTH_CODES.get(status, "invalid_request"), message
    return {"error": code, "error_description": description}, "application/json"
