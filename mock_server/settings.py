"""Settings of the mock: defaults, overridden by an optional TOML file, then PRUEFSTAND_* variables, then flags."""

from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.errors import MockError

ENV_PREFIX = "PRUEFSTAND_"
IDEMPOTENCY_MODES = ("conflict", "payload")


class SettingsError(MockError):
    """A setting has a value of the wrong kind; the message names the setting and where it came from."""


@dataclass(frozen=True, slots=True)
class ExtraApi:
    """A partner's own contract served from its examples at a base path (`--spec FILE --base-path /x`)."""

    spec: Path
    base_path: str


@dataclass(frozen=True, slots=True)
class MacoSettings:
    client_id: str = "pruefstand"
    client_secret: str = "pruefstand-secret"
    username: str = "backend"
    password: str = "backend-password"
    token_lifetime: int = 900
    strict_check_digits: bool = False
    # "conflict": same (eventname, prozessId, sender) with another payload is refused with 409.
    # "payload": only an identical payload is replayed; another payload starts a new process.
    idempotency: str = "conflict"
    # The customer's backend the app calls back (updateProcessData); empty: no callbacks unless a sandbox sets one.
    backend_url: str = ""
    backend_token: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "pruefstand.db"
    admin_token: str = ""
    max_body_bytes: int = 1_048_576
    max_depth: int = 64
    workers: int = 0  # 0: one per CPU, at most 4 (see effective_workers)
    log_level: str = "warning"
    journal_size: int = 500  # requests kept per sandbox in the journal (GET /_admin/sandboxes/<s>/requests); 0: off
    request_log: bool = True  # one console line per request (method, path, sandbox, status, ms, first problem)
    fast_path: bool = True  # the MaCo trigger's accepted path answered without connexion's plumbing (fast_path.py)
    # Where the mock may send besides loopback: host-name patterns (* wildcards), addresses, networks (10.0.0.0/8);
    # private, link-local and metadata addresses only when an address or network entry names them.
    delivery_allow_hosts: str = ""
    delivery_max_attempts: int = 12  # 0.5 s doubling to 60 s: about five minutes before a delivery is dead
    delivery_backoff_base_ms: int = 500
    delivery_backoff_cap_ms: int = 60_000
    # TMF622: seconds between the seller's steps on the sandbox clock; buyer orders progress "auto" or "manual";
    # events go to callback + /listener/<eventName> ("listener") or to the callback as is ("callback").
    tmf622_step_delay: float = 5.0
    tmf622_timezone: str = "Europe/Berlin"  # order and event times carry this zone's offset
    tmf622_buyer_progress: str = "auto"
    tmf622_callback: str = "listener"
    tmf622_profile: str = ""  # a FIT profile file replacing specs/tmf622/fit-profile.yaml
    # TMF622 profile of a sandbox that chose none: auto (fit where the sandbox has FIT data, else plain tmf622 v4),
    # tmf622 or fit.
    tmf622_default_profile: str = "auto"
    tmf622_seed: str = ""  # a YAML file with inventory and agreements per sandbox, loaded at start
    # Strom-Quittung: tariff (gross: energy price ct/kWh, base price EUR/month), the TSE client id, strict mode
    # (422 instead of 200 for missing mandatory fields).
    quittung_energy_price_ct: str = "35.00"
    quittung_base_price_eur: str = "12.00"
    quittung_client_id: str = "pruefstand-quittung"
    quittung_strict: bool = False
    # Reproducible runs: a seed for identifiers (empty: the OS's cryptographic source) and an instant every sandbox's
    # clock starts at and stands still at until the admin API moves it (empty: real time). In-process replay sets both.
    id_seed: str = ""
    clock_start: str = ""
    maco: MacoSettings = field(default_factory=MacoSettings)
    extra_apis: tuple[ExtraApi, ...] = ()

    def effective_workers(self) -> int:
        """Worker processes to run: as configured, else one per CPU up to 4; one for an in-memory store, which a
        second process could not see."""
        if self.db == ":memory:":
            return 1
        return self.workers if self.workers > 0 else max(1, min(os.cpu_count() or 1, 4))

    def allow_hosts(self) -> tuple[str, ...]:
        return tuple(h.strip() for h in self.delivery_allow_hosts.split(",") if h.strip())

    def with_admin_token(self) -> Settings:
        """These settings, with a random admin token if none was configured."""
        return self if self.admin_token else dataclasses.replace(self, admin_token=secrets.token_urlsafe(24))


