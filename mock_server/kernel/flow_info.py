"""What a flow says about itself before anything is built: its name, its APIs (contract, base path), its admin
fragment, its scenarios, its settings section and where its `mount` lives. Cheap to import: the CLI lists, the
settings loader and the help texts read only this; `mount` (in the flow's `mount.py`) builds the running parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Resolution = Literal["all", "external"]


@dataclass(frozen=True, slots=True)
class ApiInfo:
    """One API of a flow.

    `spec` is relative to the kit's `specs/` folder unless absolute; `served=False` marks a contract of what the flow
    sends out (a buyer's listener, a customer's backend), which replay and lint know but the mock does not serve.
    `links` are extra addresses shown in the start banner (`{"hub": "/hub"}`); `auth` says how `pruefstand fuzz` and
    replay get credentials for it in-process (`"admin"`: the admin token, or the operationId of a password-grant
    token operation of this API).
    """

    name: str
    spec: str
    base_path: str
    title: str
    served: bool = True
    resolve: Resolution = "all"
    links: Mapping[str, str] = field(default_factory=dict)
    auth: str = ""
    # Hypothesis health checks the official contract's size makes fail now and then (never a finding).
    suppressed_health_checks: tuple[str, ...] = ()
    # Schemathesis checks whose premise the API does not share (named with the reason where the API is declared).
    skipped_checks: tuple[str, ...] = ()
    ui: bool = True

    def spec_path(self, specs_root: Path) -> Path:
        path = Path(self.spec)
        return path if path.is_absolute() else specs_root / path


@dataclass(frozen=True, slots=True)
class ServeOption:
    """A `pruefstand serve` option for one setting of the flow's section: a flag (`--x/--no-x`) for a bool setting,
    or a value (with `choices` when the setting takes only some)."""

    setting: str  # the section's field
    help: str
    choices: tuple[str, ...] = ()
    flag: bool = False


@dataclass(frozen=True, slots=True)
class FlowInfo:
    """A flow as the registry knows it. `mount` is `module:function`, imported only when the app is built."""

    name: str
    apis: tuple[ApiInfo, ...]
    mount: str
    summary: str = ""
    settings: type | None = None  # a frozen dataclass: the flow's section (`[name]` in TOML, PRUEFSTAND_<NAME>_*)
    admin_spec: str = ""  # an OpenAPI document whose paths join the admin API (relative to specs/ unless absolute)
    scenarios: str = ""  # the flow's scenario folder (relative to scenarios/ unless absolute)
    serve_options: tuple[ServeOption, ...] = ()  # the settings `pruefstand serve` takes as options

    def api(self, name: str) -> ApiInfo:
        for api in self.apis:
            if api.name == name:
                return api
        raise KeyError(f"flow {self.name!r} has no API {name!r}")

    @property
    def served_apis(self) -> tuple[ApiInfo, ...]:
        return tuple(api for api in self.apis if api.served)
