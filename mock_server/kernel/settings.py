"""Settings of the mock: defaults, overridden by an optional TOML file, then PRUEFSTAND_* variables, then flags."""

from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.errors import SettingsError
from pruefstand.mock_server.kernel.flow_info import FlowInfo

ENV_PREFIX = "PRUEFSTAND_"
SPEC_MODES = ("stateful", "examples")
T = TypeVar("T")

__all__ = ["ENV_PREFIX", "ExtraApi", "Settings", "SettingsError", "load_settings", "sections_from_data"]


@dataclass(frozen=True, slots=True)
class ExtraApi:
    """A partner's own contract served from its examples at a base path (`--spec FILE --base-path /x`)."""

    spec: Path
    base_path: str


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
    # Seconds a client may take to send a request's head, and then its body, before it is answered 408 (a slow or
    # stalled client never holds a connection and a task for ever).
    read_timeout: float = 15.0
    journal_size: int = 500  # requests kept per sandbox in the journal (GET /_admin/sandboxes/<s>/requests); 0: off
    request_log: bool = True  # one console line per request (method, path, sandbox, status, ms, first problem)
    fast_path: bool = True  # the MaCo trigger's accepted path answered without connexion's plumbing (fast_path.py)
    # Where the mock may send besides loopback: host-name patterns (* wildcards), addresses, networks (10.0.0.0/8);
    # private, link-local and metadata addresses only when an address or network entry names them.
    delivery_allow_hosts: str = ""
    delivery_max_attempts: int = 12  # 0.5 s doubling to 60 s: about five minutes before a delivery is dead
    delivery_backoff_base_ms: int = 500
    delivery_backoff_cap_ms: int = 60_000
    # Reproducible runs: a seed for identifiers (empty: the OS's cryptographic source) and an instant every sandbox's
    # clock starts at and stands still at until the admin API moves it (empty: real time). In-process replay sets both.
    id_seed: str = ""
    clock_start: str = ""
    # A folder of WireMock mapping files (`*.json`, one mapping or {"mappings": [...]} each) every sandbox starts with.
    mappings: str = ""
    # Partner contracts (--spec): "stateful" keeps what is posted to the resources a contract shows (resources/crud.py),
    # "examples" answers every operation from its examples.
    spec_mode: str = "stateful"
    extra_apis: tuple[ExtraApi, ...] = ()
    # Each registered flow's section (kernel/registry.py), by flow name; a flow missing here has its defaults.
    sections: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str, kind: type[T]) -> T:
        """The section of flow `name` (its defaults when none was loaded)."""
        found = self.sections.get(name)
        return found if isinstance(found, kind) else kind()

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


_CORE = {f.name: f.type for f in dataclasses.fields(Settings) if f.name not in ("extra_apis", "sections")}


def _section_fields(flows: Sequence[FlowInfo]) -> dict[str, dict[str, Any]]:
    """Each flow's section fields and their types, by flow name."""
    return {
        info.name: {f.name: f.type for f in dataclasses.fields(info.settings)}
        for info in flows
        if info.settings is not None
    }


def load_settings(
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    flows: Sequence[FlowInfo] | None = None,
) -> Settings:
    """Merge the layers; `overrides` uses flat names (`port`, `maco_token_lifetime`, `extra_apis`). A flow's settings
    are `<flow>_<name>` (PRUEFSTAND_TMF622_STEP_DELAY, `[tmf622] step_delay`), from its section dataclass."""
    env = os.environ if env is None else env
    flows = registry.flows(registry.extra_flow_modules(env)) if flows is None else flows
    kinds = dict(_CORE)
    for flow_name, fields in _section_fields(flows).items():
        kinds.update({f"{flow_name}_{name}": kind for name, kind in fields.items()})
    flat: dict[str, Any] = {}
    sources: dict[str, str] = {}
    config = config or (Path(env[f"{ENV_PREFIX}CONFIG"]) if env.get(f"{ENV_PREFIX}CONFIG") else None)
    if config is not None:
        flat.update(_from_toml(config, kinds, {info.name for info in flows}))
        sources.update(dict.fromkeys(flat, str(config)))
    for name in kinds:
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None:
            flat[name] = _coerce(name, kinds, value, f"environment variable {ENV_PREFIX}{name.upper()}")
            sources[name] = f"environment variable {ENV_PREFIX}{name.upper()}"
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    flat.update(given)
    sources.update({k: f"--{k.replace('_', '-')}" for k in given})
    _check_core(flat, sources)
    extra = tuple(flat.pop("extra_apis", ()))
    sections = {}
    for flow_name, fields in _section_fields(flows).items():
        chosen = {name: flat.pop(f"{flow_name}_{name}") for name in fields if f"{flow_name}_{name}" in flat}
        sections[flow_name] = _section(flows, flow_name, chosen)
    unknown = set(flat) - set(_CORE)
    if unknown:
        raise SettingsError(f"unknown settings: {sorted(unknown)}")
    settings = Settings(**flat, extra_apis=extra, sections=sections)
    for section in sections.values():
        check = getattr(section, "check", None)
        if check is not None:
            check(settings.allow_hosts())
    return settings


