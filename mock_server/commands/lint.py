"""`pruefstand lint` and `pruefstand example`: contracts and scenarios checked, examples printed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pruefstand.contracts import BUNDLED_APIS, ContractError, bundled_spec_path, load_spec
from pruefstand.contracts.request_examples import request_example, request_examples
from pruefstand.contracts.scenarios import (
    load_scenario,
)
from pruefstand.contracts.spec_catalog import bundled_specs, contract_files, scenarios_root


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
    targets = contract_files()
    given = scenario_files(paths)
    scenarios = scenario_files((scenarios_root(),)) + [p for p in given if _is_scenario(p)]
    failed = 0
    for target in [*targets, *(p for p in given if not _is_scenario(p))]:
        try:
            spec = load_spec(target)
            click.echo(f"ok    {target}  ({spec.title}, OpenAPI {spec.openapi_version})")
        except ContractError as exc:
            failed += 1
            click.echo(f"FAIL  {exc}", err=True)
    specs = {name: load_spec(path) for name, path in bundled_specs().items()}
    for path in scenarios:
        try:
            scenario = load_scenario(path, specs)
            click.echo(f"ok    {path}  (scenario: {scenario.name}, {len(scenario.steps)} steps)")
        except ContractError as exc:
            failed += 1
            click.echo(f"FAIL  {exc}", err=True)
    sys.exit(1 if failed else 0)


@click.command()
@click.argument("api", type=click.Choice([api.name for api in BUNDLED_APIS]))
@click.argument("operation_id", required=False)
@click.argument("name", required=False)
def example(api: str, operation_id: str | None, name: str | None) -> None:
    """Print a named request example of an operation as JSON (without NAME: list the names; without OPERATION_ID:
    list the operations and how many examples each has)."""
    spec = load_spec(bundled_spec_path(next(a.spec for a in BUNDLED_APIS if a.name == api)))
    if operation_id is None:
        for path, item in spec.document.get("paths", {}).items():
            for method, found in item.items():
                if not isinstance(found, dict) or "operationId" not in found:
                    continue
                content = found.get("requestBody", {}).get("content", {})
                count = sum(len(media.get("examples", {})) for media in content.values())
                shown = f"{count} example(s)" if count else "no request examples"
                click.echo(f"{found['operationId']:<32} {method.upper():<6} {path}  ({shown})")
        return
    try:
        examples = request_examples(api, operation_id)
        chosen = None if name is None else request_example(api, operation_id, name)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    if name is None:
        click.echo("\n".join(examples) or f"{operation_id} documents no named request examples")
        return
    click.echo(json.dumps(chosen, ensure_ascii=False, indent=2))
