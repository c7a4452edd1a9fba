"""`pruefstand serve`: every API on one port."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pruefstand.contracts import ContractError, load_spec
from pruefstand.mock_server.commands.arguments import SettingsRefused
from pruefstand.mock_server.delivery.targets import TargetPolicy
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.errors import MockError, SettingsError
from pruefstand.mock_server.kernel.flow_info import ApiInfo
from pruefstand.mock_server.kernel.settings import ExtraApi, Settings, load_settings
from pruefstand.mock_server.serving.process_hygiene import port_refusal
from pruefstand.mock_server.store.factory import check_store, describe_store


def flow_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Each registered flow's serve options (FlowInfo.serve_options), named `--<setting>`; their values arrive as
    `<flow>_<setting>` settings."""
    for info in registry.flows():
        for option in info.serve_options:
            name = option.setting.replace("_", "-")
            declared = f"--{name}/--no-{name}" if option.flag else f"--{name}"
            kind = click.Choice(list(option.choices)) if option.choices else None
            command = click.option(declared, f"{info.name}_{option.setting}", type=kind, default=None,
                                   help=option.help)(command)  # fmt: skip
    return command


@click.command()
@flow_options
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML settings file.")
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8080).")
@click.option(
    "--db",
    help="State: a SQLite file (default ./pruefstand.db; ':memory:' keeps nothing), or a postgresql:// URL that "
    "several replicas share.",
)
@click.option("--admin-token", help="Token of the admin API (default: generated and printed).")
@click.option("--workers", type=int, help="Worker processes (default: one per CPU, at most 4).")
@click.option("--max-body-bytes", type=int, help="Largest accepted request body (default 1 MiB).")
@click.option(
    "--spec",
    "specs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also serve this OpenAPI 2/3 document from its examples (repeatable, paired with --base-path).",
)
@click.option("--base-path", "base_paths", multiple=True, help="Base path for the --spec at the same position.")
@click.option(
    "--mappings",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help='A folder of WireMock stub mappings (*.json: one mapping, or {"mappings": [...]}) every sandbox starts with.',
)
@click.option(
    "--spec-mode",
    type=click.Choice(["stateful", "examples"]),
    help="--spec contracts: keep what is posted to the resources they show (default), or answer from examples only.",
)
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--read-timeout", type=float, help="Seconds a client may take for a request's head, then its body "
              "(default 15); slower is answered 408.")  # fmt: skip
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Written (JSON: url, pid) once the port accepts connections, removed at exit: for scripts to wait on.",
)
def serve(
    config: Path | None,
    host: str | None,
    port: int | None,
    db: str | None,
    admin_token: str | None,
    workers: int | None,
    max_body_bytes: int | None,
    specs: tuple[Path, ...],
    base_paths: tuple[str, ...],
    mappings: Path | None,
    spec_mode: str | None,
    log_level: str | None,
    read_timeout: float | None,
    ready_file: Path | None,
    **flow_options: Any,
) -> None:
    """Serve every registered API on one port (admin at /_admin), Swagger UI at <base>/ui/."""
    from pruefstand.mock_server.serving.asgi import RESOLVED_SETTINGS_ENV, settings_to_json
    from pruefstand.mock_server.stubs.mappings import MappingError, load_files

    if len(specs) != len(base_paths):
        raise click.UsageError("give one --base-path for each --spec")
    for base in base_paths:
        _check_base_path(base)
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
                "read_timeout": read_timeout,
                **flow_options,
                "mappings": str(mappings.resolve()) if mappings else None,
                "spec_mode": spec_mode,
                "extra_apis": [ExtraApi(s.resolve(), b.rstrip("/")) for s, b in zip(specs, base_paths, strict=True)]
                or None,
            },
        )
        TargetPolicy.from_patterns(settings.allow_hosts())  # each allow-list entry checked before the start
        for extra in settings.extra_apis:
            load_spec(extra.spec, resolve="external")  # fail before the server starts, naming file and place
        if settings.mappings:  # likewise every mapping file, each problem named by file and place
            loaded = load_files(Path(settings.mappings))
            click.echo(f"  {len(loaded)} stub mapping(s) from {settings.mappings}", err=True)
        check_store(settings.db)
        settings, kept_in = stable_admin_token(settings)  # beside a state file that can be opened
        busy = port_refusal(settings.host, settings.port)
        if busy:
            raise click.ClickException(busy)
    except SettingsError as exc:
        raise SettingsRefused(str(exc)) from exc
    except (ContractError, MockError, MappingError) as exc:
        raise click.ClickException(str(exc)) from exc
    os.environ[RESOLVED_SETTINGS_ENV] = settings_to_json(settings)
    _run(settings, _banner(settings, kept_in), ready_file)


ADMIN_SANDBOX = "_pruefstand"  # "_": no request can name it (kernel/sandbox.py), the admin API lists none such


