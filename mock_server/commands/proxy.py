"""`pruefstand proxy`: a validating proxy between a partner's client and a real implementation, with a recorder."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click

from pruefstand.contracts import ContractError, load_spec
from pruefstand.mock_server.commands.arguments import checked_url, writable
from pruefstand.mock_server.http.console_lines import BatchedConsole
from pruefstand.mock_server.serving.process_hygiene import port_refusal


@click.command()
@click.option(
    "--spec",
    "spec_arg",
    required=True,
    help="The contract: an OpenAPI file, or the name of a registered API (as `pruefstand example --help` lists them).",
)
@click.option("--upstream", required=True, help="Base URL of the real implementation (the contract's server URL).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8081, show_default=True, help="0: any free port.")
@click.option(
    "--record",
    "record_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record the exchanges into this scenario file (rewritten after each one) for `pruefstand replay`.",
)
@click.option("--record-name", help="The recorded scenario's name (default: what was proxied, and when).")
@click.option(
    "--record-broken/--no-record-broken",
    default=False,
    help="Also record exchanges whose answer broke the contract (default: left out and named in the description).",
)
@click.option("--api-name", help="The API's name in the recorded scenario (default: the bundled name or file stem).")
@click.option(
    "--record-mappings",
    "mappings_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write every exchange as a WireMock stub mapping into this folder (for `serve --mappings`).",
)
def proxy(
    spec_arg: str,
    upstream: str,
    host: str,
    port: int,
    record_file: Path | None,
    record_name: str | None,
    record_broken: bool,
    api_name: str | None,
    mappings_dir: Path | None,
) -> None:
    """Forward every request to --upstream and every answer back, unchanged, checking both against the contract:
    one line per exchange, each problem under it, all of it at GET /_proxy/requests. Ctrl-C ends."""
    import uvicorn

    from pruefstand.contracts.exchange_check import ExchangeChecker
    from pruefstand.contracts.scenarios.recording import ScenarioRecorder
    from pruefstand.mock_server.commands.proxy_server import JOURNAL_PATH, ValidatingProxy
    from pruefstand.mock_server.stubs.recording import MappingRecorder

    upstream = str(checked_url(upstream, "--upstream"))
    record_file = writable(record_file, "--record")
    from pruefstand.mock_server.commands import api_specs

    bundled = api_specs.api_names()
    spec_path = api_specs.spec_file(spec_arg) if spec_arg in bundled else Path(spec_arg)
    name = api_name or (spec_arg if spec_arg in bundled else spec_path.stem)
    try:
        spec = api_specs.spec_of(spec_arg) if spec_arg in bundled else load_spec(spec_path)
    except ContractError as exc:
        raise click.BadParameter(str(exc), param_hint="--spec") from exc
    refusal = port_refusal(host, port) if port else None
    if refusal:
        raise click.UsageError(refusal)
    recorder = None
    if record_file is not None:
        recorder = ScenarioRecorder(
            name,
            name=record_name or f"{spec.title}: recorded through pruefstand proxy {time.strftime('%Y-%m-%d %H:%M')}",
            source=f"pruefstand proxy --spec {spec_arg} --upstream {upstream}",
            keep_broken_answers=record_broken,
        )
    # a stdout nobody reads (a harness piping it) must not hold the exchanges passing through
    console = BatchedConsole(sys.stdout)
    validating = ValidatingProxy(
        ExchangeChecker(spec),
        upstream,
        recorder=recorder,
        record_file=record_file,
        on_exchange=lambda entry: _echo(console, entry),
        mappings=MappingRecorder(mappings_dir) if mappings_dir is not None else None,
    )
    config = uvicorn.Config(validating.app(), host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    click.echo(
        f"proxy on http://{host}:{port} -> {upstream}, checking against {spec.title} ({spec_path}); "
        f"journal at {JOURNAL_PATH}",
        err=True,
    )
    validating.on_stop = lambda: _summary(validating, console, recorder, record_file, mappings_dir, spec_arg, name,
                                          spec_path, upstream)  # fmt: skip
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn hands Ctrl-C on after a clean shutdown
        server.run()


def _summary(
    validating: Any, console: BatchedConsole, recorder: Any, record_file: Path | None, mappings_dir: Path | None,
    spec_arg: str, name: str, spec_path: Path, upstream: str,
) -> None:  # fmt: skip
    """What the proxy saw and recorded, said when it stops (Ctrl-C or SIGTERM alike)."""
    from pruefstand.contracts.scenarios.recording import TOKEN_VARIABLE
    from pruefstand.mock_server.commands import api_specs

    console.flush()
    counts = validating.counts
    click.echo(
        f"{counts['exchanges']} exchange(s): {counts['request_violations']} request(s) and "
        f"{counts['answer_violations']} answer(s) broke the contract",
        err=True,
    )
    if record_file is not None and recorder is not None:
        hint = f"{TOKEN_VARIABLE}=… " if "auth" in recorder.document()["actors"]["client"] else ""
        bundled = spec_arg in api_specs.api_names() and name == spec_arg
        spec_option = "" if bundled else f" --spec {name}={spec_path}"
        click.echo(
            f"{recorder.step_count} step(s) recorded in {record_file}; replay: "
            f"{hint}pruefstand replay {record_file}{spec_option} --api-url {name}={upstream}",
            err=True,
        )
    if validating.mappings is not None:
        click.echo(
            f"{validating.mappings.count} exchange(s) written as stub mappings in {mappings_dir}; serve them: "
            f"pruefstand serve --mappings {mappings_dir}",
            err=True,
        )


def _echo(console: BatchedConsole, entry: dict[str, Any]) -> None:
    request, answer = entry["violations"]["request"], entry["violations"]["answer"]
    mark = click.style("BROKEN", fg="red") if request or answer else "ok"
    operation = entry["operation"] or "(not in the contract)"
    lines = [
        f"{time.strftime('%H:%M:%S')} {entry['method']} {entry['path']} -> {entry['status']} "
        f"{entry['ms']}ms {operation} {mark}",
        *(f"    request: {problem}" for problem in request),
        *(f"    answer:  {problem}" for problem in answer),
    ]
    text = "\n".join(lines)
    if not sys.stdout.isatty():  # as click.echo does: colours only on a terminal
        text = click.unstyle(text)
    console.handle(logging.makeLogRecord({"msg": text, "levelno": logging.INFO}))
