"""Serves the mounted flows through the HTTP stack: each flow's APIs (connexion or own routes), the admin API with the
flows' admin operations, partners' contracts from their examples, the health check, the error shapes, the fast paths.

The only module that knows both sides: flows (their `Flow` records) and the HTTP layer (`http/`).
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from connexion.exceptions import ProblemException
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse

from pruefstand.contracts import MalformedMessage, Spec, load_spec
from pruefstand.mock_server.admin.handlers import AdminHandlers
from pruefstand.mock_server.admin.stub_handlers import StubAdmin
from pruefstand.mock_server.flows.mounting import ConnexionApi, Flow, RoutedApi
from pruefstand.mock_server.http.allowed_methods import AllowedMethods
from pruefstand.mock_server.http.connexion_compat import cache_operations
from pruefstand.mock_server.http.errors import ErrorShapes, error_handler, set_edge_shapes
from pruefstand.mock_server.http.example_responder import ExampleResolver
from pruefstand.mock_server.http.fast_path import FastPathMiddleware
from pruefstand.mock_server.http.fast_read import FastReadMiddleware
from pruefstand.mock_server.http.faults import FaultRules
from pruefstand.mock_server.http.journal import Journal
from pruefstand.mock_server.http.served_spec import with_sandbox_header, without_media_type_parameters
from pruefstand.mock_server.http.stack import MockApp, add_api, add_example_api, install, layers, validator_map
from pruefstand.mock_server.http.stub_layer import StubLayer
from pruefstand.mock_server.http.swagger_page import swagger_ui_routes
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.error_shapes import ErrorShape, problem
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.flow_info import ApiInfo
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER
from pruefstand.mock_server.kernel.settings import Settings
from pruefstand.mock_server.resources.crud import Resources, find_resources
from pruefstand.mock_server.store import Store
from pruefstand.mock_server.store.group_commit import GroupCommit
from pruefstand.mock_server.stubs.service import Stubs

SANDBOX_FIELD = (
    "pruefstand: the sandbox this request works in (mock only, a real implementation has no such header). "
    "Letters, digits, '.', '_', '-', up to 64. Without it: the sandbox the bearer token was issued in, else "
    "`default`. Use one per test or per person, so nobody sees anyone else's data."
)


def serve(
    app: MockApp,
    settings: Settings,
    mounted: Sequence[Flow],
    admin: Spec,
    admin_handlers: AdminHandlers,
    journal: Journal,
    faults: FaultRules,
    store: Store,
    specs: Callable[[ApiInfo], Spec],
    stubs: Stubs,
) -> None:
    # A client's malformed form is the client's error, answered with a 400; connexion logs it as an error of ours.
    logging.getLogger("connexion.validators.form_data").setLevel(logging.CRITICAL)
    cache_operations(app)
    validators = validator_map(settings.max_depth)
    allowed = AllowedMethods()
    shapes: list[tuple[str, ErrorShape]] = [(registry.ADMIN_API.base_path, problem)]
    operations = {**admin_handlers.operations(), **StubAdmin(stubs, journal).operations()}
    for flow in mounted:
        operations.update(flow.admin.operations if flow.admin else {})
    add_api(app, admin.document, base_path=registry.ADMIN_API.base_path, name="admin", operations=operations,
            validators=validators, bearer=admin_handlers.verify_bearer)  # fmt: skip
    allowed.add_api(registry.ADMIN_API.base_path, admin.document)
    shapes += _serve_flow_apis(app, mounted, validators, allowed, specs)
    for extra in settings.extra_apis:
        document = load_spec(extra.spec, resolve="external").document
        found = find_resources(document, extra.base_path) if settings.spec_mode == "stateful" else []
        add_example_api(app, without_media_type_parameters(document), base_path=extra.base_path,
                        resolver=ExampleResolver(found, Resources(store)), validators=validators)  # fmt: skip
        shapes.append((extra.base_path, problem))
        allowed.add_api(extra.base_path, document)
    app.add_url_rule(registry.HEALTH_PATH, "healthz", healthz, methods=["GET"])
    app.add_url_rule("/", "index", index_page(mounted, settings), methods=["GET"])
    set_edge_shapes(ErrorShapes(shapes))
    app.journal = journal
    handler = error_handler(ErrorShapes(shapes), allowed)
    for kind in (MockError, MalformedMessage, ProblemException, HTTPException, Exception):
        app.add_error_handler(kind, handler)
    install(app, layers(journal, faults, settings.max_body_bytes))
    if settings.fast_path:
        _fast_paths(app, settings, mounted, journal, faults, store)
    # stubs first: a stub answers what it matches before any flow, fast path or partner contract
    app.front = StubLayer(
        app.front or app.middleware, stubs=stubs, journal=journal, max_body_bytes=settings.max_body_bytes
    )


def _serve_flow_apis(
    app: MockApp,
    mounted: Sequence[Flow],
    validators: dict[str, Any],
    allowed: AllowedMethods,
    specs: Callable[[ApiInfo], Spec],
) -> list[tuple[str, ErrorShape]]:
    """Each flow's APIs: through connexion (with the sandbox header in the served copy) or on their own routes;
    returns the error shapes by path prefix."""
    shapes: list[tuple[str, ErrorShape]] = []
    for api in (api for flow in mounted for api in flow.apis):
        base = api.info.base_path
        shapes += [(base, api.error_shape)]
        if isinstance(api, ConnexionApi):
            shapes += [(base + suffix, shape) for suffix, shape in api.error_shapes.items()]
            document = specs(api.info).document
            add_api(app, with_sandbox_header(document, SANDBOX_HEADER, SANDBOX_FIELD), base_path=base,
                    name=api.info.name, operations=api.operations, validators=validators, bearer=api.bearer,
                    strict_validation=api.strict_validation)  # fmt: skip
            allowed.add_api(base, document)
        elif isinstance(api, RoutedApi):
            for route in api.routes:
                methods = sorted(route.methods or ())
                app.add_url_rule(route.path, f"{api.info.name} {route.path} {methods}", route.endpoint, methods=methods)
            allowed.add_api(base, dict(api.contract))
            if api.info.ui:  # connexion serves the UIs of what it mounts; this one is served beside its routes
                for path, endpoint in swagger_ui_routes(base, api.info.title):
                    app.add_url_rule(path, f"{api.info.name} ui {path}", endpoint, methods=["GET"])
    return shapes


def index_page(mounted: Sequence[Flow], settings: Settings) -> Callable[..., Any]:
    """`GET /`: every API with its contract and Swagger UI, the admin API, the health check (HTML, or JSON on ask)."""
    apis = [(api.info.title, api.info.base_path, api.info.ui) for flow in mounted for api in flow.apis]
    apis += [(extra.spec.name, extra.base_path, True) for extra in settings.extra_apis]
    apis.append((registry.ADMIN_API.title, registry.ADMIN_API.base_path, True))
    listing = [
        {"title": title, "basePath": base, "contract": f"{base}/openapi.json"} | ({"ui": f"{base}/ui/"} if ui else {})
        for title, base, ui in apis
    ]

    async def index(request: Any) -> Any:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"apis": listing, "health": registry.HEALTH_PATH})
        rows = "".join(
            f"<li><b>{html.escape(a['title'])}</b> <code>{html.escape(a['basePath'])}</code>: "
            + (f"<a href='{html.escape(a['ui'])}'>Swagger UI</a>, " if "ui" in a else "")
            + f"<a href='{html.escape(a['contract'])}'>contract</a></li>"
            for a in listing
        )
        head = "<!doctype html><meta charset='utf-8'><title>pruefstand</title><h1>pruefstand</h1>"
        tail = f"<p><a href='{registry.HEALTH_PATH}'>health</a>; the admin API's token is printed at start.</p>"
        page = f"{head}<ul>{rows}</ul>{tail}"
        return HTMLResponse(page)

    return index


async def healthz(*_args: Any, **_kwargs: Any) -> JSONResponse:
    return JSONResponse({"status": "ok", "worker": os.getpid()})  # which worker process answered


def _fast_paths(
    app: MockApp, settings: Settings, mounted: Sequence[Flow], journal: Journal, faults: FaultRules, store: Store
) -> None:
    """Each flow's fast path and fast reads in front of connexion's whole stack (which gets what they do not
    answer)."""
    front: Any = app.middleware
    commits = GroupCommit(store)  # one writer: every fast path's writes share the groups
    for flow in mounted:
        for read in flow.fast_reads:
            front = FastReadMiddleware(
                front, prefix=read.prefix, read=read.read, journal=journal, faults=faults, declined=read.declined
            )
        fast = flow.fast_path
        if fast is None:
            continue
        front = FastPathMiddleware(
            front,
            journal=journal,
            faults=faults,
            max_body_bytes=settings.max_body_bytes,
            path=fast.path,
            verify=fast.verify,
            body_violations=fast.body_violations,
            answer_violations=fast.answer_violations,
            prepare=fast.prepare,
            apply=fast.apply,
            present=fast.present,
            declined=fast.declined,
            takes_query=fast.takes_query,
            status=fast.status,
            commits=commits,
            max_depth=settings.max_depth,
        )
    app.front = front if front is not app.middleware else None
