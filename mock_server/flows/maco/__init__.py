"""MaCo App trigger flow: rules (identifiers, events, trigger_rules, pi25001), services (auth, service), handlers."""

from pruefstand.mock_server.flows.maco.settings import MacoSettings
from pruefstand.mock_server.kernel.flow_info import ApiInfo, FlowInfo, ServeOption

FLOW = FlowInfo(
    name="maco",
    summary="MaCo App triggers: POST /inbound, processes with a businessKey, callbacks to the customer's backend",
    apis=(
        ApiInfo(
            "maco",
            "maco/trigger.yaml",
            "/maco",
            "MaCo trigger API",
            links={"token": "/oauth/token", "inbound": "/inbound"},
            auth="login",
        ),
        ApiInfo("maco-backend", "maco/backend.yaml", "", "MaCo customer backend (callbacks)", served=False),
    ),
    mount="pruefstand.mock_server.flows.maco.mount:mount",
    settings=MacoSettings,
    admin_spec="maco/admin.yaml",
    scenarios="maco",
    serve_options=(
        ServeOption("strict_check_digits", "MaCo: refuse wrong check digits.", flag=True),
        ServeOption("idempotency", "MaCo: reuse of a prozessId.", choices=("conflict", "payload")),
    ),
)
