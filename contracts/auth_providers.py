"""How a conformance run authenticates against a real implementation: OAuth2 (RFC 6749 client credentials or password
grant against the implementation's token URL, renewed before expiry), HTTP Basic, a bearer token from a file or the
environment, and a TLS client certificate (mTLS). One provider serves both `fuzz` (through Schemathesis' auth hook)
and `replay` (as an httpx auth flow); every secret it holds or receives is listed by `secrets()` so reports can mask it.
"""

from __future__ import annotations

import base64
import os
import ssl
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from pruefstand.contracts.errors import ContractError


class AuthError(ContractError):
    """Authentication could not be set up or renewed; the message names what failed (never a secret)."""


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """A client certificate and key (mTLS) and the CA bundle that verifies the server, all optional."""

    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None

    def __post_init__(self) -> None:
        if self.key is not None and self.cert is None:
            raise AuthError("--key needs --cert (the client certificate it belongs to)")
        for option, path in (("--cert", self.cert), ("--key", self.key), ("--ca", self.ca)):
            if path is not None and not path.is_file():
                raise AuthError(f"{option} {path}: no such file")

    @property
    def is_default(self) -> bool:
        return self.cert is None and self.ca is None

    def ssl_context(self) -> ssl.SSLContext:
        """What httpx verifies and presents with: the CA bundle (else the system's), the client certificate."""
        context = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        if self.cert is not None:
            try:
                context.load_cert_chain(str(self.cert), str(self.key) if self.key else None)
            except (ssl.SSLError, OSError) as exc:
                raise AuthError(f"--cert {self.cert}: cannot be used as a client certificate ({exc})") from exc
        return context

    def verify(self) -> ssl.SSLContext | bool:
        """httpx's `verify`: the context with the CA and the client certificate, or the default verification."""
        return True if self.is_default else self.ssl_context()

    def client(self, timeout: float = 30.0, **options: Any) -> httpx.Client:
        return httpx.Client(timeout=timeout, verify=self.verify(), **options)


class AuthProvider(Protocol):
    """Headers that authenticate a request, current at the time they are asked for."""

    description: str

    def headers(self) -> dict[str, str]: ...

    def invalidate(self) -> None: ...

    def secrets(self) -> tuple[str, ...]: ...


class BasicAuth:
    """RFC 7617 Basic: user and password, UTF-8."""

    def __init__(self, username: str, password: str) -> None:
        self.description = f"HTTP Basic as {username}"
        self._value = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._password = password

    def headers(self) -> dict[str, str]:
        return {"Authorization": self._value}

    def invalidate(self) -> None:
        return None

    def secrets(self) -> tuple[str, ...]:
        return (self._password, self._value.removeprefix("Basic "))


class BearerToken:
    """A bearer token (RFC 6750) read from a file (read again when the file changes, so a rotating sidecar works)
    or taken from an environment variable."""

    def __init__(self, *, file: Path | None = None, env: str | None = None) -> None:
        if (file is None) == (env is None):
            raise AuthError("a bearer token comes from --token-file or --token-env (one of them)")
        self._file, self._env = file, env
        self._seen: tuple[float, str] | None = None
        self._issued: set[str] = set()
        self.description = f"bearer token from {file}" if file else f"bearer token from ${env}"
        self._current()  # a missing or empty source is an error before the run

    def _current(self) -> str:
        if self._env is not None:
            token = os.environ.get(self._env, "").strip()
            if not token:
                raise AuthError(f"--token-env {self._env}: the variable is not set or empty")
        else:
            assert self._file is not None
            try:
                mtime = self._file.stat().st_mtime
                if self._seen is None or self._seen[0] != mtime:
                    self._seen = (mtime, self._file.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise AuthError(f"--token-file {self._file}: cannot be read ({exc.strerror or exc})") from exc
            token = self._seen[1]
            if not token:
                raise AuthError(f"--token-file {self._file}: the file is empty")
        self._issued.add(token)
        return token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._current()}"}

    def invalidate(self) -> None:
        self._seen = None

    def secrets(self) -> tuple[str, ...]:
        return tuple(self._issued)


