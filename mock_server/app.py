"""The app factory: one ASGI app, every API mounted at its base path, state created here and passed in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import ProblemException
from connexion.middleware import MiddlewarePosition
from connexion.resolver import Resolver
from connexion.security import BearerSecurityHandler
from connexion.validators import VALIDATOR_MAP
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from pruefstand.contracts import (
    DispatchingValidator,
    MalformedMessage,
    SchemaValidator,
    Spec,
    bundled_spec_path,
    load_spec,
)
from pruefstand.mock_server.admin.handlers import AdminHandlers
from pruefstand.mock_server.allowed_methods import AllowedMethods
from pruefstand.mock_server.body_limit import BodyLimitMiddleware
from pruefstand.mock_server.body_validation import cached_json_response_validator, guarded_json_validator
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.delivery import DeliveryWorker, RetryPolicy, TargetPolicy
from pruefstand.mock_server.errors import MockError
from pruefstand.mock_server.example_responder import ExampleResolver
from pruefstand.mock_server.fast_path import FastTriggerMiddleware
from pruefstand.mock_server.faults import FaultMiddleware, FaultRules
from pruefstand.mock_server.flows.maco.auth import TokenService
from pruefstand.mock_server.flows.maco.callbacks import Backend, BackendCallbacks
from pruefstand.mock_server.flows.maco.events import catalog_from_validator
from pruefstand.mock_server.flows.maco.handlers import MacoHandlers
from pruefstand.mock_server.flows.maco.service import TriggerService
from pruefstand.mock_server.flows.quittung.amounts import Tariff
from pruefstand.mock_server.flows.quittung.handlers import ReceiptHandlers
from pruefstand.mock_server.flows.quittung.service import QuittungSettings, ReceiptService
from pruefstand.mock_server.flows.quittung.signing_unit import SigningUnit
from pruefstand.mock_server.flows.tmf622.documents import BASE as TMF622_BASE
from pruefstand.mock_server.flows.tmf622.handlers import OrderHandlers
from pruefstand.mock_server.flows.tmf622.plan_store import sandboxes_with_plans
from pruefstand.mock_server.flows.tmf622.profile import DEFAULT_PROFILE, load_profiles
from pruefstand.mock_server.flows.tmf622.seed_file import load_seed_file
from pruefstand.mock_server.flows.tmf622.service import OrderService
from pruefstand.mock_server.flows.tmf622.v5 import V5_BASE
from pruefstand.mock_server.flows.tmf622.v5_routes import V5Routes
from pruefstand.mock_server.http_errors import (
    ErrorShapes,
    Renderer,
    error_handler,
    event_fail,
    oauth_error,
    problem,
    quittung_error,
    tmf_error,
)
from pruefstand.mock_server.id_source import IdSource
from pruefstand.mock_server.journal import Journal, JournalMiddleware
from pruefstand.mock_server.operation_cache import cache_operations
from pruefstand.mock_server.parameter_validation import NamedParameterValidator
from pruefstand.mock_server.sandbox import SANDBOX_HEADER
from pruefstand.mock_server.served_spec import validated_elsewhere, with_sandbox_header, without_media_type_parameters
from pruefstand.mock_server.settings import Settings
from pruefstand.mock_server.store import Store, open_store
from pruefstand.mock_server.store.group_commit import GroupCommit
from pruefstand.mock_server.trailing_slash import TrailingSlashMiddleware

logger = logging.getLogger(__name__)

MACO_BASE = "/maco"
QUITTUNG_BASE = "/v2.0"
ADMIN_BASE = "/_admin"


class MockApp(AsyncApp):  # type: ignore[misc]
    """connexion's app, with the MaCo trigger's fast path (when on) in front of connexion's middleware: a request it
    answers meets none of the generic layers (each costs per request); it does their part itself (the journal, the
    fault rules, the size limits) and hands everything else to connexion unchanged."""

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is not None and scope["type"] == "http":
            await self.front(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


@dataclass(frozen=True)
class Services:
    """What the app factory wires together; tests reach the state through it."""

    store: Store
    clock: Clock
    tokens: TokenService
    triggers: TriggerService
    worker: DeliveryWorker
    orders: OrderService
    receipts: ReceiptService


def _bearer_handler(verify: Callable[[str, Any], Mapping[str, Any]]) -> type[BearerSecurityHandler]:
    """connexion's bearer handler bound to `verify(token, request)`, which raises Unauthenticated with the reason.

    connexion's generic check inspects the function's signature on every request; this one calls it directly.
    """

    class BoundBearerHandler(BearerSecurityHandler):  # type: ignore[misc]
        def _resolve_func(self, security_scheme: Mapping[str, Any]) -> Callable[..., Any]:
            return verify

        def _generic_check(self, func: Callable[..., Any], exception_msg: str) -> Callable[..., Any]:
            async def check(request: Any, token: str, required_scopes: Any = None) -> Mapping[str, Any]:
                token_info: Mapping[str, Any] = func(token, request)
                return token_info

            return check

    return BoundBearerHandler


def _operation_resolver(operations: Mapping[str, Callable[..., Any]]) -> Resolver:
    def function_for(operation_id: str) -> Callable[..., Any]:
        return operations[operation_id]

    return Resolver(function_resolver=function_for)


def _request_body_schema(spec: Spec, operation_id: str) -> Mapping[str, Any]:
    schema = spec.operation(operation_id)["requestBody"]["content"]["application/json"]["schema"]
    return dict(schema)


async def _progress_orders(orders: OrderService, store: Store, stop: asyncio.Event, every: float = 0.5) -> None:
    """The seller's automatic steps fall due on each sandbox's clock; look twice a second (the sandboxes with
    automatic plans come from the index; an admin clock advance runs what fell due at once)."""
    while not stop.is_set():
        for sandbox in sandboxes_with_plans(store):
            try:
                orders.progress_due(sandbox)
            except Exception:  # one sandbox's broken plan must not stop the others
                logger.exception("TMF622 progress in sandbox %s failed", sandbox)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


def _clock_source(settings: Settings) -> dict[str, Callable[[], float]]:
    """A fixed instant for every sandbox's clock when `clock_start` is set (it moves only through the admin API)."""
    if not settings.clock_start:
        return {}
    start = datetime.fromisoformat(settings.clock_start.replace("Z", "+00:00")).timestamp()
    return {"real": lambda: start}


