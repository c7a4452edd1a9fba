"""What `pruefstand fuzz` does with its options: the target, the run, the console and the reports."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import IO, Any

import click
import httpx

from pruefstand.contracts import ContractError
from pruefstand.contracts.fuzz_records import Exchange
from pruefstand.contracts.fuzzing import ALL_PHASES, FuzzFinished, FuzzOptions, FuzzStarted, FuzzTarget, plan
from pruefstand.contracts.fuzzing import fuzz as run_fuzz
from pruefstand.contracts.operation_selection import unmatched
from pruefstand.mock_server.commands.arguments import checked_url, writable
from pruefstand.mock_server.commands.fuzz_console import FuzzConsole
from pruefstand.mock_server.commands.run_options import auth_from, selection_from, tls_from
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.settings import load_settings


def _names(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """Repeated or comma-separated (`--checks a,b` as Schemathesis takes it); none given: None."""
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    return names or None


def options_from(values: Mapping[str, Any]) -> FuzzOptions:
    excluded = _names(values["exclude_checks"])
    if values["include_positive_acceptance"] and excluded is None:
        excluded = ()
    try:
        return FuzzOptions(
            seed=values["seed"],
            max_examples=values["max_examples"],
            max_time=values["max_time"],
            max_failures=values["max_failures"],
            workers=values["workers"],
            rate_limit=values["rate_limit"],
            request_timeout=values["request_timeout"],
            checks=_names(values["checks"]),
            excluded_checks=excluded,
            phases=_names(values["phases"]),
            allow_x00=values["allow_x00"],
            selection=selection_from(values),
            schemathesis_config=values["schemathesis_config"],
        )
    except ContractError as exc:
        raise click.UsageError(str(exc)) from exc


def target_from(values: Mapping[str, Any], *, fetch_tokens: bool) -> FuzzTarget:
    from pruefstand.mock_server.commands.fuzz_target import Credentials, in_process_target, url_target

    api, url, spec_file = values["api"], values["url"], values["spec_file"]
    extra = dict(_parse_header(h) for h in values["headers"])
    tls = tls_from(values)
    auth = auth_from(values, values["token_url"], tls)
    if url is None and (auth is not None or not tls.is_default):
        raise click.UsageError("--auth, --cert and --ca need --url (the mock in-process needs no credentials)")
    settings = load_settings()
    try:
        if url is None:
            return in_process_target(str(api), settings, extra)
        own = Credentials.for_api(settings, registry.api(api)) if api and fetch_tokens and auth is None else None
        return url_target(
            api,
            url,
            extra,
            spec_file=spec_file,
            token_url=values["token_url"],
            credentials=own,
            with_mock_extensions=values["with_mock_extensions"],
            auth=auth,
            tls=tls,
        )
    except (ContractError, MockError, httpx.HTTPError) as exc:
        raise click.ClickException(str(exc)) from exc


def run(values: dict[str, Any]) -> None:
    from pruefstand.mock_server.commands.reachability import preflight

    if values["api"] is None and values["spec_file"] is None:
        raise click.UsageError("name a bundled API or give --spec FILE")
    if values["spec_file"] is not None and values["url"] is None:
        raise click.UsageError("--spec needs --url: the mock in-process serves only the bundled APIs")
    values["url"] = checked_url(values["url"], "--url")
    for key, option in (("junit_file", "--junit"), ("report_file", "--report"), ("jsonl_file", "--jsonl")):
        values[key] = writable(values[key], option)
    values["cassette_file"] = writable(values["cassette_file"], "--cassette")
    logging.getLogger("connexion").setLevel(logging.CRITICAL)
    options = options_from(values)
    target = target_from(values, fetch_tokens=not values["dry_run"])
    missing = unmatched(options.selection, [target.spec.document])
    if missing:
        raise click.UsageError(f"{missing[0]} names no operation of {target.spec.title}")
    if values["dry_run"]:
        _print_plan(target, options, values["url"])
        return
    if values["url"]:
        headers = {**target.headers, **_first_credential(target)}
        preflight(target.spec.document, values["url"], headers, tls=target.tls)
    finished = _run(target, options, values)
    if values["url"] and finished.looks_misaddressed:
        servers = [str(server.get("url", "")) for server in target.spec.document.get("servers", [])]
        where = f"; the contract's servers: {', '.join(servers)}" if servers else ""
        raise click.ClickException(
            f"{finished.not_found} of {finished.answers} answers were 404: is the API's base path missing from --url "
            f"{values['url']}? --url is where the contract's paths start (for a bundled API: the server root + its "
            f"base path, e.g. http://127.0.0.1:8080/v2.0){where}. The {len(finished.findings)} finding(s) are not "
            "reported."
        )
    _write_reports(finished, target.spec.title, values)
    FuzzConsole.summary(finished)
    sys.exit(0 if finished.ok else 1)


def _first_credential(target: FuzzTarget) -> dict[str, str]:
    """The auth provider's headers, asked once before the run: a token endpoint that refuses, a file that is missing,
    is one line now instead of an error on every request."""
    if target.auth is None:
        return {}
    try:
        return target.auth.headers()
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc


def _run(target: FuzzTarget, options: FuzzOptions, values: Mapping[str, Any]) -> FuzzFinished:
    from pruefstand.contracts.cassettes import write_har
    from pruefstand.contracts.fuzz_reports import json_lines

    console = FuzzConsole(values["url"], target.headers, options.phases or ALL_PHASES)
    jsonl: IO[str] | None = values["jsonl_file"].open("w", encoding="utf-8") if values["jsonl_file"] else None
    failing: list[Exchange] = []
    finished = None
    try:
        for event in run_fuzz(target, options):
            console.show(event)
            if isinstance(event, FuzzFinished):
                finished = event
            elif not isinstance(event, FuzzStarted):
                failing.extend(event.failing)
                if jsonl is not None:
                    jsonl.writelines(json_lines(event.outcomes))
                    jsonl.flush()  # a run cut short leaves every outcome so far
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if jsonl is not None:
            jsonl.close()
    if values["cassette_file"]:
        write_har(values["cassette_file"], failing)
    if finished is None:
        raise click.ClickException("the fuzzer ended without a result")
    return finished


def _write_reports(finished: FuzzFinished, title: str, values: Mapping[str, Any]) -> None:
    from pruefstand.contracts.fuzz_reports import junit_xml, markdown

    if values["junit_file"]:
        values["junit_file"].write_text(junit_xml(finished, title), encoding="utf-8")
    if values["report_file"]:
        values["report_file"].write_text(markdown(finished, title), encoding="utf-8")


def _print_plan(target: FuzzTarget, options: FuzzOptions, url: str | None) -> None:
    try:
        chosen = plan(target, options)
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc
    where = url or "the mock in-process"
    click.echo(f"Would fuzz {target.spec.title} at {where}, seed {chosen.seed} (dry run: nothing sent)")
    click.echo(f"selection: {options.selection.describe()}")
    click.echo(f"operations ({len(chosen.operations)}):")
    for op in chosen.operations:
        tags = f"  [{', '.join(op.tags)}]" if op.tags else ""
        click.echo(f"  {op.operation_id or '-':<40} {op.label}{tags}")
    click.echo(f"checks: {', '.join(chosen.checks)}")
    click.echo(f"phases: {', '.join(chosen.phases)}")
    if target.auth is not None:
        click.echo(f"auth: {target.auth.description}")


def _parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise click.BadParameter(f"{text!r} is not 'Name: value'", param_hint="--header")
    return name.strip(), value.strip()
