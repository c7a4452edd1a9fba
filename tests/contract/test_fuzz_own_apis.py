"""The mock fuzzed with Schemathesis against its own contracts, in-process, with a fixed seed and a small budget.

Business rules the schema cannot express (PI 25001 conditions, lokationsId by lokationsTyp, the clock's range) are
correct 400s, so positive-data acceptance is not among the checks; everything else Schemathesis checks per response
is: no server error, documented status, schema, content type and headers, negative data rejected, ignored auth.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from mock_server.app import create_app
from mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, make_settings

APP = create_app(make_settings(), store=SQLiteStore(":memory:"))
TOKEN = APP.services.tokens.issue(  # type: ignore[attr-defined]
    "fuzz",
    {
        "grant_type": "password",
        "client_id": "pruefstand",
        "client_secret": "pruefstand-secret",
        "username": "backend",
        "password": "backend-password",
    },
)["access_token"]

maco = schemathesis.openapi.from_asgi("/maco/openapi.json", APP)
admin = schemathesis.openapi.from_asgi("/_admin/openapi.json", APP)
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@maco.parametrize()
@FUZZ
def test_maco_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[positive_data_acceptance])


@admin.parametrize()
@FUZZ
def test_admin_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, excluded_checks=[positive_data_acceptance]
    )