GRANTS = ("client_credentials", "password")


class OAuth2Token:
    """An access token from the implementation's token endpoint (RFC 6749 §4.4 client credentials or §4.3 password
    grant), the client authenticated with HTTP Basic (§2.3.1, the method every server must support) or in the body.
    The token is renewed before it expires (`expires_in`, §5.1): when less than a tenth of its life, at least one
    second and at most a minute, is left; without `expires_in` it is kept until an answer is 401 (`invalidate`)."""

    def __init__(
        self,
        token_url: str,
        *,
        grant: str,
        client_id: str,
        client_secret: str = "",
        username: str | None = None,
        password: str | None = None,
        scope: str | None = None,
        client_auth: str = "basic",
        tls: TlsSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if grant not in GRANTS:
            raise AuthError(f"grant {grant!r}: one of {', '.join(GRANTS)}")
        if grant == "password" and (not username or password is None):
            raise AuthError("the password grant needs --username and --password")
        if not client_id:
            raise AuthError("OAuth2 needs --client-id")
        if client_auth not in ("basic", "body"):
            raise AuthError(f"--client-auth {client_auth!r}: basic or body")
        self.description = f"OAuth2 {grant} at {token_url}"
        self._url, self._grant, self._scope = token_url, grant, scope
        self._client_id, self._client_secret = client_id, client_secret
        self._username, self._password = username, password
        self._client_auth = client_auth
        self._tls = tls or TlsSettings()
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self._issued: list[str] = []

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._fetch()
            assert self._token is not None
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._client_secret, self._password or "", *self._issued) if s)

    def _fetch(self) -> None:
        form = {"grant_type": self._grant}
        if self._grant == "password":
            form |= {"username": str(self._username), "password": str(self._password)}
        if self._scope:
            form["scope"] = self._scope
        if self._client_auth == "body":
            form |= {"client_id": self._client_id, "client_secret": self._client_secret}
        request = httpx.Request("POST", self._url, data=form, headers={"Accept": "application/json"})
        if self._client_auth == "basic":  # §2.3.1: both form-urlencoded before they are joined
            basic = httpx.BasicAuth(quote(self._client_id, safe=""), quote(self._client_secret, safe=""))
            request = next(basic.auth_flow(request))
        started = self._clock()
        try:
            with self._tls.client() as client:
                response = client.send(request)
        except httpx.HTTPError as exc:
            raise AuthError(f"token endpoint {self._url}: {type(exc).__name__}: {exc}") from exc
        body = _json_object(response)
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            reason = body.get("error") or response.text[:120] or "no body"
            raise AuthError(f"token endpoint {self._url} answered {response.status_code}: {reason}")
        if str(body.get("token_type", "")).lower() != "bearer":
            raise AuthError(f"token endpoint {self._url}: token_type {body.get('token_type')!r}, expected Bearer")
        token = str(body["access_token"])
        self._token = token
        self._issued.append(token)
        lifetime = body.get("expires_in")
        if isinstance(lifetime, int | float) and lifetime > 0:
            margin = min(60.0, max(1.0, lifetime / 10), lifetime / 2)
            self._renew_at = started + lifetime - margin
        else:
            self._renew_at = float("inf")


def _json_object(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class HttpxAuth(httpx.Auth):
    """A provider as an httpx auth flow (replay): sets its header unless the request carries one of its own (a
    scenario step's explicit auth wins); on a 401, renews once and sends again."""

    requires_request_body = True  # the body is sent again after a renewal

    def __init__(self, provider: AuthProvider) -> None:
        self._provider = provider

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" in request.headers:
            yield request
            return
        request.headers.update(self._provider.headers())
        response = yield request
        if response.status_code == 401:
            self._provider.invalidate()
            request.headers.update(self._provider.headers())
            yield request
