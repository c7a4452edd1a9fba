"""`pruefstand example`: the documented request examples of the bundled contracts, listed or printed. Imports only
what reading a contract needs, so it answers quickly (the README's MaCo loop calls it once per example)."""

from __future__ import annotations

import json

import click

from pruefstand.mock_server.commands.api_specs import request_example, request_examples, spec_of
from pruefstand.mock_server.commands.registry_choice import RegistryChoice
from pruefstand.mock_server.kernel import registry


@click.command()
@click.argument("api", type=RegistryChoice(lambda: [api.name for api in registry.apis(served=True)]))
@click.argument("operation_id", required=False)
@click.argument("name", required=False)
def example(api: str, operation_id: str | None, name: str | None) -> None:
    """Print a named request example of an operation as JSON (without NAME: list the names; without OPERATION_ID:
    list the operations and how many examples each has)."""
    spec = spec_of(api)
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
