"""OAuth2 password-grant tokens (RFC 6749 §4.3; the client by HTTP Basic or the form), stored per sandbox, expiring on
the sandbox's clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote_plus

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

    def issue(self, sandbox: str, form: Mapping[str, Any], authorization: str | None = None) -> dict[str, Any]:
        """Check a password grant (RFC 6749 §4.3) and return {access_token, token_type, expires_in}. The client
        authenticates with HTTP Basic (§2.3.1) or with client_id/client_secret in the form, not both; every refusal
        carries the §5.2 error code as its prefix."""
        repeated = sorted(name for name, value in form.items() if isinstance(value, list))
        if repeated:  # §3.1: parameters MUST NOT be included more than once
            raise BadRequest([Violation(n, "is given more than once (RFC 6749 §3.1)") for n in repeated],
                             prefix="invalid_request")  # fmt: skip
        if form.get("grant_type") != "password":
            grant = form.get("grant_type")
            raise BadRequest([Violation("grant_type", f"{grant!r} is not supported; expected 'password'")],
                             prefix="unsupported_grant_type")  # fmt: skip
        client_id, client_secret = _client(form, authorization)
        s = self._settings
        if not (_same(client_id, s.client_id) and _same(client_secret, s.client_secret)):
            raise Unauthenticated("invalid_client: unknown client_id or wrong client_secret")
        missing = [name for name in ("username", "password") if not isinstance(form.get(name), str)]
        if missing:
            raise BadRequest([Violation(missing[0], f"'{missing[0]}' is a required property of the password grant")],
                             prefix="invalid_request")  # fmt: skip
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


def _client(form: Mapping[str, Any], authorization: str | None) -> tuple[Any, Any]:
    """The client's id and secret: from HTTP Basic (RFC 6749 §2.3.1, form-urlencoded then base64) or the form."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        if form.get("client_id") is None:
            raise Unauthenticated("invalid_client: no client authentication (HTTP Basic or client_id/client_secret)")
        return form.get("client_id"), form.get("client_secret")
    if "client_secret" in form or form.get("client_id") not in (None, _basic(credentials)[0]):
        raise BadRequest([Violation("client_secret", "the client authenticated with HTTP Basic already; use one "
                                    "method only (RFC 6749 §2.3)")], prefix="invalid_request")  # fmt: skip
    return _basic(credentials)


def _basic(credentials: str) -> tuple[str, str]:
    try:
        user, sep, secret = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthenticated("invalid_client: the HTTP Basic credentials are not base64 of id:secret") from exc
    if not sep:
        raise Unauthenticated("invalid_client: the HTTP Basic credentials are not base64 of id:secret")
    return unquote_plus(user), unquote_plus(secret)


def _same(given: Any, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())
