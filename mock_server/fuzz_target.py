"""What `pruefstand fuzz` points Schemathesis at: a bundled API in-process (the mock) or at a URL, with auth."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from starlette.testclient import TestClient

from pruefstand.contracts import BUNDLED_APIS, BundledApi, Spec, bundled_spec_path, load_spec
from pruefstand.contracts.fuzzing import FuzzTarget
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.errors import MockError
from pruefstand.mock_server.flows.tmf622.v5 import V5_BASE
from pruefstand.mock_server.sandbox import SANDBOX_HEADER
from pruefstand.mock_server.settings import MacoSettings, Settings
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
    def from_settings(cls, maco: MacoSettings) -> Credentials:
        return cls(maco.client_id, maco.client_secret, maco.username, maco.password)


# Fuzzed like the bundled APIs, served by the kit's own routes: TMF622 v5 (its contract is read as written: its
# recursive schemas stay references, which Schemathesis resolves itself).
FUZZABLE_APIS = (*BUNDLED_APIS, BundledApi("tmf622-v5", "tmf622/product-ordering-v5.json", V5_BASE))


def _spec_for(api: str) -> tuple[Spec, str]:
    for bundled in FUZZABLE_APIS:
        if bundled.name == api:
            resolve: Literal["all", "external"] = "external" if bundled.spec.endswith(".json") else "all"
            return load_spec(bundled_spec_path(bundled.spec), resolve=resolve), bundled.base_path
    raise FuzzSetupError(f"unknown API {api!r}; known: {', '.join(a.name for a in FUZZABLE_APIS)}")


def fetch_maco_token(client: httpx.Client, token_url: str, credentials: Credentials) -> str:
    """The MACO APP password grant, as a backend would do it."""
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
    """The mock itself, on an in-memory store, with a fresh sandbox and whatever token the API needs."""
    spec, base_path = _spec_for(api)
    admin_token = secrets.token_urlsafe(24)
    app = create_app(
        dataclasses.replace(settings, admin_token=admin_token, db=":memory:"), store=SQLiteStore(":memory:")
    )
    auth: dict[str, str] = {}
    if api == "maco":
        with TestClient(app, base_url="http://localhost") as client:  # the token endpoint, in-process
            token = fetch_maco_token(client, "/maco/oauth/token", Credentials.from_settings(settings.maco))
        auth = {"Authorization": f"Bearer {token}"}
    elif api == "admin":
        auth = {"Authorization": f"Bearer {admin_token}"}
    return FuzzTarget(
        spec=spec,
        app=app,
        base_path=base_path,
        headers={**auth, **headers},
        pinned=_pins(spec, OWN_LISTENER),
        suppressed_health_checks=_generator_checks(api),
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
                    if name in properties and properties[name].get("type") == "string":
                        pointer = "/".join(
                            p.replace("~", "~0").replace("/", "~1")
                            for p in ("", "paths", path, method, "requestBody", "content", media, "schema")
                        )
                        pins[f"{pointer}/properties/{name}"] = {"type": "string", "enum": [listener]}
    return pins


def url_target(
    api: str | None,
    url: str,
    headers: Mapping[str, str],
    *,
    spec_file: Path | None = None,
    token_url: str | None = None,
    credentials: Credentials | None = None,
    with_mock_extensions: bool = False,
) -> FuzzTarget:
    """A running implementation at `url` (the API's base URL, where its paths start). Operations tagged MOCK exist
    only in the mock and are left out unless `with_mock_extensions`.

    A bundled API is fuzzed in a sandbox of its own (`X-Pruefstand-Sandbox: fuzz-<random>`, unless a header names
    one; a real implementation ignores the header), so a shared mock's `default` sandbox is left as it was, and every
    callback it registers points at the loopback discard port: nothing is ever sent to a host the fuzzer made up."""
    spec = load_spec(spec_file, resolve="external") if spec_file else _spec_for(api or "")[0]
    own: dict[str, str] = {}
    if spec_file is None and not any(k.lower() == SANDBOX_HEADER.lower() for k in headers):
        own[SANDBOX_HEADER] = f"fuzz-{secrets.token_hex(4)}"
    auth: dict[str, str] = {}
    if api == "maco" and "Authorization" not in headers and credentials is not None:
        with httpx.Client(timeout=30, headers=own) as client:  # the token belongs to the fuzz sandbox
            token = fetch_maco_token(client, token_url or url.rstrip("/") + "/oauth/token", credentials)
        auth = {"Authorization": f"Bearer {token}"}
    excluded = () if with_mock_extensions else (MOCK_TAG,)
    return FuzzTarget(
        spec=spec,
        base_url=url.rstrip("/"),
        headers={**own, **auth, **headers},
        excluded_tags=excluded,
        pinned={} if spec_file else _pins(spec, OWN_LISTENER),
        suppressed_health_checks=() if spec_file else _generator_checks(api or ""),
    )


def _generator_checks(api: str) -> tuple[str, ...]:
    """The official TMF622 v5 contract's schemas are large and recursive: data generated for them overruns
    Hypothesis' size budget now and then (seen in CI as a failed health check, never as a finding)."""
    return ("data_too_large", "large_base_example", "too_slow") if api == "tmf622-v5" else ()
