"""What `pruefstand fuzz` points Schemathesis at: a bundled API in-process (the mock) or at a URL, with auth."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from pruefstand.contracts import Spec, load_spec
from pruefstand.contracts.auth_providers import AuthProvider, TlsSettings
from pruefstand.contracts.fuzzing import FuzzTarget
from pruefstand.mock_server.admin.document import admin_spec
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.commands.arguments import DEFAULT_CLOCK_START
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.flow_info import ApiInfo
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER
from pruefstand.mock_server.kernel.settings import Settings
from pruefstand.mock_server.store import SQLiteStore

MOCK_TAG = "MOCK"


class FuzzSetupError(MockError):
    """The target could not be prepared (no token, unknown API); the message says what to do."""


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str
    client_secret: str
    username: str
    password: str

    @classmethod
    def from_settings(cls, section: Any) -> Credentials:
        """From a flow's settings section that names a client and a user (the MaCo section does)."""
        return cls(section.client_id, section.client_secret, section.username, section.password)

    @classmethod
    def for_api(cls, settings: Settings, api: ApiInfo) -> Credentials | None:
        """The credentials of the flow an API belongs to, when its section names a client and a user."""
        info = registry.flow_of(api.name)
        section = settings.sections.get(info.name) if info else None
        names = ("client_id", "client_secret", "username", "password")
        return cls.from_settings(section) if section is not None and all(hasattr(section, n) for n in names) else None


def fuzzable_apis() -> tuple[ApiInfo, ...]:
    """The APIs the mock serves: the admin API and every registered flow's."""
    return registry.apis(served=True)


def _spec_for(api: str) -> tuple[Spec, ApiInfo]:
    try:
        found = registry.api(api)
    except MockError as exc:
        raise FuzzSetupError(str(exc)) from exc
    if not found.served:
        raise FuzzSetupError(f"{api!r} is a contract of what a flow sends out; fuzz one of the served APIs")
    if found.name == registry.ADMIN_API.name:
        return admin_spec(), found
    return load_spec(registry.spec_path(found), resolve=found.resolve), found


def token_path(spec: Spec, api: ApiInfo) -> str | None:
    """The path of the API's password-grant token operation (its `auth`), when it has one."""
    if not api.auth or api.auth == "admin":
        return None
    return str(spec.operation(api.auth)["path"])


def fetch_password_token(client: httpx.Client, token_url: str, credentials: Credentials) -> str:
    """An RFC 6749 password grant (the MACO APP's), as a backend would do it."""
    response = client.post(
        token_url,
        data={
            "grant_type": "password",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "username": credentials.username,
            "password": credentials.password,
        },
    )
    if response.status_code != 200:
        raise FuzzSetupError(f"token endpoint {token_url} answered {response.status_code}: {response.text[:200]}")
    return str(response.json()["access_token"])


def in_process_target(api: str, settings: Settings, headers: Mapping[str, str]) -> FuzzTarget:
    """The mock itself, on an in-memory store, with a fresh sandbox and whatever token the API needs. Every
    sandbox clock stands at the replay default until a request moves it: nothing progresses on its own while the
    fuzzer runs (an order's automatic steps, a token's expiry), so a seed repeats its run on a busy machine too."""
    spec, info = _spec_for(api)
    admin_token = secrets.token_urlsafe(24)
    app = create_app(
        dataclasses.replace(settings, admin_token=admin_token, db=":memory:", clock_start=DEFAULT_CLOCK_START),
        store=SQLiteStore(":memory:"),
    )
    auth: dict[str, str] = {}
    path = token_path(spec, info)
    credentials = Credentials.for_api(settings, info)
    if path and credentials:
        with TestClient(app, base_url="http://localhost") as client:  # the token endpoint, in-process
            token = fetch_password_token(client, info.base_path + path, credentials)
        auth = {"Authorization": f"Bearer {token}"}
    elif info.auth == "admin":
        auth = {"Authorization": f"Bearer {admin_token}"}
    return FuzzTarget(
        spec=spec,
        app=app,
        base_path=info.base_path,
        headers={**auth, **headers},
        pinned=_pins(spec, OWN_LISTENER),
        suppressed_health_checks=info.suppressed_health_checks,
        skipped_checks=info.skipped_checks,
    )