# the numeric settings' ranges (inclusive; None: no bound)
_RANGES: dict[str, tuple[float, float | None, str]] = {
    "port": (1, 65535, "a TCP port, 1-65535"),
    "workers": (0, 64, "0 (one per CPU, at most 4) or a count up to 64"),
    "max_body_bytes": (1, None, "a positive number of bytes"),
    "max_depth": (1, 10_000, "a nesting depth of 1-10000"),
    "journal_size": (0, 1_000_000, "0 (off) or the requests kept per sandbox, up to 1000000"),
    "read_timeout": (0.001, 3600, "seconds, more than 0 and at most 3600"),
    "delivery_max_attempts": (1, 1000, "attempts, 1-1000"),
    "delivery_backoff_base_ms": (0, 3_600_000, "milliseconds, 0-3600000"),
    "delivery_backoff_cap_ms": (0, 86_400_000, "milliseconds, 0-86400000"),
}


def _check_core(flat: Mapping[str, Any], sources: Mapping[str, str] | None = None) -> None:
    """The kit's own settings that take only some values, named (with where the value came from) when they do not."""
    for name, (low, high, expected) in _RANGES.items():
        value = flat.get(name)
        if value is None:
            continue
        if value < low or (high is not None and value > high):
            source = (sources or {}).get(name, "the settings")
            raise SettingsError(f"{name} must be {expected}, got {value!r} (from {source})")
    if flat.get("clock_start"):
        try:
            if datetime.fromisoformat(str(flat["clock_start"]).replace("Z", "+00:00")).tzinfo is None:
                raise ValueError("no time zone")
        except ValueError as exc:
            raise SettingsError(
                f"clock_start must be an ISO 8601 date-time with a zone, got {flat['clock_start']!r}"
            ) from exc
    if flat.get("spec_mode", "stateful") not in SPEC_MODES:
        raise SettingsError(f"spec_mode must be one of {SPEC_MODES}, got {flat['spec_mode']!r}")


def _section(flows: Sequence[FlowInfo], flow_name: str, values: Mapping[str, Any]) -> Any:
    kind = next(info.settings for info in flows if info.name == flow_name)
    assert kind is not None
    return kind(**values)


def sections_from_data(
    data: Mapping[str, Mapping[str, Any]], flows: Sequence[FlowInfo] | None = None
) -> dict[str, Any]:
    """Sections from their plain form (`dataclasses.asdict`), as a worker process receives them."""
    flows = registry.flows() if flows is None else flows
    known = {info.name for info in flows if info.settings is not None}
    return {name: _section(flows, name, values) for name, values in data.items() if name in known}


# Tables of pruefstand.toml that configure the checking commands, read by them and left alone by `serve`.
RUN_TABLES = ("run", "fuzz", "replay")


def _from_toml(path: Path, kinds: Mapping[str, Any], flow_names: set[str]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from exc
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in RUN_TABLES:
            continue  # the run configuration of `fuzz` and `replay` (commands/run_config.py), not serve's
        if key in flow_names and isinstance(value, dict):
            flat.update({f"{key}_{k}": _coerce(f"{key}_{k}", kinds, v, str(path)) for k, v in value.items()})
        elif key == "apis" and isinstance(value, list):
            flat["extra_apis"] = [ExtraApi(Path(a["spec"]), str(a["base_path"])) for a in value]
        else:
            flat[key] = _coerce(key, kinds, value, str(path))
    return flat


def _coerce(name: str, kinds: Mapping[str, Any], value: Any, source: str) -> Any:
    kind = kinds.get(name)
    kind = getattr(kind, "__name__", kind)  # annotations are strings or types, as the section's module has them
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
