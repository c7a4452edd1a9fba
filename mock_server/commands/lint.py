"""`pruefstand lint` and `pruefstand example`: contracts and scenarios checked, examples printed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pruefstand.contracts import ContractError, load_spec
from pruefstand.contracts.spec_catalog import contract_files
from pruefstand.mock_server.commands.api_specs import all_specs
from pruefstand.mock_server.kernel import registry


def scenario_files(paths: tuple[Path, ...]) -> list[Path]:
    """The files among PATHS, folders searched for *.yaml/*.yml."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.yaml")) + sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    return found


def _is_scenario(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\nsteps:" in f"\n{text}" and "\nopenapi:" not in f"\n{text}" and "\nswagger:" not in f"\n{text}"


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def lint(paths: tuple[Path, ...]) -> None:
    """Check the bundled contracts and scenarios (and PATHS: contracts, scenario files or folders)."""
    from pruefstand.contracts.scenarios import load_scenario  # loaded when linting, not for `--help`

    # every contract under specs/, and every registered API's own (the TMF622 v5 JSON, a flow's contract elsewhere)
    resolution = {registry.spec_path(api): api.resolve for api in registry.apis()}
    targets = contract_files() + [path for path in resolution if path not in contract_files()]
    given = scenario_files(paths)
    scenarios = scenario_files(tuple(registry.scenario_folders().values())) + [p for p in given if _is_scenario(p)]
    failed = 0
    for target in [*targets, *(p for p in given if not _is_scenario(p))]:
        try:
            spec = load_spec(target, resolve=resolution.get(target, "all"))
            click.echo(f"ok    {target}  ({spec.title}, OpenAPI {spec.openapi_version})")
        except ContractError as exc:
            failed += 1
            click.echo(f"FAIL  {exc}", err=True)
    specs = all_specs()
    for path in scenarios:
        try:
            scenario = load_scenario(path, specs)
            click.echo(f"ok    {path}  (scenario: {scenario.name}, {len(scenario.steps)} steps)")
        except ContractError as exc:
            failed += 1
            click.echo(f"FAIL  {exc}", err=True)
    sys.exit(1 if failed else 0)
