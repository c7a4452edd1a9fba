"""What `pruefstand replay` does with its options: the scenarios chosen, the target, the run and the reports; a
HAR cassette sent again."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from pruefstand.contracts import ContractError, load_spec
from pruefstand.contracts.auth_providers import AuthProvider, HttpxAuth, TlsSettings
from pruefstand.contracts.pacing import RateLimit, paced
from pruefstand.contracts.scenarios.selection import ScenarioSelection
from pruefstand.mock_server.commands.api_specs import all_specs
from pruefstand.mock_server.commands.arguments import DEFAULT_CLOCK_START, checked_url, writable
from pruefstand.mock_server.commands.lint import scenario_files
from pruefstand.mock_server.commands.run_options import auth_from, selection_from, tls_from
from pruefstand.mock_server.kernel.settings import load_settings


def run(values: dict[str, Any]) -> None:
    values["url"] = checked_url(values["url"], "--url")
    for key, option in (("junit_file", "--junit"), ("report_file", "--report"), ("json_file", "--json")):
        values[key] = writable(values[key], option)
    logging.getLogger("connexion").setLevel(logging.CRITICAL)
    paths: tuple[Path, ...] = tuple(Path(p) for p in values["paths"])
    tls = tls_from(values)
    auth = auth_from(values, values["token_url"], tls)
    try:
        rate = RateLimit(values["rate_limit"]) if values["rate_limit"] else None
    except ContractError as exc:
        raise click.UsageError(str(exc)) from exc
    cassettes = [p for p in paths if p.suffix.lower() == ".har"]
    if cassettes:
        if len(cassettes) != len(paths):
            raise click.UsageError("give either scenario files or .har cassettes, not both in one run")
        _resend(cassettes, values, auth, tls, rate)
        return
    _replay(paths, values, auth, tls, rate)


def _selection(values: Mapping[str, Any]) -> ScenarioSelection:
    return ScenarioSelection(
        names=tuple(values["scenario_names"]),
        exclude_names=tuple(values["exclude_scenario_names"]),
        tags=tuple(values["scenario_tags"]),
        exclude_tags=tuple(values["exclude_scenario_tags"]),
        operations=selection_from(values),
    )


def _replay(
    paths: tuple[Path, ...],
    values: Mapping[str, Any],
    auth: AuthProvider | None,
    tls: TlsSettings,
    rate: RateLimit | None,
) -> None:
    from pruefstand.contracts.scenarios import FAILED, SKIPPED, ScenarioFinished, ScenarioRunner

    url = values["url"]
    specs, scenarios = _load(paths, values["extra_specs"])
    selection = _selection(values)
    chosen = [s for s in scenarios if selection.left_out(s, specs) is None]
    named = dict(_parse_api_url(item) for item in values["api_urls"])
    if (auth is not None or not tls.is_default) and not (url or named):
        raise click.UsageError("--auth, --cert and --ca need --url (the mock in-process needs no credentials)")
    if values["dry_run"]:
        _print_plan(scenarios, selection, specs, url or ", ".join(named.values()) or "the mock in-process")
        return
    if not chosen:
        raise click.UsageError(f"the selection leaves none of the {len(scenarios)} scenario(s) to run")
    env = dict(os.environ)
    if values["is_mock"] and (url or named):
        env[ADMIN_TOKEN_ENV] = _admin_token(env, values["admin_token_file"])
    _before_the_run(url, named, auth, tls)
    runs: list[ScenarioFinished] = []
    max_failures = values["max_failures"]
    with _target(values, named, env, auth, tls, rate) as ready:
        runner = ScenarioRunner(specs, ready)
        for scenario in chosen:
            for event in runner.run(scenario):
                _echo_scenario_event(event)
                if isinstance(event, ScenarioFinished):
                    runs.append(event)
            if max_failures and sum(r.outcome == FAILED for r in runs) >= max_failures:
                click.echo(f"\nstopped after {max_failures} failed scenario(s) (--max-failures)")
                break
    _write_reports(runs, values)
    failed = [run for run in runs if run.outcome == FAILED]
    skipped = [run for run in runs if run.outcome == SKIPPED]
    passed = len(runs) - len(failed) - len(skipped)
    tail = f", {len(skipped)} skipped (no step could run here)" if skipped else ""
    left = len(scenarios) - len(chosen)
    tail += f", {left} not selected" if left else ""
    click.echo(f"\n{len(runs)} scenario(s): {passed} passed, {len(failed)} failed{tail}")
    sys.exit(1 if failed else 0)


def _before_the_run(url: str | None, named: Mapping[str, str], auth: AuthProvider | None, tls: TlsSettings) -> None:
    """A token endpoint that refuses, a missing token file, a system that is not there: one line before any
    scenario runs, not a failure in every step."""
    from pruefstand.mock_server.commands.reachability import answers

    if auth is not None:
        try:
            auth.headers()
        except ContractError as exc:
            raise click.ClickException(str(exc)) from exc
    for option, where in ([("--url", url)] if url else []) + [("--api-url", u) for u in named.values()]:
        answers(where, option, tls)


def _load(paths: tuple[Path, ...], extra_specs: tuple[str, ...]) -> tuple[dict[str, Any], list[Any]]:
    from pruefstand.contracts.scenarios import load_scenario

    specs = all_specs()
    try:
        for item in extra_specs:
            name, sep, file = item.partition("=")
            if not sep or not name or not file:
                raise click.BadParameter(f"{item!r} is not NAME=FILE", param_hint="--spec")
            specs[name] = load_spec(file)
        return specs, [load_scenario(path, specs) for path in scenario_files(paths)]
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc


def _write_reports(runs: list[Any], values: Mapping[str, Any]) -> None:
    from pruefstand.contracts.scenarios import reports as scenario_reports

    if values["junit_file"]:
        values["junit_file"].write_text(scenario_reports.junit_xml(runs), encoding="utf-8")
    if values["report_file"]:
        values["report_file"].write_text(scenario_reports.markdown(runs), encoding="utf-8")
    if values["json_file"]:
        values["json_file"].write_text(scenario_reports.as_json(runs), encoding="utf-8")


def _target(
    values: Mapping[str, Any],
    named: Mapping[str, str],
    env: Mapping[str, str],
    auth: AuthProvider | None,
    tls: TlsSettings,
    rate: RateLimit | None,
) -> Any:
    from pruefstand.mock_server.commands.scenario_target import in_process_target, url_target

    if values["url"] or named:
        return url_target(
            values["url"],
            named,
            is_mock=values["is_mock"],
            env=env,
            listen=values["listen"],
            callback_url=values["callback_url"],
            push_to=values["push_to"],
            auth=auth,
            tls=tls,
            rate=rate,
            timeout=values["request_timeout"] or 30.0,
        )
    return in_process_target(
        load_settings(),
        listen=values["listen"] or "127.0.0.1:0",
        push_to=values["push_to"],
        seed=None if values["real_time"] else values["seed"],
        clock_start=None if values["real_time"] else DEFAULT_CLOCK_START,
        rate=rate,
    )


def _print_plan(scenarios: list[Any], selection: ScenarioSelection, specs: Mapping[str, Any], where: str) -> None:
    click.echo(f"Would replay at {where} (dry run: nothing sent)")
    click.echo(f"operations: {selection.operations.describe()}")
    chosen = 0
    for scenario in scenarios:
        reason = selection.left_out(scenario, specs)
        tags = f"  [{', '.join(scenario.tags)}]" if scenario.tags else ""
        if reason is None:
            chosen += 1
            click.echo(f"  run   {scenario.path}  {scenario.name}{tags}")
        else:
            click.echo(f"  skip  {scenario.path}  ({reason})")
    click.echo(f"{chosen} of {len(scenarios)} scenario(s) selected")


def _resend(
    cassettes: list[Path],
    values: Mapping[str, Any],
    auth: AuthProvider | None,
    tls: TlsSettings,
    rate: RateLimit | None,
) -> None:
    from pruefstand.contracts.cassettes import load_har, resend

    try:
        recorded = [entry for path in cassettes for entry in load_har(path)]
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc
    if values["dry_run"]:
        for entry in recorded:
            click.echo(f"  would send {entry.method} {entry.url} (recorded: {entry.status})")
        return
    client = tls.client(timeout=values["request_timeout"] or 30.0)
    if auth is not None:
        client.auth = HttpxAuth(auth)
    paced(client, rate)
    reproduced = 0
    with client:
        for result in resend(recorded, client, values["url"]):
            answer = result.error or str(result.status)
            verdict = "same" if result.reproduced else click.style("differs", fg="yellow")
            reproduced += result.reproduced
            click.echo(
                f"  {result.recorded.method} {result.url}: {answer} (recorded {result.recorded.status}, {verdict})"
            )
            click.echo(f"      {result.recorded.comment}")
    click.echo(f"\n{len(recorded)} request(s) sent again: {reproduced} answered as recorded")
    sys.exit(0 if reproduced == len(recorded) else 1)


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
