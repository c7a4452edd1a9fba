"""OAuth2 password-grant tokens for the trigger API, stored per sandbox, expiring on the sandbox's clock."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from pruefstand.contracts import Violation
from pruefstand.mock_server.clock import Clock
from pruefstand.mock_server.flows.maco.records import TOKEN_KIND, TokenRecord
from pruefstand.mock_server.flows.maco.settings import MacoSettings
from pruefstand.mock_server.kernel.errors import BadRequest, Unauthenticated
from pruefstand.mock_server.store import FlowStore


@dataclass(frozen=True, slots=True)
class TokenInfo:
    sandbox: str
    username: str
    client_id: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(self, store: FlowStore, clock: Clock, settings: MacoSettings) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings

    def issue(self, sandbox: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """Check the password grant and return {access_token, token_type, expires_in}."""
        if form.get("grant_type") != "password":
            raise BadRequest(
                [
                    Violation(
                        "grant_type",
                        f"unsupported grant type {form.get('grant_type')!r}; expected 'password'",
                    )
                ],
                prefix="unsupported_grant_type",
            )
        s = self._settings
        if not (_same(form.get("client_id"), s.client_id) and _same(form.get("client_secret"), s.client_secret)):
            raise Unauthenticated("invalid_client: unknown client_id or wrong client_secret")
        if not (_same(form.get("username"), s.username) and _same(form.get("password"), s.password)):
            # RFC 6749 §5.2: the client is known, the grant is not: 400 invalid_grant
            raise BadRequest([Violation("username/password", "wrong username or password")], prefix="invalid_grant")
        token = secrets.token_urlsafe(32)
        expires_at = self._clock.now(sandbox).timestamp() + s.token_lifetime
        record: TokenRecord = {"expires_at": expires_at, "username": s.username, "client_id": s.client_id}
        with self._store.unit_of_work(sandbox) as uow:
            uow.insert(TOKEN_KIND, _digest(token), record)
        return {"access_token": token, "token_type": "Bearer", "expires_in": s.token_lifetime}

    def verify(self, token: str, requested_sandbox: str | None) -> TokenInfo:
        """Who the token authenticates and which sandbox the request works in: the one the header names, else the
        one the token was issued in. Unauthenticated with the reason when the token is unknown or expired (on the
        clock of the sandbox it was issued in)."""
        found = self._store.locate(TOKEN_KIND, _digest(token))
        if found is None:
            raise Unauthenticated("unauthenticated: bearer token unknown (get one from POST /oauth/token)")
        issued_in, stored = found
        record = cast(TokenRecord, stored)
        now = self._clock.now(issued_in).timestamp()
        if now >= float(record["expires_at"]):
            raise Unauthenticated("unauthenticated: bearer token expired; get a new one from POST /oauth/token")
        return TokenInfo(
            sandbox=requested_sandbox or issued_in, username=str(record["username"]), client_id=str(record["client_id"])
        )


def _same(given: Any, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())
