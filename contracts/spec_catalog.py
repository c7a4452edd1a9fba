"""Where the contracts and scenarios that ship with pruefstand live (which APIs they describe is the mock's flow
registry: mock_server/kernel/registry.py)."""

from __future__ import annotations

from pathlib import Path


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