_TOP = {f.name: f.type for f in dataclasses.fields(Settings) if f.name not in ("maco", "extra_apis")}
_MACO = {f.name: f.type for f in dataclasses.fields(MacoSettings)}


def load_settings(
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the layers; `overrides` uses flat names (`port`, `maco_token_lifetime`, `extra_apis`)."""
    env = os.environ if env is None else env
    flat: dict[str, Any] = {}
    config = config or (Path(env[f"{ENV_PREFIX}CONFIG"]) if env.get(f"{ENV_PREFIX}CONFIG") else None)
    if config is not None:
        flat.update(_from_toml(config))
    for name in [*_TOP, *(f"maco_{n}" for n in _MACO)]:
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None:
            flat[name] = _coerce(name, value, f"environment variable {ENV_PREFIX}{name.upper()}")
    flat.update({k: v for k, v in (overrides or {}).items() if v is not None})
    maco = MacoSettings(**{n: flat.pop(f"maco_{n}") for n in _MACO if f"maco_{n}" in flat})
    for name, allowed in (
        ("tmf622_buyer_progress", ("auto", "manual")),
        ("tmf622_callback", ("listener", "callback")),
        ("tmf622_default_profile", ("auto", "tmf622", "fit")),
    ):
        if name in flat and flat[name] not in allowed:
            raise SettingsError(f"{name} must be one of {allowed}, got {flat[name]!r}")
    for name in ("quittung_energy_price_ct", "quittung_base_price_eur"):
        if name in flat:
            try:
                if Decimal(str(flat[name])) < 0:
                    raise InvalidOperation
            except InvalidOperation as exc:
                raise SettingsError(f"{name} must be a decimal number >= 0, got {flat[name]!r}") from exc
    if flat.get("tmf622_timezone"):
        try:
            ZoneInfo(str(flat["tmf622_timezone"]))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"tmf622_timezone: unknown time zone {flat['tmf622_timezone']!r}") from exc
    if flat.get("clock_start"):
        try:
            if datetime.fromisoformat(str(flat["clock_start"]).replace("Z", "+00:00")).tzinfo is None:
                raise ValueError("no time zone")
        except ValueError as exc:
            raise SettingsError(
                f"clock_start must be an ISO 8601 date-time with a zone, got {flat['clock_start']!r}"
            ) from exc
    if maco.backend_url:  # refused at start, not first at delivery
        patterns = [h.strip() for h in str(flat.get("delivery_allow_hosts", "")).split(",") if h.strip()]
        refusal = TargetPolicy.from_patterns(patterns).refusal(maco.backend_url)
        if refusal:
            raise SettingsError(f"maco_backend_url: {refusal}")
    if maco.idempotency not in IDEMPOTENCY_MODES:
        raise SettingsError(f"maco_idempotency must be one of {IDEMPOTENCY_MODES}, got {maco.idempotency!r}")
    extra = tuple(flat.pop("extra_apis", ()))
    unknown = set(flat) - set(_TOP)
    if unknown:
        raise SettingsError(f"unknown settings: {sorted(unknown)}")
    return Settings(**flat, maco=maco, extra_apis=extra)


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from exc
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "maco" and isinstance(value, dict):
            flat.update({f"maco_{k}": _coerce(f"maco_{k}", v, str(path)) for k, v in value.items()})
        elif key in ("tmf622", "quittung") and isinstance(value, dict):
            flat.update({f"{key}_{k}": _coerce(f"{key}_{k}", v, str(path)) for k, v in value.items()})
        elif key == "apis" and isinstance(value, list):
            flat["extra_apis"] = [ExtraApi(Path(a["spec"]), str(a["base_path"])) for a in value]
        else:
            flat[key] = _coerce(key, value, str(path))
    return flat


def _coerce(name: str, value: Any, source: str) -> Any:
    kind = _TOP.get(name) or _MACO.get(name.removeprefix("maco_"))
    if kind is None:
        raise SettingsError(f"{source}: unknown setting {name!r}")
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        return str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: {name} must be {kind}, got {value!r}") from exc
