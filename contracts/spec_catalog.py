"""Where the contracts that ship with pruefstand live, and which APIs they describe."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class BundledApi:
    """One API of the kit: its name, its contract file (relative to the specs root) and its base path."""

    name: str
    spec: str
    base_path: str


BUNDLED_APIS: tuple[BundledApi, ...] = (
    BundledApi("maco", "maco/trigger.yaml", "/maco"),
    BundledApi("admin", "admin/admin.yaml", "/_admin"),
    BundledApi("tmf622", "tmf622/product-ordering.yaml", "/tmf-api/productOrderingManagement/v4"),
    BundledApi("quittung", "quittung/quittung.yaml", "/v2.0"),
)


# Contracts of what a system under test sends out to a listener (not served by the mock).
LISTENER_APIS: tuple[BundledApi, ...] = (
    BundledApi("maco-backend", "maco/backend.yaml", ""),
    BundledApi("tmf622-listener", "tmf622/listener.yaml", ""),
)


def specs_root() -> Path:
    """The `specs/` folder: beside the packages in a checkout, inside `mock_server` in a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "specs", here.parent / "mock_server" / "_specs"):
        if (candidate / "maco" / "trigger.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"no specs/ folder found beside {here}")


def bundled_spec_path(relative: str) -> Path:
    """Absolute path of a contract file that ships with the kit."""
    return specs_root() / relative


def scenarios_root() -> Path:
    """The `scenarios/` folder that ships with the kit (beside the packages, or inside `mock_server` in a wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "scenarios", here.parent / "mock_server" / "_scenarios"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no scenarios/ folder found beside {here}")


def bundled_specs() -> dict[str, Path]:
    """Every bundled contract file by API name: the served APIs and the listener contracts."""
    return {api.name: bundled_spec_path(api.spec) for api in (*BUNDLED_APIS, *LISTENER_APIS)}


def contract_files() -> list[Path]:
    """Every OpenAPI document under `specs/` (files whose first key is `openapi` or `swagger`), for lint."""
    found = []
    for path in sorted(specs_root().rglob("*.yaml")):
        first = next(
            (
                line
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")
            ),
            "",
        )
        if first.startswith(("openapi:", "swagger:")):
            found.append(path)
    return found