def _add_validated_api(app: AsyncApp, document: dict[str, Any], **options: Any) -> None:
    """connexion validates every document it is given once more; ours were validated by `load_spec` (and cached
    by content hash), so that second pass (three quarters of building the app) is skipped."""
    with validated_elsewhere():
        app.add_api(document, **options)


def _with_sandbox_field(document: dict[str, Any]) -> dict[str, Any]:
    return with_sandbox_header(
        document,
        SANDBOX_HEADER,
        "pruefstand: the sandbox this request works in (mock only, a real implementation has no such header). "
        "Letters, digits, '.', '_', '-', up to 64. Without it: the sandbox the bearer token was issued in, else "
        "`default`. Use one per test or per person, so nobody sees anyone else's data.",
    )


def create_app(settings: Settings, *, store: Store | None = None, clock: Clock | None = None) -> AsyncApp:
    """Build the mock. `store`/`clock` default to SQLite at `settings.db` and the real clock."""
    owns_store = store is None
    store = store if store is not None else open_store(settings.db)
    clock = clock if clock is not None else Clock(store, **_clock_source(settings))
    ids = IdSource(settings.id_seed)

    maco_spec = load_spec(bundled_spec_path("maco/trigger.yaml"))
    backend_spec = load_spec(bundled_spec_path("maco/backend.yaml"))
    targets = TargetPolicy.from_patterns(settings.allow_hosts())
    worker = DeliveryWorker(
        store.outbox,
        RetryPolicy(
            base=settings.delivery_backoff_base_ms / 1000,
            cap=settings.delivery_backoff_cap_ms / 1000,
            max_attempts=settings.delivery_max_attempts,
        ),
        targets=targets,
    )
    store.on_publish(worker.wake)
    m = settings.maco
    callbacks = BackendCallbacks(
        store, backend_spec, Backend(m.backend_url, m.backend_token) if m.backend_url else None, targets
    )
    admin_spec = load_spec(bundled_spec_path("admin/admin.yaml"))
    catalog = catalog_from_validator(DispatchingValidator(_request_body_schema(maco_spec, "inbound")))
    tokens = TokenService(store, clock, settings.maco)
    triggers = TriggerService(
        store,
        clock,
        catalog,
        strict_check_digits=settings.maco.strict_check_digits,
        conflict_on_reuse=settings.maco.idempotency == "conflict",
        callbacks=callbacks,
        ids=ids,
    )
    tmf622_spec = load_spec(bundled_spec_path("tmf622/product-ordering.yaml"))
    profiles = load_profiles(Path(settings.tmf622_profile) if settings.tmf622_profile else DEFAULT_PROFILE)
    orders = OrderService(
        store,
        clock,
        profiles,
        load_spec(bundled_spec_path("tmf622/listener.yaml")),
        step_delay=settings.tmf622_step_delay,
        timezone=settings.tmf622_timezone,
        buyer_progress=settings.tmf622_buyer_progress,
        append_listener_path=settings.tmf622_callback == "listener",
        targets=targets,
        ids=ids,
        default_profile=settings.tmf622_default_profile,
    )
    quittung_spec = load_spec(bundled_spec_path("quittung/quittung.yaml"))
    receipts = ReceiptService(
        store,
        clock,
        SigningUnit(store, ids),
        QuittungSettings(
            tariff=Tariff(Decimal(settings.quittung_energy_price_ct), Decimal(settings.quittung_base_price_eur)),
            client_id=settings.quittung_client_id,
            strict=settings.quittung_strict,
        ),
        ids,
    )
    maco = MacoHandlers(tokens, triggers)
    admin_spec_inventory = admin_spec.document["components"]["schemas"]["Tmf622Inventory"]
    if settings.tmf622_seed:
        load_seed_file(Path(settings.tmf622_seed), orders, admin_spec_inventory)
    journal = Journal(store, settings.journal_size)
    faults = FaultRules(store)
    admin = AdminHandlers(
        store, clock, triggers, callbacks, settings.with_admin_token().admin_token, orders, worker.wake, journal, faults
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        stop = asyncio.Event()
        delivering = asyncio.create_task(worker.run_forever(stop))
        progressing = asyncio.create_task(_progress_orders(orders, store, stop))
        journaling = asyncio.create_task(journal.run_forever(stop))
        yield
        stop.set()
        await delivering
        await progressing
        await journaling
        if owns_store:  # a store handed in belongs to the caller, who may start the app again
            store.close()
            logger.warning("pruefstand stopped cleanly; state kept in %s", settings.db)

    # A client's malformed form is the client's error, answered with a 400; connexion logs it as an error of ours.
    logging.getLogger("connexion.validators.form_data").setLevel(logging.CRITICAL)
    app = MockApp(__name__, lifespan=lifespan)
    cache_operations(app)
    app.services = Services(
        store=store, clock=clock, tokens=tokens, triggers=triggers, worker=worker, orders=orders, receipts=receipts
    )
    validator_map = dict(VALIDATOR_MAP)
    validator_map["body"] = MediaTypeDict(
        {**VALIDATOR_MAP["body"], "*/*json": guarded_json_validator(max_depth=settings.max_depth)}
    )
    validator_map["parameter"] = NamedParameterValidator
    validator_map["response"] = MediaTypeDict(
        {**VALIDATOR_MAP["response"], "*/*json": cached_json_response_validator()}
    )
    common: dict[str, Any] = {
        "validate_responses": True,
        "validator_map": validator_map,
        "strict_validation": True,
    }
    _add_validated_api(
        app,
        _with_sandbox_field(maco_spec.document),
        base_path=MACO_BASE,
        name="maco",
        resolver=_operation_resolver(maco.operations()),
        security_map={"bearer": _bearer_handler(maco.verify_bearer)},
        pythonic_params=True,
        # RFC 6749 §3.2: unknown token request parameters are ignored, and so are unknown query parameters here.
        **{**common, "strict_validation": False},
    )
    _add_validated_api(
        app,
        admin_spec.document,
        base_path=ADMIN_BASE,
        name="admin",
        resolver=_operation_resolver(admin.operations()),
        pythonic_params=True,
        security_map={"bearer": _bearer_handler(admin.verify_bearer)},
        **common,
    )
    _add_validated_api(
        app,
        _with_sandbox_field(tmf622_spec.document),
        base_path=TMF622_BASE,
        name="tmf622",
        resolver=_operation_resolver(OrderHandlers(orders, tmf622_spec).operations()),
        pythonic_params=True,
        # TMF630 attribute filters are query parameters the contract cannot list.
        **{**common, "strict_validation": False},
    )
    _add_validated_api(
        app,
        _with_sandbox_field(quittung_spec.document),
        base_path=QUITTUNG_BASE,
        name="quittung",
        resolver=_operation_resolver(ReceiptHandlers(receipts).operations()),
        pythonic_params=True,
        **common,
    )
    # TMF622 v5: the same orders, validated against the contract derived from the official v5 OAS (own routes: its
    # recursive schemas cannot be inlined by connexion; errors in the same TMF shape)
    v5_routes = V5Routes(orders, bundled_spec_path("tmf622/product-ordering-v5.json"), max_depth=settings.max_depth)
    for route in v5_routes.routes():
        app.add_url_rule(
            route.path,
            f"tmf622-v5 {route.path} {sorted(route.methods or ())}",
            route.endpoint,
            methods=sorted(route.methods or ()),
        )
    allowed = AllowedMethods()
    allowed.add_api(QUITTUNG_BASE, quittung_spec.document)
    allowed.add_api(MACO_BASE, maco_spec.document)
    allowed.add_api(ADMIN_BASE, admin_spec.document)
    allowed.add_api(TMF622_BASE, tmf622_spec.document)
    allowed.add_api(V5_BASE, v5_routes.contract)
    shapes: list[tuple[str, Renderer]] = [
        (MACO_BASE + "/oauth/token", oauth_error),
        (MACO_BASE, event_fail),
        (ADMIN_BASE, problem),
        (TMF622_BASE, tmf_error),
        (V5_BASE, tmf_error),
        (QUITTUNG_BASE, quittung_error),
    ]
    for extra in settings.extra_apis:
        spec = load_spec(extra.spec, resolve="external")
        _add_validated_api(
            app,
            without_media_type_parameters(spec.document),
            base_path=extra.base_path,
            name=extra.base_path.strip("/") or "root",
            resolver=ExampleResolver(),
            validator_map=validator_map,
            validate_responses=False,
        )
        shapes.append((extra.base_path, problem))
        allowed.add_api(extra.base_path, spec.document)

    async def healthz(*_args: Any, **_kwargs: Any) -> JSONResponse:
        return JSONResponse({"status": "ok", "worker": os.getpid()})  # which worker process answered

    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    handler = error_handler(ErrorShapes(shapes), allowed)
    for kind in (MockError, MalformedMessage, ProblemException, HTTPException, Exception):
        app.add_error_handler(kind, handler)
    app.add_middleware(JournalMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, journal=journal)
    app.add_middleware(FaultMiddleware, position=MiddlewarePosition.BEFORE_SWAGGER, rules=faults)
    app.add_middleware(
        BodyLimitMiddleware, position=MiddlewarePosition.BEFORE_SWAGGER, max_bytes=settings.max_body_bytes
    )
    app.add_middleware(TrailingSlashMiddleware, position=MiddlewarePosition.BEFORE_SWAGGER)
    if settings.fast_path:
        inbound = maco_spec.operation("inbound")
        body_schema = inbound["requestBody"]["content"]["application/json"]["schema"]
        answer_schema = inbound["responses"]["201"]["content"]["application/json"]["schema"]
        app.front = FastTriggerMiddleware(
            app.middleware,  # what the fast path does not answer goes through connexion's whole stack
            journal=journal,
            faults=faults,
            max_body_bytes=settings.max_body_bytes,
            path=f"{MACO_BASE}/inbound",
            verify=maco.verify_bearer,
            body_violations=DispatchingValidator(body_schema).violations,
            answer_violations=SchemaValidator(answer_schema).violations,
            prepare=triggers.prepare,
            apply=triggers.apply,
            commits=GroupCommit(store),
            max_depth=settings.max_depth,
        )
    return app
