"""`pruefstand fuzz`: Schemathesis against a contract, in-process or at a URL."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
import httpx

from pruefstand.contracts import ContractError
from pruefstand.mock_server.commands.arguments import checked_url, writable
from pruefstand.mock_server.commands.registry_choice import RegistryChoice
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.errors import MockError
from pruefstand.mock_server.kernel.sandbox import SANDBOX_HEADER
from pruefstand.mock_server.kernel.settings import load_settings


@click.command()
@click.argument("api", required=False, type=RegistryChoice(lambda: [api.name for api in registry.apis(served=True)]))
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
@click.option(
    "--token-url",
    help="Token endpoint of the implementation (default: <url> + the contract's token path, MaCo: /oauth/token).",
)
@click.option(
    "--include-positive-acceptance",
    is_flag=True,
    help="Also demand that every schema-valid request is accepted (off: business rules refuse some).",
)
@click.option("--with-mock-extensions", is_flag=True, help="With --url: also fuzz the mock-only operations (tag MOCK).")
@click.option("--allow-x00", is_flag=True, help="Also send U+0000 in strings (the mock refuses it).")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path), help="Write Markdown here.")
def fuzz(  # noqa: C901 (listed in docs/ARCHITECTURE.md, Size rules)
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
    allow_x00: bool,
    junit_file: Path | None,
    report_file: Path | None,
) -> None:
    """Fuzz an API with Schemathesis against its contract; exit 1 on any finding."""
    from pruefstand.contracts.fuzz_reports import junit_xml, markdown
    from pruefstand.contracts.fuzzing import (
        ALL_PHASES,
        DEFAULT_EXCLUDED_CHECKS,
        FuzzOptions,
        FuzzStarted,
        OperationFuzzed,
    )
    from pruefstand.contracts.fuzzing import fuzz as run_fuzz
    from pruefstand.mock_server.commands.fuzz_progress import FuzzProgress
    from pruefstand.mock_server.commands.fuzz_target import Credentials, in_process_target, url_target
    from pruefstand.mock_server.commands.reachability import preflight

    if api is None and spec_file is None:
        raise click.UsageError("name a bundled API or give --spec FILE")
    if spec_file is not None and url is None:
        raise click.UsageError("--spec needs --url: the mock in-process serves only the bundled APIs")
    url = checked_url(url, "--url")
    junit_file, report_file = writable(junit_file, "--junit"), writable(report_file, "--report")
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
                credentials=Credentials.for_api(settings, registry.api(api)) if api else None,
                with_mock_extensions=with_mock_extensions,
            )
            if url
            else in_process_target(str(api), settings, extra)
        )
    except (ContractError, MockError, httpx.HTTPError) as exc:
        raise click.ClickException(str(exc)) from exc
    if url:
        preflight(target.spec.document, url, target.headers)
    options = FuzzOptions(
        seed=seed,
        max_examples=max_examples,
        max_time=max_time,
        excluded_checks=() if include_positive_acceptance else DEFAULT_EXCLUDED_CHECKS,
        allow_x00=allow_x00,
    )
    finished = None
    progress: FuzzProgress | None = None
    for event in run_fuzz(target, options):
        if isinstance(event, FuzzStarted):
            progress = FuzzProgress(event.operations, options.phases or ALL_PHASES)
            where = url or "the mock in-process"
            click.echo(f"Fuzzing {event.title} ({event.operations} operations) at {where}, seed {event.seed}")
            sandbox = next((v for k, v in target.headers.items() if k.lower() == SANDBOX_HEADER.lower()), None)
            if url and sandbox:
                click.echo(f"  in sandbox {sandbox} (its own; give -H '{SANDBOX_HEADER}: <name>' to choose)")
        elif isinstance(event, OperationFuzzed):
            assert progress is not None
            if event.phase == "stateful" and not event.findings:
                heartbeat = progress.stateful(event.cases)
                if heartbeat:
                    click.echo(heartbeat)
                continue
            verdict = "ok" if not event.findings else click.style(f"{len(event.findings)} finding(s)", fg="red")
            done = progress.operation_done() if event.phase != "stateful" else ""
            click.echo(f"  {event.phase:<9} {event.operation:<45} {event.cases:>6} cases  {verdict}{done}")
        else:
            finished = event
    if finished is None:
        raise click.ClickException("the fuzzer ended without a result")
    if progress is not None and progress.stateful_cases:
        cases = progress.stateful_cases
        click.echo(f"  stateful  {'sequences along the links':<45} {cases:>6} cases  ok")
    title = target.spec.title
    if url and finished.looks_misaddressed:
        servers = [str(server.get("url", "")) for server in target.spec.document.get("servers", [])]
        where = f"; the contract's servers: {', '.join(servers)}" if servers else ""
        raise click.ClickException(
            f"{finished.not_found} of {finished.answers} answers were 404: is the API's base path missing from --url "
            f"{url}? --url is where the contract's paths start (for a bundled API: the server root + its base path, "
            f"e.g. http://127.0.0.1:8080/v2.0){where}. The {len(finished.findings)} finding(s) are not reported."
        )
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
