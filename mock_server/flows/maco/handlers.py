"""HTTP handlers of the trigger API, bound by operationId: parse, call the service, shape the answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pruefstand.contracts import Violation
from pruefstand.mock_server.flows.maco.auth import TokenService
from pruefstand.mock_server.flows.maco.service import TriggerService
from pruefstand.mock_server.kernel.call import Call
from pruefstand.mock_server.kernel.errors import BadRequest
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER, sandbox_name

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class MacoHandlers:
    def __init__(self, tokens: TokenService, triggers: TriggerService) -> None:
        self._tokens = tokens
        self._triggers = triggers

    def operations(self) -> dict[str, Any]:
        return {"login": self.login, "inbound": self.inbound, "get_process": self.get_process}

    async def login(
        self, call: Call, body: dict[str, Any] | None = None, **form: Any
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        sent = {**form, **(body or {})}
        sent.update({name: [v for k, v in call.form if k == name] for name in call.repeated_form_fields()})
        issued = self._tokens.issue(call.sandbox, sent, call.header("Authorization"))
        return issued, 200, NO_STORE  # RFC 6749 §5.1: a token answer is never cached

    async def inbound(self, call: Call, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        return self._triggers.start(str(call.token_info["sandbox"]), body), 201  # the token's sandbox

    async def get_process(self, call: Call, business_key: str) -> tuple[Mapping[str, Any], int]:
        return self._triggers.process(str(call.token_info["sandbox"]), business_key), 200

    def verify_bearer(self, token: str, request: Any) -> dict[str, str]:
        """connexion's bearer check: the token's sandbox and user, or an Unauthenticated error with the reason."""
        if "access_token" in request.query_params:  # RFC 6750 §2: one way of sending the token, never two
            raise BadRequest(
                [Violation("query parameter access_token", "the token is in the Authorization header already; send it "
                           "one way only (RFC 6750 §2)")])  # fmt: skip
        header = request.headers.get(SANDBOX_HEADER)
        info = self._tokens.verify(token, sandbox_name(header) if header else None)
        return {"sandbox": info.sandbox, "sub": info.username, "client_id": info.client_id}
