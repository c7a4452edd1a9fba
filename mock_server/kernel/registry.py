"""The flow registry: every package under `mock_server/flows/` that exports `FLOW` (a FlowInfo), plus the modules named
in PRUEFSTAND_FLOWS (comma-separated import names: a partner's own flow, or a test's). A new API is a new folder.

Discovery imports only each flow's `__init__` (its FlowInfo and settings section); `mount` is imported when the app
is built. The admin API is not a flow: it is the kit's own, listed first among the APIs.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from pruefstand.contracts.spec_catalog import scenarios_root, specs_root
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.flow_info import ApiInfo, FlowInfo

FLOWS_ENV = "PRUEFSTAND_FLOWS"
FLOWS_PACKAGE = "pruefstand.mock_server.flows"
# Sandboxes exist by name: DELETE /sandboxes/{s} empties one, it never removes it (its mappings, clock … still
# answer), so Schemathesis' use_after_free premise does not hold for them.
ADMIN_API = ApiInfo(
    "admin", "admin/admin.yaml", "/_admin", "admin API", auth="admin", skipped_checks=("use_after_free",)
)
HEALTH_PATH = "/healthz"


class RegistryError(MockError):
    """A flow module could not be found or declares something another flow declares already."""


def extra_flow_modules(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    value = (os.environ if env is None else env).get(FLOWS_ENV, "")
    return tuple(name.strip() for name in value.split(",") if name.strip())


def flows(extra: Sequence[str] | None = None) -> tuple[FlowInfo, ...]:
    """The registered flows: the kit's own (alphabetical), then the extra modules in the order given."""
    return _discover(tuple(extra_flow_modules() if extra is None else extra))


@functools.cache
def _discover(extra: tuple[str, ...]) -> tuple[FlowInfo, ...]:
    package = importlib.import_module(FLOWS_PACKAGE)
    own = sorted(found.name for found in pkgutil.iter_modules(package.__path__) if found.ispkg)
    found: list[FlowInfo] = []
    for module_name in [f"{FLOWS_PACKAGE}.{name}" for name in own] + list(extra):
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise RegistryError(f"{FLOWS_ENV}: flow module {module_name!r} cannot be imported: {exc}") from exc
        info = getattr(module, "FLOW", None)
        if isinstance(info, FlowInfo):
            found.append(info)
        elif module_name in extra:
            raise RegistryError(f"{FLOWS_ENV}: {module_name!r} exports no FLOW (a FlowInfo)")
    _check_unique(found)
    return tuple(found)


def _check_unique(found: Sequence[FlowInfo]) -> None:
    names: dict[str, str] = {}
    paths: dict[str, str] = {ADMIN_API.base_path: "the admin API", HEALTH_PATH: "the health check"}
    for info in found:
        for key in (info.name, *(api.name for api in info.apis)):
            if names.get(key, info.name) != info.name or key == ADMIN_API.name:
                raise RegistryError(f"flow {info.name!r}: the name {key!r} is taken by {names.get(key, 'admin')!r}")
            names[key] = info.name
        for api in info.served_apis:
            for path, owner in paths.items():
                if (
                    api.base_path == path
                    or api.base_path.startswith(path + "/")
                    or path.startswith(api.base_path + "/")
                ):
                    raise RegistryError(f"flow {info.name!r}: base path {api.base_path} overlaps {path} ({owner})")
            paths[api.base_path] = f"API {api.name}"


def flow(name: str, extra: Sequence[str] | None = None) -> FlowInfo:
    for info in flows(extra):
        if info.name == name:
            return info
    raise RegistryError(f"unknown flow {name!r}; known: {', '.join(f.name for f in flows(extra))}")


def apis(*, served: bool | None = None, extra: Sequence[str] | None = None) -> tuple[ApiInfo, ...]:
    """Every API: the admin API, then each flow's (served ones, or the contracts of what flows send out)."""
    listed = [ADMIN_API, *(api for info in flows(extra) for api in info.apis)]
    return tuple(api for api in listed if served is None or api.served == served)


def api(name: str, extra: Sequence[str] | None = None) -> ApiInfo:
    for found in apis(extra=extra):
        if found.name == name:
            return found
    raise RegistryError(f"unknown API {name!r}; known: {', '.join(a.name for a in apis(extra=extra))}")


def flow_of(api_name: str, extra: Sequence[str] | None = None) -> FlowInfo | None:
    """The flow an API belongs to (None for the admin API)."""
    for info in flows(extra):
        if any(found.name == api_name for found in info.apis):
            return info
    return None


def spec_path(found: ApiInfo) -> Path:
    return found.spec_path(specs_root())


def admin_fragments(infos: Sequence[FlowInfo] | None = None) -> list[tuple[FlowInfo, Path]]:
    """Each flow's admin fragment (an OpenAPI document whose paths join the admin API)."""
    chosen = flows() if infos is None else infos
    return [(info, _absolute(info.admin_spec, specs_root())) for info in chosen if info.admin_spec]


def scenario_folders(extra: Sequence[str] | None = None) -> dict[str, Path]:
    """Each flow's scenario folder, by flow name (flows without scenarios are left out)."""
    return {info.name: _absolute(info.scenarios, scenarios_root()) for info in flows(extra) if info.scenarios}


def _absolute(path: str, root: Path) -> Path:
    found = Path(path)
    return found if found.is_absolute() else root / found
