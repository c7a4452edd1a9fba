"""The `pruefstand` command."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click
import httpx
import uvicorn

from contracts import BUNDLED_APIS, ContractError, bundled_spec_path, load_spec
from contracts.fuzz_reports import junit_xml, markdown
from contracts.fuzzing import DEFAULT_EXCLUDED_CHECKS, FuzzOptions, FuzzStarted, OperationFuzzed
from contracts.fuzzing import fuzz as run_fuzz
from contracts.scenarios import (
    FAILED,
    PASSED,
    SKIPPED,
    ScenarioFinished,
    ScenarioRunner,
    ScenarioStarted,
    StepFinished,
    load_scenario,
)
from contracts.scenarios import reports as scenario_reports
from contracts.spec_catalog import bundled_specs, contract_files, scenarios_root
from mock_server.asgi import RESOLVED_SETTINGS_ENV, settings_to_json
from mock_server.errors import MockError
from mock_server.fuzz_target import Credentials, in_process_target, url_target
from mock_server.scenario_target import in_process_target as scenario_in_process
from mock_server.scenario_target import url_target as scenario_url_target
from mock_server.settings import ExtraApi, load_settings


@click.group()
@click.version_option(package_name="pruefstand")
def main() -> None:
    """pruefstand: stateful mocks, scenario replay and contract fuzzing for German energy and telecom APIs."""


@main.command()
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML settings file.")
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8080).")
@click.option("--db", help="SQLite file for the state (default ./pruefstand.db; ':memory:' keeps nothing).")
@click.option("--admin-token", help="Token of the admin API (default: generated and printed).")
@click.option("--workers", type=int, help="Worker processes (default: one per CPU, at most 4).")
@click.option("--max-body-bytes", type=int, help="Largest accepted request body (default 1 MiB).")
@click.option("--strict-check-digits/--no-strict-check-digits", default=None, help="MaCo: refuse wrong check digits.")
@click.option("--idempotency", type=click.Choice(["conflict", "payload"]), help="MaCo: reuse of a prozessId.")
@click.option(
    "--spec",
    "specs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also serve this OpenAPI 2/3 document from its examples (repeatable, paired with --base-path).",
)
@click.option("--base-path", "base_paths", multiple=True, help="Base path for the --spec at the same position.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(
    config: Path | None,
    host: str | None,
    port: int | None,
    db: str | None,
    admin_token: str | None,
    workers: int | None,
    max_body_bytes: int | None,
    strict_check_digits: bool | None,
    idempotency: str | None,
    specs: tuple[Path, ...],
    base_paths: tuple[str, ...],
    log_level: str | None,
) -> None:
    """Serve every API on one port: MaCo at /maco, admin at /_admin, Swagger UI at <base>/ui/."""
    if len(specs) != len(base_paths):
        raise click.UsageError("give one --base-path for each --spec")
    for base in base_paths:
        if not base.startswith("/") or base.rstrip("/") in ("", "/maco", "/_admin"):
            raise click.UsageError(f"--base-path {base!r} must start with '/' and not be taken by a bundled API")
    try:
        settings = load_settings(
            config,
            overrides={
                "host": host,
                "port": port,
                "db": db,
                "admin_token": admin_token,
                "workers": workers,
                "max_body_bytes": max_body_bytes,
                "log_level": log_level,
                "maco_strict_check_digits": strict_check_digits,
                "maco_idempotency": idempotency,
                "extra_apis": [ExtraApi(s.resolve(), b.rstrip("/")) for s, b in zip(specs, base_paths, strict=True)]
                or None,
            },
        ).with_admin_token()
        for extra in settings.extra_apis:
            load_spec(extra.spec, resolve="external")  # fail before the server starts, naming file and place
    except (ContractError, MockError) as exc:
        raise click.ClickException(str(exc)) from exc
    os.environ[RESOLVED_SETTINGS_ENV] = settings_to_json(settings)
    base = f"http://{settings.host}:{settings.port}"
    click.echo(
        f"pruefstand serving on {base}  (state: {settings.db}, {settings.effective_workers()} worker(s))", err=True
    )
    click.echo(
        f"  MaCo trigger API  {base}/maco/inbound   token: {base}/maco/oauth/token   UI: {base}/maco/ui/",
        err=True,
    )
    for extra in settings.extra_apis:
        click.echo(f"  {extra.spec.name}  {base}{extra.base_path}/   UI: {base}{extra.base_path}/ui/", err=True)
    click.echo(f"  admin API  {base}/_admin/ui/   admin token: {settings.admin_token}", err=True)
    click.echo(f"  health     {base}/healthz", err=True)
    uvicorn.run(
        "mock_server.asgi:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.effective_workers(),
        log_level=settings.log_level,
        access_log=settings.log_level in ("info", "debug"),
    )


@main.command()
@click.argument("api", required=False, type=click.Choice([api.name for api in BUNDLED_APIS]))
@click.option(
    "--url", help="Base URL of the implementation (where the API's paths start). Default: the mock in-process."
)
@click.option(
    "--spec",
    "spec_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Fuzz against this contract instead of a bundled one (needs --url).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed; the same seed repeats the same run.")
@click.option("--max-examples", type=int, default=50, show_default=True, help="Examples per operation and phase.")
@click.option("--max-time", type=int, help="Stop after this many seconds (the run then fuzzes until the limit).")
@click.option("-H", "--header", "headers", multiple=True, help="Extra header 'Name: value' (e.g. authentication).")
@click.option("--token-url", help="MaCo: token endpoint of the implementation (default: <url>/oauth/token).")
@click.option(
    "--include-positive-acceptance",
    is_flag=True,
    help="Also demand that every schema-valid request is accepted (off: business rules refuse some).",
)
@click.option("--with-mock-extensions", is_flag=True, help="With --url: also fuzz the mock-only operations (tag MOCK).")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path), help="Write Markdown here.")
def fuzz(
    api: str | None,
    url: str | None,
    spec_file: Path | None,
    seed: int,
    max_examples: int,
    max_time: int | None,
    headers: tuple[str, ...],
    token_url: str | None,
    include_positive_acceptance: bool,
    with_mock_extensions: bool,
    junit_file: Path | None,
    report_file: Path | None,
) -> None:
    """Fuzz an API with Schemathesis against its contract; exit 1 on any finding."""
    if api is None and spec_file is None:
        raise click.UsageError("name a bundled API or give --spec FILE")
    if spec_file is not None and url is None:
        raise click.UsageError("--spec needs --url: the mock in-process serves only the bundled APIs")
    extra = dict(_parse_header(h) for h in headers)
    logging.getLogger("connexion").setLevel(logging.CRITICAL)
    settings = load_settings()
    try:
        target = (
            url_target(
                api,
                url,
                extra,
                spec_file=spec_file,
                token_url=token_url,
                credentials=Credentials.from_settings(settings.maco),
                with_mock_extensions=with_mock_extensions,
            )
            if url
            else in_process_target(str(api), settings, extra)
        )
    except (ContractError, MockError, httpx.HTTPError) as exc:
        raise click.ClickException(str(exc)) from exc
    options = FuzzOptions(
        seed=seed,
        max_examples=max_examples,
        max_time=max_time,
        excluded_checks=() if include_positive_acceptance else DEFAULT_EXCLUDED_CHECKS,
    )
    finished = None
    stateful_cases = 0
    for event in run_fuzz(target, options):
        if isinstance(event, FuzzStarted):
            where = url or "the mock in-process"
            click.echo(f"Fuzzing {event.title} ({event.operations} operations) at {where}, seed {event.seed}")
        elif isinstance(event, OperationFuzzed):
            if event.phase == "stateful" and not event.findings:
                stateful_cases += event.cases
                continue
            verdict = "ok" if not event.findings else click.style(f"{len(event.findings)} finding(s)", fg="red")
            click.echo(f"  {event.phase:<9} {event.operation:<45} {event.cases:>6} cases  {verdict}")
        else:
            finished = event
    if finished is None:
        raise click.ClickException("the fuzzer ended without a result")
    if stateful_cases:
        click.echo(f"  stateful  {'sequences along the links':<45} {stateful_cases:>6} cases  ok")
    title = target.spec.title
    if junit_file:
        junit_file.write_text(junit_xml(finished, title), encoding="utf-8")
    if report_file:
        report_file.write_text(markdown(finished, title), encoding="utf-8")
    for finding in finished.findings:
        click.echo(f"\nFAIL {finding.operation}: {finding.title} [{finding.code} {finding.check}]\n{finding.message}")
        click.echo(f"Reproduce with:\n  {finding.reproduce}")
    for error in finished.errors:
        click.echo(f"\nERROR {error}")
    summary = "no findings" if finished.ok else f"{len(finished.findings)} finding(s), {len(finished.errors)} error(s)"
    click.echo(f"\n{finished.cases} requests in {finished.seconds:.1f} s: {summary}")
    sys.exit(0 if finished.ok else 1)


def _parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise click.BadParameter(f"{text!r} is not 'Name: value'", param_hint="--header")
    return name.strip(), value.strip()


@main.command()
@click.argument("api", type=click.Choice([api.name for api in BUNDLED_APIS]))
@click.argument("operation_id")
@click.argument("name", required=False)
def example(api: str, operation_id: str, name: str | None) -> None:
    """Print a named request example of an operation as JSON (without NAME: list the names)."""
    spec = load_spec(bundled_spec_path(next(a.spec for a in BUNDLED_APIS if a.name == api)))
    try:
        operation = spec.operation(operation_id)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    content = operation.get("requestBody", {}).get("content", {})
    examples = {key: value for media in content.values() for key, value in media.get("examples", {}).items()}
    if name is None:
        click.echo("\n".join(examples) or f"{operation_id} documents no named request examples")
        return
    if name not in examples:
        raise click.ClickException(f"{operation_id} has no example {name!r}; it has: {', '.join(examples) or 'none'}")
    click.echo(json.dumps(examples[name]["value"], ensure_ascii=False, indent=2))


def _scenario_files(paths: tuple[Path, ...]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.yaml")) + sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    return found


def _is_scenario(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\nsteps:" in f"\n{text}" and "\nopenapi:" not in f"\n{text}" and "\nswagger:" not in f"\n{text}"


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def lint(paths: tuple[Path, ...]) -> None:
    """Check the bundled contracts and scenarios (and PATHS: contracts, scenario files or folders)."""
    targets = contract_files()
    given = _scenario_files(paths)
    scenario_files = _scenario_files((scenarios_root(),)) + [p for p in given if _is_scenario(p)]
    failed = 0
    for target in [*targets, *(p for p in given if not _is_scenario(p))]:
        try:
            spec = load_spec(target)
            click.echo(f"ok    {target}  ({spec.title}, OpenAPI {spec.openapi_version})")
        except ContractError as exc:
            failed += 1
            click.echo(f"FAIL  {exc}", err=True)
    specs = {name: load_spec(path) for name, path in bundled_specs().items()}
    for path in scenario_files:
        try:
            scenario = load_scenario(path, specs)
            click.echo(f"ok    {path}  (scenario: {scenario.name}, {len(scenario.steps)} steps)")
        except ContractError as exc:
            failed += 1
            click.echo(f"FAIL  {exc}", err=True)
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--url", help="Root URL of a running system; each API at its base path (/maco, /_admin).")
@click.option("--api-url", "api_urls", multiple=True, help="NAME=URL: the base URL of one API (overrides --url).")
@click.option("--mock/--real", "is_mock", default=False, help="With --url: the target is pruefstand (run mock steps).")
@click.option(
    "--listen", help="HOST:PORT for the listener that receives events and callbacks (in-process: a free port)."
)
@click.option("--callback-url", help="The URL the system under test should call to reach the listener.")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a Markdown report with Mermaid sequence diagrams here.",
)
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), help="Write JSON here.")
def replay(
    paths: tuple[Path, ...],
    url: str | None,
    api_urls: tuple[str, ...],
    is_mock: bool,
    listen: str | None,
    callback_url: str | None,
    junit_file: Path | None,
    report_file: Path | None,
    json_file: Path | None,
) -> None:
    """Replay scenario files (or folders of them) against the mock in-process, or against --url; exit 1 on failure."""
    logging.getLogger("connexion").setLevel(logging.CRITICAL)
    specs = {name: load_spec(path) for name, path in bundled_specs().items()}
    try:
        scenarios = [load_scenario(path, specs) for path in _scenario_files(paths)]
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc
    named = dict(_parse_api_url(item) for item in api_urls)
    target = (
        scenario_url_target(url, named, is_mock=is_mock, env=os.environ, listen=listen, callback_url=callback_url)
        if url or named
        else scenario_in_process(load_settings(), listen=listen or "127.0.0.1:0")
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
    click.echo(f"\n{len(runs)} scenario(s): {len(runs) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def _echo_scenario_event(event: object) -> None:
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
    return name, value
