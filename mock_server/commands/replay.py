"""`pruefstand replay`: scenario files against the mock or a real system (and HAR cassettes sent again). The
options; the run is replay_run.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pruefstand.mock_server.commands.arguments import DEFAULT_CLOCK_START, DEFAULT_SEED
from pruefstand.mock_server.commands.run_config import config_option
from pruefstand.mock_server.commands.run_options import auth_options, pacing_options, selection_options

_OUT = click.Path(dir_okay=False, path_type=Path)


@click.command()
@config_option("replay")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--url", help="Root URL of a running system; each API at its base path (/maco, /_admin).")
@click.option("--api-url", "api_urls", multiple=True, help="NAME=URL: the base URL of one API (overrides --url).")
@click.option(
    "--spec",
    "extra_specs",
    multiple=True,
    help="NAME=FILE: a contract of your own, for scenarios that list NAME in apis (e.g. recorded by proxy).",
)
@click.option("--mock/--real", "is_mock", default=False, help="With --url: the target is pruefstand (run mock steps).")
@click.option(
    "--listen", help="HOST:PORT for the listener that receives events and callbacks (in-process: a free port)."
)
@click.option("--callback-url", help="The URL the system under test should call to reach the listener.")
@click.option("--push-to", help="Base URL of a listener under test: push_events steps send their events there.")
@click.option(
    "--seed",
    default=DEFAULT_SEED,
    show_default=True,
    help="In-process: identifiers and run ids from this seed, so a run repeats itself.",
)
@click.option(
    "--real-time",
    is_flag=True,
    help=f"In-process: random identifiers and the real clock (default: seeded, clocks at {DEFAULT_CLOCK_START}).",
)
@click.option("--scenario", "scenario_names", multiple=True, help="Only scenarios whose name or file stem matches.")
@click.option("--exclude-scenario", "exclude_scenario_names", multiple=True, help="Leave out scenarios by name.")
@click.option("--scenario-tag", "scenario_tags", multiple=True, help="Only scenarios with one of these tags.")
@click.option("--exclude-scenario-tag", "exclude_scenario_tags", multiple=True, help="Leave out scenarios by tag.")
@selection_options
@pacing_options
@auth_options
@click.option("--token-url", help="Token endpoint for --auth oauth2-*.")
@click.option("--junit", "junit_file", type=_OUT, help="Write JUnit XML here.")
@click.option("--report", "report_file", type=_OUT, help="Write a Markdown report with Mermaid sequence diagrams here.")
@click.option("--json", "json_file", type=_OUT, help="Write JSON here.")
@click.option(
    "--admin-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --mock: the mock's admin token (default: $PRUEFSTAND_ADMIN_TOKEN, else ./pruefstand.db.admin-token, "
    "which `pruefstand serve` keeps beside its state file).",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the scenarios that would run (and why others do not); send nothing."
)
def replay(**values: Any) -> None:
    """Replay scenario files (or folders of them) against the mock in-process, or against --url; exit 1 on failure.
    A .har file (a fuzz cassette) is sent again request by request, each answer compared with the recorded one."""
    from pruefstand.mock_server.commands.replay_run import run

    run(values)
