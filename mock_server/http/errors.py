"""Every error leaves in the error shape its API documents; domain errors map to statuses here, in one place."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from pruefstand.contracts import MalformedMessage
from pruefstand.mock_server.http.allowed_methods import AllowedMethods
from pruefstand.mock_server.http.faults import InjectedFault
from pruefstand.mock_server.http.journal import CLIENT_GONE
from pruefstand.mock_server.kernel.error_shapes import ErrorShape, problem
from pruefstand.mock_server.kernel.errors import (
    BadRequest,
    Conflict,
    HeadersTooLarge,
    MockError,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    Unprocessable,
    UnsupportedMediaType,
)

logger = logging.getLogger(__name__)


_STATUS: dict[type[MockError], int] = {
    BadRequest: 400,
    Unauthenticated: 401,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    HeadersTooLarge: 431,
    Unprocessable: 422,
}


def render(shape: ErrorShape, status: int, message: str) -> ConnexionResponse:
    """An error answer in the shape an API documents."""
    body, media_type = shape(status, message)
    return ConnexionResponse(
        status_code=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        mimetype=media_type,
        content_type=media_type,
    )


@dataclass(frozen=True, slots=True)
class ErrorShapes:
    """Which renderer applies to a request path: the longest matching prefix wins."""

    by_prefix: Sequence[tuple[str, ErrorShape]]
    default: ErrorShape = problem

    def for_path(self, path: str) -> ErrorShape:
        for prefix, renderer in sorted(self.by_prefix, key=lambda item: -len(item[0])):
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return renderer
        return self.default


# The served app's shapes, for what is answered below the app (serving/http_protocol.py: a read deadline, a request
# the HTTP parser refuses). One app is served per worker process; set when it is wired.
_edge = ErrorShapes(())


def set_edge_shapes(shapes: ErrorShapes) -> None:
    global _edge  # one served app per process
    _edge = shapes


def edge_answer(path: str, status: int, message: str) -> tuple[bytes, str]:
    """An answer's body and media type in the shape of the API `path` belongs to."""
    body, media_type = _edge.for_path(path)(status, bounded(message))
    return json.dumps(body, ensure_ascii=False).encode(), media_type


# connexion's own wording where it names no place, said the way the rest of the mock says it.
_CONNEXION_DETAILS = {"RequestBody is required": "$: a JSON body is required"}


def status_and_message(exc: Exception) -> tuple[int, str]:
    """The HTTP status and the user-facing message of any exception that reaches the edge."""
    if isinstance(exc, MalformedMessage):
        return exc.status, f"Malformed request: {exc.reason}"
    if isinstance(exc, InjectedFault):
        return exc.status, str(exc)
    if isinstance(exc, MockError):
        for kind, status in _STATUS.items():
            if isinstance(exc, kind):
                return status, str(exc)
    if isinstance(exc, ProblemException):
        detail = exc.detail or exc.title or "request refused"
        detail = _CONNEXION_DETAILS.get(str(detail), detail)
        if exc.status == 400:
            detail = f"Validation Failed: {detail}"
        return int(exc.status), str(detail)
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail)
    if isinstance(exc, ClientDisconnect):  # nobody reads the answer; the journal keeps it as what it was
        return CLIENT_GONE, "the client closed the connection before its request was read"
    logger.error("unhandled error", exc_info=exc)
    return 500, "internal error; the mock's log has the details"


MAX_MESSAGE = 2000  # characters: a huge bad value is named, not echoed whole


def bounded(message: str) -> str:
    """The message, cut where it would echo a huge value back (and safe to encode as UTF-8)."""
    if len(message) > MAX_MESSAGE:
        message = f"{message[:MAX_MESSAGE]}… ({len(message) - MAX_MESSAGE} more characters cut)"
    return message.encode("utf-8", "replace").decode("utf-8")


REALM = "pruefstand"


def www_authenticate(path: str, headers: Mapping[str, str], message: str) -> str:
    """The challenge of a 401: RFC 6749 §5.2 at the token endpoint (the client authenticates with its credentials),
    RFC 6750 §3 elsewhere (`error="invalid_token"` when a token was presented, the realm alone when none was)."""
    if path.endswith("/oauth/token"):
        return f'Basic realm="{REALM}"'
    if not headers.get("authorization"):
        return f'Bearer realm="{REALM}"'
    description = message.split(": ", 1)[-1].replace('"', "'").replace("\\", "/")[:200]
    return f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'


def error_handler(
    shapes: ErrorShapes, allowed: AllowedMethods
) -> Callable[[ConnexionRequest, Exception], ConnexionResponse]:
    def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        status, message = status_and_message(exc)
        message = bounded(message)
        response = render(shapes.for_path(request.url.path), status, message)
        if status == 401:
            response.headers["WWW-Authenticate"] = www_authenticate(request.url.path, request.headers, message)
        if request.url.path.endswith("/oauth/token"):  # RFC 6749 §5.1: token endpoint answers are never cached
            response.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
        if status == 405:  # name every method the contract offers on this path (RFC 9110 §15.5.6)
            methods = list(allowed.for_path(request.url.path))
            extra = getattr(exc, "headers", None) or {}
            response.headers["Allow"] = ", ".join(methods) if methods else str(extra.get("Allow", ""))
        return response

    return handle
