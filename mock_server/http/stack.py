"""The HTTP stack of the mock, declared once, outermost first:

1. the fast path (when a flow has one): a request it answers meets none of the layers below; it does their part
   itself (size limits, fault rules, journal) and hands everything else on unchanged
2. connexion's own outer layers, then, in this order: the journal (every exchange per sandbox), the size limit
   (headers and body), the fault rules (latency, injected errors), the trailing-slash redirect
3. connexion's security, request validation (with the mock's guarded JSON, named-parameter and cached response
   validators), routing to the operation, response validation
4. the error handler: whatever reaches the edge leaves in the error shape its API documents (http/errors.py)
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.resolver import Resolver
from connexion.validators import VALIDATOR_MAP
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pruefstand.mock_server.http.body_limit import BodyLimitMiddleware
from pruefstand.mock_server.http.body_validation import cached_json_response_validator, guarded_json_validator
from pruefstand.mock_server.http.connexion_compat import (
    bearer_handler,
    current_call,
    current_form,
    validated_elsewhere,
)
from pruefstand.mock_server.http.faults import FaultMiddleware, FaultRules
from pruefstand.mock_server.http.journal import CLIENT_GONE, Journal, JournalMiddleware, journaled, record_exchange
from pruefstand.mock_server.http.parameter_validation import NamedParameterValidator
from pruefstand.mock_server.http.trailing_slash import TrailingSlashMiddleware


class MockApp(AsyncApp):  # type: ignore[misc]
    """connexion's app with an optional `front` (the fast path) before all of connexion's middleware.

    A client that goes away before its body arrived whole is a `ClientDisconnect` wherever the body is read (never a
    cut body taken for the whole: connexion's reader ends at the disconnect as at the body's end); connexion's error
    handler answers it (nobody reads that) and the journal keeps it as 499; from a front layer it is journaled here.
    """

    front: ASGIApp | None = None
    services: Any = None  # what the app factory built (store, clock, the flows' services), for tests
    journal: Journal | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        receive = _disconnect_raises(receive)
        try:
            if self.front is not None:
                await self.front(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
        except ClientDisconnect:
            if self.journal is not None and journaled(scope):
                record_exchange(self.journal, scope, b"", b"", {"status": CLIENT_GONE, "headers": ()}, 0.0)


def _disconnect_raises(receive: Receive) -> Receive:
    """`receive`, raising ClientDisconnect for a disconnect that comes before the body ended (after it, a disconnect is
    the message a streaming answer listens for)."""
    body_ended = False

    async def guarded() -> Message:
        nonlocal body_ended
        message = await receive()
        if message["type"] == "http.request":
            body_ended = body_ended or not message.get("more_body", False)
        elif message["type"] == "http.disconnect" and not body_ended:
            raise ClientDisconnect
        return message

    return guarded


@dataclass(frozen=True)
class Layer:
    """One middleware of the stack, where connexion places it, and its options."""

    name: str
    middleware: type
    position: MiddlewarePosition
    options: Mapping[str, Any]


def layers(journal: Journal, faults: FaultRules, max_body_bytes: int) -> list[Layer]:
    """The middleware between connexion's outer layers and its routing, in the order a request meets them."""
    return [
        Layer("journal", JournalMiddleware, MiddlewarePosition.BEFORE_EXCEPTION, {"journal": journal}),
        Layer("faults", FaultMiddleware, MiddlewarePosition.BEFORE_SWAGGER, {"rules": faults}),
        Layer("size limit", BodyLimitMiddleware, MiddlewarePosition.BEFORE_SWAGGER, {"max_bytes": max_body_bytes}),
        Layer("trailing slash", TrailingSlashMiddleware, MiddlewarePosition.BEFORE_SWAGGER, {}),
    ]


def install(app: AsyncApp, stack: list[Layer]) -> None:
    for layer in stack:
        app.add_middleware(layer.middleware, position=layer.position, **layer.options)


def validator_map(max_depth: int) -> dict[str, Any]:
    """connexion's validators, with the mock's: JSON bodies parsed once with a depth guard, parameters named in
    errors, response schemas compiled once."""
    validators = dict(VALIDATOR_MAP)
    validators["body"] = MediaTypeDict(
        {**VALIDATOR_MAP["body"], "*/*json": guarded_json_validator(max_depth=max_depth)}
    )
    validators["parameter"] = NamedParameterValidator
    validators["response"] = MediaTypeDict({**VALIDATOR_MAP["response"], "*/*json": cached_json_response_validator()})
    return validators


def with_call(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A handler that takes a `call` parameter gets the request as a `Call` (kernel/call.py); connexion reads the
    handler's own signature (through `__wrapped__`) and passes the contract's parameters as before."""
    if "call" not in inspect.signature(handler).parameters:
        return handler

    @functools.wraps(handler)
    async def bound(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("call", None)  # a query parameter of that name is not the request
        call = current_call()
        form = current_form()
        if form:
            call = dataclasses.replace(call, form=form)
        return await handler(*args, call=call, **kwargs)

    return bound


def operation_resolver(operations: Mapping[str, Callable[..., Any]]) -> Resolver:
    bound = {operation_id: with_call(handler) for operation_id, handler in operations.items()}

    def function_for(operation_id: str) -> Callable[..., Any]:
        return bound[operation_id]

    return Resolver(function_resolver=function_for)


def add_api(
    app: AsyncApp,
    document: dict[str, Any],
    *,
    base_path: str,
    name: str,
    operations: Mapping[str, Callable[..., Any]],
    validators: dict[str, Any],
    bearer: Callable[[str, Any], Mapping[str, Any]] | None = None,
    strict_validation: bool = True,
) -> None:
    """An API of the kit through connexion: operations bound by operationId, requests and responses validated.

    connexion validates every document it is given once more; ours were validated by `load_spec` (and cached by
    content hash), so that second pass (three quarters of building the app) is skipped."""
    security = {"bearer": bearer_handler(bearer)} if bearer is not None else None
    with validated_elsewhere():
        app.add_api(
            document,
            base_path=base_path,
            name=name,
            resolver=operation_resolver(operations),
            pythonic_params=True,
            validate_responses=True,
            validator_map=validators,
            strict_validation=strict_validation,
            **({"security_map": security} if security else {}),
        )


def add_example_api(
    app: AsyncApp, document: dict[str, Any], *, base_path: str, resolver: Resolver, validators: dict[str, Any]
) -> None:
    """A partner's contract, answered from its examples (requests validated, answers as documented)."""
    with validated_elsewhere():
        app.add_api(
            document,
            base_path=base_path,
            name=base_path.strip("/") or "root",
            resolver=resolver,
            validator_map=validators,
            validate_responses=False,
        )
