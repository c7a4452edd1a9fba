"""Mounts the MaCo trigger flow: token endpoint, triggers, processes, backend callbacks, and its fast path."""

from __future__ import annotations

from pruefstand.contracts import DispatchingValidator, SchemaValidator
from pruefstand.mock_server.flows.maco.admin import MacoAdmin
from pruefstand.mock_server.flows.maco.auth import TokenService
from pruefstand.mock_server.flows.maco.callbacks import Backend, BackendCallbacks
from pruefstand.mock_server.flows.maco.errors import event_fail
from pruefstand.mock_server.flows.maco.events import catalog_from_validator
from pruefstand.mock_server.flows.maco.handlers import MacoHandlers
from pruefstand.mock_server.flows.maco.records import BACKEND_KIND, TOKEN_KIND
from pruefstand.mock_server.flows.maco.service import INDEXES, TriggerService
from pruefstand.mock_server.flows.maco.settings import MacoSettings
from pruefstand.mock_server.flows.mounting import AdminPart, ConnexionApi, FastPath, Flow, MountContext
from pruefstand.mock_server.kernel.error_shapes import oauth_error


def mount(ctx: MountContext) -> Flow:
    section: MacoSettings = ctx.section(MacoSettings)
    trigger_spec = ctx.spec("maco")
    inbound = trigger_spec.operation("inbound")
    body_schema = inbound["requestBody"]["content"]["application/json"]["schema"]
    default_backend = Backend(section.backend_url, section.backend_token) if section.backend_url else None
    callbacks = BackendCallbacks(ctx.store, ctx.spec("maco-backend"), default_backend, ctx.targets)
    tokens = TokenService(ctx.store, ctx.clock, section)
    triggers = TriggerService(
        ctx.store,
        ctx.clock,
        catalog_from_validator(DispatchingValidator(dict(body_schema))),
        strict_check_digits=section.strict_check_digits,
        conflict_on_reuse=section.idempotency == "conflict",
        callbacks=callbacks,
        ids=ctx.ids,
    )
    handlers = MacoHandlers(tokens, triggers)
    api = ctx.info.api("maco")
    return Flow(
        name=ctx.info.name,
        apis=[
            ConnexionApi(
                info=api,
                operations=handlers.operations(),
                error_shape=event_fail,
                bearer=handlers.verify_bearer,
                # RFC 6749 §3.2: unknown token request parameters are ignored, and so are unknown query parameters.
                strict_validation=False,
                error_shapes={"/oauth/token": oauth_error},
            )
        ],
        admin=AdminPart(MacoAdmin(triggers, callbacks).operations()),
        indexes=INDEXES,
        # tokens: every request verifies one, located by its digest whichever sandbox issued it; the backend: read
        # by every trigger, set by the admin API
        across=[TOKEN_KIND],
        cached=[TOKEN_KIND, BACKEND_KIND],
        fast_path=FastPath(
            path=f"{api.base_path}/inbound",
            verify=handlers.verify_bearer,
            body_violations=DispatchingValidator(body_schema).violations,
            answer_violations=SchemaValidator(
                inbound["responses"]["201"]["content"]["application/json"]["schema"]
            ).violations,
            prepare=triggers.prepare,
            apply=triggers.apply,
        ),
        services={"tokens": tokens, "triggers": triggers, "callbacks": callbacks},
    )
