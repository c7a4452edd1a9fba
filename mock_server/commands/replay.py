"""`pruefstand replay`: scenario files against the mock or a real system."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from pruefstand.contracts import ContractError, load_spec
from pruefstand.mock_server.commands.api_specs import all_specs
from pruefstand.mock_server.commands.arguments import DEFAULT_CLOCK_START, DEFAULT_SEED, checked_url, writable
from pruefstand.mock_server.commands.lint import scenario_files
from pruefstand.mock_server.kernel.settings import load_settings


@click.command()
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
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a Markdown report with Mermaid sequence diagrams here.",
)
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), help="Write JSON here.")
@click.option(
    "--admin-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --mock: the mock's admin token (default: $PRUEFSTAND_ADMIN_TOKEN, else ./pruefstand.db.admin-token, "
    "which `pruefstand serve` keeps beside its state file).",
)
def replay(
    paths: tuple[Path, ...],
    url: str | None,
    api_urls: tuple[str, ...],
    extra_specs: tuple[str, ...],
    is_mock: bool,
    listen: str | None,
    callback_url: str | None,
    push_to: str | None,
    seed: str,
    real_time: bool,
    junit_file: Path | None,
    report_file: Path | None,
    json_file: Path | None,
    admin_token_file: Path | None,
) -> None:
    """Replay scenario files (or folders of them) against the mock in-process, or against --url; exit 1 on failure."""
    from pruefstand.contracts.scenarios import FAILED, SKIPPED, ScenarioFinished, ScenarioRunner, load_scenario
    from pruefstand.contracts.scenarios import reports as scenario_reports
    from pruefstand.mock_server.commands.reachability import answers
    from pruefstand.mock_server.commands.scenario_target import in_process_target as scenario_in_process
    from pruefstand.mock_server.commands.scenario_target import url_target as scenario_url_target

    url = checked_url(url, "--url")
    junit_file, report_file = writable(junit_file, "--junit"), writable(report_file, "--report")
    json_file = writable(json_file, "--json")
    logging.getLogger("connexion").setLevel(logging.CRITICAL)
    specs = all_specs()
    try:
        for item in extra_specs:
            name, sep, file = item.partition("=")
            if not sep or not name or not file:
                raise click.BadParameter(f"{item!r} is not NAME=FILE", param_hint="--spec")
            specs[name] = load_spec(file)
        scenarios = [load_scenario(path, specs) for path in scenario_files(paths)]
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc
    named = dict(_parse_api_url(item) for item in api_urls)
    env = dict(os.environ)
    if is_mock and (url or named):
        env[ADMIN_TOKEN_ENV] = _admin_token(env, admin_token_file)
    for option, where in ([("--url", url)] if url else []) + [("--api-url", u) for u in named.values()]:
        answers(where, option)  # before any scenario runs: a system that is not there is one line, not every step
    target = (
        scenario_url_target(
            url, named, is_mock=is_mock, env=env, listen=listen, callback_url=callback_url, push_to=push_to
        )
        if url or named
        else scenario_in_process(
            load_settings(),
            listen=listen or "127.0.0.1:0",
            push_to=push_to,
            seed=None if real_time else seed,
            clock_start=None if real_time else DEFAULT_CLOCK_START,
        )
    )
    runs: list[ScenarioFinished] = []
    with target as ready:
        runner = ScenarioRunner(specs, ready)
        for scenario in scenarios:
            for event in runner.run(scenario):
                _echo_scenario_event(event)
                if isinstance(event, ScenarioFinished):
                    runs.append(event)
    if junit_file:
        junit_file.write_text(scenario_reports.junit_xml(runs), encoding="utf-8")
    if report_file:
        report_file.write_text(scenario_reports.markdown(runs), encoding="utf-8")
    if json_file:
        json_file.write_text(scenario_reports.as_json(runs), encoding="utf-8")
    failed = [run for run in runs if run.outcome == FAILED]
    skipped = [run for run in runs if run.outcome == SKIPPED]
    passed = len(runs) - len(failed) - len(skipped)
    tail = f", {len(skipped)} skipped (no step could run here)" if skipped else ""
    click.echo(f"\n{len(runs)} scenario(s): {passed} passed, {len(failed)} failed{tail}")
    sys.exit(1 if failed else 0)


def _echo_scenario_event(event: object) -> None:
    from pruefstand.contracts.scenarios import FAILED, PASSED, SKIPPED, ScenarioStarted, StepFinished

    if isinstance(event, ScenarioStarted):
        click.echo(f"{event.scenario.name}  ({event.scenario.path})")
    elif isinstance(event, StepFinished):
        mark = {PASSED: "ok  ", FAILED: click.style("FAIL", fg="red"), SKIPPED: "skip"}[event.outcome]
        click.echo(f"  {mark} {event.index + 1}. {event.name}")
        for problem in event.problems:
            click.echo(f"         {problem}")
        if event.note:
            click.echo(f"         {event.note}")


def _parse_api_url(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise click.BadParameter(f"{text!r} is not NAME=URL", param_hint="--api-url")
    return name, str(checked_url(value, "--api-url"))


ADMIN_TOKEN_ENV = "PRUEFSTAND_ADMIN_TOKEN"
DEFAULT_TOKEN_FILE = Path("pruefstand.db.admin-token")  # beside the README serve command's state file


def _admin_token(env: dict[str, str], token_file: Path | None) -> str:
    """The mock's admin token for --mock steps: the file given, else the environment, else the file `pruefstand serve`
    keeps beside ./pruefstand.db; none at all is one clear error before the run."""
    if token_file is None and env.get(ADMIN_TOKEN_ENV):
        return env[ADMIN_TOKEN_ENV]
    source = token_file or DEFAULT_TOKEN_FILE
    try:
        token = source.read_text(encoding="utf-8").strip()
    except OSError:
        token = ""
    if not token:
        raise click.UsageError(
            f"--mock needs the mock's admin token: set {ADMIN_TOKEN_ENV}, or give --admin-token-file "
            f"({source} is missing or empty; `pruefstand serve` prints the token and keeps it in <db>.admin-token)"
        )
    return token
