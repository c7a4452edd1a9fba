"""`pruefstand scenarios`: the scenario files that ship with the kit, listed or copied into a project to adapt."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import yaml

from pruefstand.contracts.spec_catalog import scenarios_root
from pruefstand.mock_server.commands.registry_choice import RegistryChoice
from pruefstand.mock_server.kernel import registry


@click.group()
def scenarios() -> None:
    """The bundled scenario files (also after `pip install`): list them, or copy them to adapt."""


@scenarios.command("list")
def list_scenarios() -> None:
    """Each bundled scenario: its path (relative to the bundle) and its name."""
    root = scenarios_root()
    for path in sorted(root.rglob("*.yaml")):
        name = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("name", "")
        click.echo(f"{path.relative_to(root)}  {name}")


@scenarios.command("copy")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--flow", type=RegistryChoice(lambda: list(registry.scenario_folders())), help="Only this flow's scenarios."
)
@click.option("--force", is_flag=True, help="Overwrite files that are there already.")
def copy_scenarios(target: Path, flow: str | None, force: bool) -> None:
    """Copy the bundled scenarios (one folder per flow) into TARGET, to adapt and `pruefstand replay`."""
    root = registry.scenario_folders()[flow].parent if flow else scenarios_root()
    chosen = sorted(registry.scenario_folders()[flow].rglob("*.yaml") if flow else root.rglob("*.yaml"))
    existing = [p for p in chosen if (target / p.relative_to(root)).exists()]
    if existing and not force:
        raise click.ClickException(
            f"{target / existing[0].relative_to(root)} exists ({len(existing)} file(s) would be overwritten; --force)"
        )
    for path in chosen:
        destination = target / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    click.echo(f"{len(chosen)} scenario(s) copied to {target}")
