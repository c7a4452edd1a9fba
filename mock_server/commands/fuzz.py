"""`pruefstand fuzz`: Schemathesis against a contract, in-process or at a URL. The options; the run is fuzz_run.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pruefstand.mock_server.commands.registry_choice import RegistryChoice
from pruefstand.mock_server.commands.run_config import config_option
from pruefstand.mock_server.commands.run_options import auth_options, pacing_options, selection_options
from pruefstand.mock_server.kernel import registry

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT = click.Path(dir_okay=False, path_type=Path)


@click.command()
@config_option("fuzz")
@click.argument("api", required=False, type=RegistryChoice(lambda: [api.name for api in registry.apis(served=True)]))
@click.option(
    "--url", help="Base URL of the implementation (where the API's paths start). Default: the mock in-process."
)
@click.option(
    "--spec", "spec_file", type=_FILE, help="Fuzz against this contract instead of a bundled one (needs --url)."
)
@click.option("--seed", type=int, help="Seed; the same seed repeats the same run.  [default: 0]")
@click.option("--max-examples", type=int, help="Examples per operation and phase.  [default: 50]")
@click.option("--max-time", type=int, help="Stop after this many seconds (the run then fuzzes until the limit).")
@click.option("--workers", type=int, help="Operations fuzzed at the same time (Schemathesis workers).  [default: 1]")
@pacing_options
@click.option(
    "--checks", "checks", multiple=True, help="Run only these checks (names as Schemathesis and the kit name them)."
)
@click.option("--exclude-checks", "exclude_checks", multiple=True, help="Do not run these checks.")
@click.option("--phases", multiple=True, help="Run only these phases: examples, coverage, fuzzing, stateful.")
@selection_options
@auth_options
@click.option("-H", "--header", "headers", multiple=True, help="Extra header 'Name: value' (e.g. authentication).")
@click.option(
    "--token-url",
    help="Token endpoint: for --auth oauth2-*, and for a bundled API's own credentials (MaCo: <url>/oauth/token).",
)
@click.option(
    "--include-positive-acceptance",
    is_flag=True,
    help="Also demand that every schema-valid request is accepted (off: business rules refuse some).",
)
@click.option("--with-mock-extensions", is_flag=True, help="With --url: also fuzz the mock-only operations (tag MOCK).")
@click.option("--allow-x00", is_flag=True, default=None, help="Also send U+0000 in strings (the mock refuses it).")
@click.option(
    "--schemathesis-config",
    type=_FILE,
    help="A schemathesis.toml for the Schemathesis part (default: the one Schemathesis finds itself).",
)
@click.option("--junit", "junit_file", type=_OUT, help="Write JUnit XML here.")
@click.option("--report", "report_file", type=_OUT, help="Write Markdown here.")
@click.option("--jsonl", "jsonl_file", type=_OUT, help="Write every check's outcome here, one JSON object per line.")
@click.option("--cassette", "cassette_file", type=_OUT, help="Write the failing exchanges here as HAR 1.2.")
@click.option("--dry-run", is_flag=True, help="Print the operations, checks and phases that would run; send nothing.")
def fuzz(**values: Any) -> None:
    """Fuzz an API with Schemathesis against its contract; exit 1 on any finding."""
    from pruefstand.mock_server.commands.fuzz_run import run

    run(values)
