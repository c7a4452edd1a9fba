"""Every error leaves in the error shape its API documents; domain errors map to statuses here, in one place."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from pruefstand.contracts import MalformedMessage
from pruefstand.mock_server.allowed_methods import AllowedMethods
from pruefstand.mock_server.errors import (
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
from pruefstand.mock_server.faults import InjectedFault

logger = logging.getLogger(__name__)

Renderer = Callable[[int, str], ConnexionResponse]

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


def _json(status: int, body: object, media_type: str = "application/json") -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        mimetype=media_type,
        content_type=media_type,
    )


def event_fail(status: int, message: str) -> ConnexionResponse:
    """MACO APP: EVENT_FAIL {errorCode, message}."""
    return _json(status, {"errorCode": str(status), "message": message})


_OAUTH_CODES = {401: "invalid_client"}
_OAUTH_ERRORS = frozenset({"invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type"})


def oauth_error(status: int, message: str) -> ConnexionResponse:
    """Token endpoint: RFC 6749 §5.2 {error, error_description}; the code is taken from a `code:` message prefix."""
    prefix, _, rest = message.partition(":")
    if prefix in _OAUTH_ERRORS:
        code, description = prefix, rest.strip()
    else:
        code, description = _OAUTH_CODES.get(status, "invalid_request"), message
    return _json(status, {"error": code, "error_description": description})


def tmf_error(status: int, message: str) -> ConnexionResponse:
    """TMF630 Error {code, reason, message, status, @type} for the TMF622 API."""
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return _json(
        status, {"code": str(status), "reason": reason, "message": message, "status": str(status), "@type": "Error"}
    )


def quittung_error(status: int, message: str) -> ConnexionResponse:
    """Strom-Quittung: `{err}` as the real service's clients read it (Node-RED checks `response.err`)."""
    return _json(status, {"err": message})


def problem(status: int, message: str) -> ConnexionResponse:
    """RFC 7807 problem+json, for the admin API and contracts served from examples."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = {"type": "about:blank", "title": title, "status": status, "detail": message}
    return _json(status, body, "application/problem+json")


@dataclass(frozen=True, slots=True)
class ErrorShapes:
    """Which renderer applies to a request path: the longest matching prefix wins."""

    by_prefix: Sequence[tuple[str, Renderer]]
    default: Renderer = problem

    def for_path(self, path: str) -> Renderer:
        for prefix, renderer in sorted(self.by_prefix, key=lambda item: -len(item[0])):
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return renderer
        return self.default


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
        response = shapes.for_path(request.url.path)(status, message)
        if status == 401:
            response.headers["WWW-Authenticate"] = www_authenticate(request.url.path, request.headers, message)
        if status == 405:  # name every method the contract offers on this path (RFC 9110 §15.5.6)
            methods = list(allowed.for_path(request.url.path))
            extra = getattr(exc, "headers", None) or {}
            response.headers["Allow"] = ", ".join(methods) if methods else str(extra.get("Allow", ""))
        return response

    return handle