def _banner(settings: Settings, kept_in: str | None) -> list[str]:
    base = f"http://{settings.host}:{settings.port}"
    state, workers = describe_store(settings.db), settings.effective_workers()
    lines = [f"pruefstand serving on {base}  (state: {state}, {workers} worker(s))"]
    served = [api for api in registry.apis(served=True) if api.name != registry.ADMIN_API.name]
    lines += [f"  {banner_line(base, api)}" for api in served]
    for extra in settings.extra_apis:
        lines.append(f"  {extra.spec.name}  {base}{extra.base_path}/   UI: {base}{extra.base_path}/ui/")
    kept = f" (kept in {kept_in})" if kept_in else ""
    lines.append(f"  admin API  {base}/_admin/ui/   admin token: {settings.admin_token}{kept}")
    lines.append(f"  health     {base}/healthz")
    return lines


def _run(settings: Settings, banner: list[str], ready_file: Path | None) -> None:
    """Serve until SIGINT/SIGTERM; the banner (and the readiness file) once the port accepts connections."""
    # the server's modules load only when it starts (`serve --help` stays quick)
    from pruefstand.mock_server.serving import workers as workers_module
    from pruefstand.mock_server.serving.launch import ServerOptions, run_announced

    options = ServerOptions(settings.log_level, settings.log_level in ("info", "debug"), settings.read_timeout)
    count = settings.effective_workers()
    if count > 1 and workers_module.available():
        # the supervisor serves nothing: it becomes a fresh interpreter that imports only what supervising takes
        # (serving/supervise.py), so the contracts, flows and store this process loaded to check the settings do
        # not stay resident beside the workers (about 50 MiB)
        from pruefstand.mock_server.serving.supervise import become_supervisor

        become_supervisor(settings.host, settings.port, count, options, banner, ready_file)
    run_announced(
        settings.host,
        settings.port,
        banner,
        ready_file,
        echo=lambda line: click.echo(line, err=True),
        serve=lambda: _serve(settings, options),
    )


def _serve(settings: Settings, options: Any) -> None:
    """One process (or uvicorn's supervisor where the kernel does not balance SO_REUSEPORT sockets)."""
    import uvicorn

    from pruefstand.mock_server.serving.launch import uvicorn_config

    config = uvicorn_config(settings.host, settings.port, options)
    config.workers = settings.effective_workers()  # > 1 only where the kernel does not balance (uvicorn's own)
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()


def banner_line(base: str, api: ApiInfo) -> str:
    """One API in the start banner: its title, its addresses (the flow's links), its Swagger UI."""
    root = f"{base}{api.base_path}"
    links = [f"{name}: {root}{path}" for name, path in api.links.items()]
    ui = [f"UI: {root}/ui/"] if api.ui else []
    return f"{api.title:<18}" + "   ".join([root if not links else links[0], *links[1:], *ui])


def stable_admin_token(settings: Settings) -> tuple[Settings, str | None]:
    """The admin token: the configured one, else the one kept beside a SQLite state file (`<db>.admin-token`, made
    0600 on first start), so it stays the same across restarts and scripts can read it; on PostgreSQL the one kept in
    the database (the first replica to start makes it, every other replica reads it); a random one for `:memory:`."""
    if settings.admin_token:
        return settings, None
    if settings.db == ":memory:":
        return settings.with_admin_token(), None
    if "://" in settings.db:
        return dataclasses.replace(settings, admin_token=_token_in_database(settings.db)), "the database"
    kept = Path(settings.db + ".admin-token")
    try:
        token = kept.read_text(encoding="utf-8").strip() if kept.is_file() else ""
        if not token:
            token = secrets.token_urlsafe(24)
            descriptor = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(token + "\n")
    except OSError as exc:
        raise click.ClickException(f"admin token file {kept}: {exc.strerror or exc}") from exc
    return dataclasses.replace(settings, admin_token=token), str(kept)


def _token_in_database(db: str) -> str:
    """The replicas' shared admin token, in an internal sandbox of the database (never listed, never reset)."""
    from pruefstand.mock_server.store.factory import open_store
    from pruefstand.mock_server.store.protocol import RecordExists

    store = open_store(db)
    try:
        with store.transaction() as uow:
            with contextlib.suppress(RecordExists):  # another replica made it first (the insert waited for its commit)
                uow.insert(ADMIN_SANDBOX, "admin_token", "token", {"token": secrets.token_urlsafe(24)})
            kept = uow.get(ADMIN_SANDBOX, "admin_token", "token")
    finally:
        store.close()
    assert kept is not None
    return str(kept["token"])


def _check_base_path(base: str) -> None:
    """A partner contract's base path: absolute, not the root, and clear of every bundled API and /healthz."""
    taken = {api.base_path: f"the bundled {api.name} API" for api in registry.apis(served=True)}
    taken[registry.HEALTH_PATH] = "the health check"
    if not base.startswith("/"):
        raise click.UsageError(f"--base-path {base!r} must start with '/', e.g. /partner")
    bare = base.rstrip("/")
    if not bare:
        raise click.UsageError(
            f"--base-path {base!r}: the root holds the bundled APIs ({', '.join(sorted(taken))}); give the contract a "
            "path of its own, e.g. /partner"
        )
    for path, owner in taken.items():
        if bare == path or bare.startswith(path + "/") or path.startswith(bare + "/"):
            raise click.UsageError(f"--base-path {base!r} overlaps {path}, which {owner} uses; e.g. /partner")