# Where callbacks of a fuzzed mock point: the discard port on loopback. Registering anything else is refused by the
# outbound allow-list, as it should be; the fuzzer never makes the mock call out to a host it generated.
OWN_LISTENER = "http://127.0.0.1:9/pruefstand-fuzz"
_CALLBACK_FIELDS = ("callback", "url")


def _pins(spec: Spec, listener: str) -> dict[str, dict[str, object]]:
    """Every request-body property that registers a callback (the TMF622 hub's `callback`, the admin API's backend
    `url`) pinned to the fuzzer's own loopback listener."""
    pins: dict[str, dict[str, object]] = {}
    for path, item in spec.document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for media, content in (operation.get("requestBody") or {}).get("content", {}).items():
                properties = (content.get("schema") or {}).get("properties") or {}
                for name in _CALLBACK_FIELDS:
                    if name in properties and _registers_a_callback(properties[name]):
                        pointer = "/".join(
                            p.replace("~", "~0").replace("/", "~1")
                            for p in ("", "paths", path, method, "requestBody", "content", media, "schema")
                        )
                        pins[f"{pointer}/properties/{name}"] = {"type": "string", "enum": [listener]}
    return pins


def _registers_a_callback(schema: Mapping[str, Any]) -> bool:
    """A URL the mock will send to: a string the contract restricts to http(s) URLs (hub `callback`, backend `url`);
    a `url` that only names a request (verification's near misses) is fuzzed like any string."""
    pattern = str(schema.get("pattern", ""))
    return schema.get("type") == "string" and pattern.startswith(("^https?://", "^[Hh][Tt][Tt][Pp][Ss]?://"))


def url_target(
    api: str | None,
    url: str,
    headers: Mapping[str, str],
    *,
    spec_file: Path | None = None,
    token_url: str | None = None,
    credentials: Credentials | None = None,
    with_mock_extensions: bool = False,
    auth: AuthProvider | None = None,
    tls: TlsSettings | None = None,
) -> FuzzTarget:
    """A running implementation at `url` (the API's base URL, where its paths start). Operations tagged MOCK exist
    only in the mock and are left out unless `with_mock_extensions`.

    A bundled API is fuzzed in a sandbox of its own (`X-Pruefstand-Sandbox: fuzz-<random>`, unless a header names
    one; a real implementation ignores the header), so a shared mock's `default` sandbox is left as it was, and every
    callback it registers points at the loopback discard port: nothing is ever sent to a host the fuzzer made up.
    With `auth` (an OAuth2, Basic or bearer provider), every request carries its credential instead of the bundled
    API's own token."""
    spec, info = (load_spec(spec_file, resolve="external"), None) if spec_file else _spec_for(api or "")
    own: dict[str, str] = {}
    if spec_file is None and not any(k.lower() == SANDBOX_HEADER.lower() for k in headers):
        own[SANDBOX_HEADER] = f"fuzz-{secrets.token_hex(4)}"
    own_auth: dict[str, str] = {}
    path = token_path(spec, info) if info else None
    if path and "Authorization" not in headers and credentials is not None and auth is None:
        with httpx.Client(timeout=30, headers=own) as client:  # the token belongs to the fuzz sandbox
            token = fetch_password_token(client, token_url or url.rstrip("/") + path, credentials)
        own_auth = {"Authorization": f"Bearer {token}"}
    excluded = () if with_mock_extensions else (MOCK_TAG,)
    return FuzzTarget(
        spec=spec,
        base_url=url.rstrip("/"),
        headers={**own, **own_auth, **headers},
        excluded_tags=excluded,
        pinned={} if spec_file else _pins(spec, OWN_LISTENER),
        suppressed_health_checks=info.suppressed_health_checks if info else (),
        skipped_checks=info.skipped_checks if info else (),
        auth=auth,
        tls=tls or TlsSettings(),
    )
