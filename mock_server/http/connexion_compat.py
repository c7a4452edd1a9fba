"""Every place the mock reaches into connexion's internals, in one module. Written for connexion 3.3 (`WRITTEN_FOR`;
another version is logged at start as a warning: reread this file when connexion moves).

- Each operation's handler chain is built once instead of on every request. connexion 3's `AsyncOperation.fn` is a
  property that wraps the handler in its decorators (parameters, response, context) anew for every request,
  signature inspection included: about a fifth of the mock's time per request. The chain holds no per-request state
  (the request comes from context variables when it runs), so it is built once.
- Documents validated when they were loaded (and cached by content hash) are not validated again by `add_api`.
- A flow handler's `call` parameter (kernel/call.py) is filled from connexion's request context.
- The bearer check is called directly with (token, request) instead of connexion inspecting its signature per request.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import version
from typing import Any
from urllib.parse import parse_qsl

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import context, request
from connexion.security import BearerSecurityHandler
from connexion.spec import Specification

from pruefstand.mock_server.http.journal import FORM_KEY
from pruefstand.mock_server.kernel.call import Call

WRITTEN_FOR = "3.3"
_FOUND = version("connexion")
if not (_FOUND == WRITTEN_FOR or _FOUND.startswith(WRITTEN_FOR + ".")):
    logging.getLogger(__name__).warning("connexion patches written for %s, found connexion %s", WRITTEN_FOR, _FOUND)


class CachedAsyncOperation(AsyncOperation):  # type: ignore[misc]
    @functools.cached_property
    def fn(self) -> Callable[..., Any]:
        return super().fn  # type: ignore[no-any-return]


class CachedAsyncApi(AsyncApi):  # type: ignore[misc]
    def make_operation(self, operation: Any) -> AsyncOperation:
        return CachedAsyncOperation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


def cache_operations(app: AsyncApp) -> None:
    """Make every API added to `app` from now on build its handler chains once."""
    app._middleware_app.api_cls = CachedAsyncApi


@contextlib.contextmanager
def validated_elsewhere() -> Iterator[None]:
    """While the block runs, connexion takes the documents it is given as valid (they were validated when they were
    loaded). Used around `add_api` only, while the app is built (one thread)."""
    original = Specification.__dict__["_validate_spec"]
    Specification._validate_spec = classmethod(lambda _cls, _spec: None)
    try:
        yield
    finally:
        Specification._validate_spec = original


def bearer_handler(verify: Callable[[str, Any], Mapping[str, Any]]) -> type[BearerSecurityHandler]:
    """connexion's bearer handler bound to `verify(token, request)`, which raises Unauthenticated with the reason.

    connexion's generic check inspects the function's signature on every request; this one calls it directly.
    """

    class BoundBearerHandler(BearerSecurityHandler):  # type: ignore[misc]
        def _resolve_func(self, security_scheme: Mapping[str, Any]) -> Callable[..., Any]:  # noqa: ARG002 (the signature is the library's)
            return verify

        def _generic_check(self, func: Callable[..., Any], exception_msg: str) -> Callable[..., Any]:  # noqa: ARG002 (the signature is the library's)
            async def check(request: Any, token: str, required_scopes: Any = None) -> Mapping[str, Any]:  # noqa: ARG001 (the signature is the library's)
                token_info: Mapping[str, Any] = func(token, request)
                return token_info

            return check

    return BoundBearerHandler


def current_call() -> Call:
    """The request being answered, as a flow handler sees it."""
    token_info = context.get("token_info") or {}
    query = {key: str(value) for key, value in request.query_params.items()}
    return Call(headers=request.headers, query=query, token_info=token_info)


def current_form() -> tuple[tuple[str, str], ...]:
    """Every pair of a form body as sent, repeats included (the handler's parameters hold one value per name): from
    the copy the journal layer keeps of a form body as it passes (the body stream itself was read by the validator)."""
    raw = request.scope.get(FORM_KEY)
    if not raw:
        return ()
    return tuple(parse_qsl(bytes(raw).decode("utf-8", "replace"), keep_blank_values=True))
