"""The options `fuzz` and `replay` share for a run against a real system: which operations, how fast, how
authenticated. Each group is a decorator; each has a builder that turns the parsed values into the contracts' types,
refusing a bad combination in one line naming the option."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from pruefstand.contracts.auth_providers import (
    AuthError,
    AuthProvider,
    BasicAuth,
    BearerToken,
    OAuth2Token,
    TlsSettings,
)
from pruefstand.contracts.operation_selection import OperationSelection

F = TypeVar("F", bound=Callable[..., Any])

AUTH_KINDS = ("oauth2-client-credentials", "oauth2-password", "basic", "bearer")
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _apply(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


SELECTION_FIELDS = ("operation_id", "path", "method", "tag")
_SELECTION_HELP = {
    "operation_id": "operationId",
    "path": "path, a glob such as '/productOrder*'",
    "method": "HTTP method",
    "tag": "tag",
}

selection_options = _apply(
    [
        click.option(
            f"--{verb}-{field.replace('_', '-')}",
            f"{verb}_{field}",
            multiple=True,
            help=f"{verb.capitalize()} operations by {_SELECTION_HELP[field]} (repeatable).",
        )
        for verb in ("include", "exclude")
        for field in SELECTION_FIELDS
    ]
)


def selection_from(values: Mapping[str, Any]) -> OperationSelection:
    try:
        return OperationSelection(
            **{
                f"{verb}_{field}": tuple(values[f"{verb}_{field}"])
                for verb in ("include", "exclude")
                for field in SELECTION_FIELDS
            }
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


pacing_options = _apply(
    [
        click.option("--rate-limit", help="At most this many requests, e.g. 10/s or 600/m (all workers together)."),
        click.option("--request-timeout", type=float, help="Seconds an answer may take before the request fails."),
        click.option("--max-failures", type=int, help="Stop after this many failures."),
    ]
)

auth_options = _apply(
    [
        click.option("--auth", "auth_kind", type=click.Choice(AUTH_KINDS), help="How to authenticate at --url."),
        click.option("--client-id", help="OAuth2 client id."),
        click.option(
            "--client-secret",
            envvar="PRUEFSTAND_CLIENT_SECRET",
            show_envvar=True,
            help="OAuth2 client secret (better from the environment or the config file's ${VAR}).",
        ),
        click.option(
            "--client-auth",
            type=click.Choice(["basic", "body"]),
            default="basic",
            show_default=True,
            help="How the OAuth2 client authenticates at the token URL (RFC 6749 §2.3.1).",
        ),
        click.option("--scope", help="OAuth2 scope to ask for."),
        click.option("--username", help="User for the OAuth2 password grant or HTTP Basic."),
        click.option(
            "--password",
            envvar="PRUEFSTAND_PASSWORD",
            show_envvar=True,
            help="Password for the password grant or Basic.",
        ),
        click.option("--token-file", type=_FILE, help="--auth bearer: read the token from this file."),
        click.option("--token-env", help="--auth bearer: take the token from this environment variable."),
        click.option("--cert", type=_FILE, help="Client certificate (PEM) for mTLS."),
        click.option("--key", type=_FILE, help="Private key (PEM) of --cert, when not in the same file."),
        click.option("--ca", type=_FILE, help="CA bundle (PEM) that verifies the system's certificate."),
    ]
)


def tls_from(values: Mapping[str, Any]) -> TlsSettings:
    try:
        return TlsSettings(cert=values["cert"], key=values["key"], ca=values["ca"])
    except AuthError as exc:
        raise click.UsageError(str(exc)) from exc


def auth_from(values: Mapping[str, Any], token_url: str | None, tls: TlsSettings) -> AuthProvider | None:
    """The provider --auth names, built and checked before the run (a token endpoint is asked at the first request)."""
    kind = values["auth_kind"]
    try:
        if kind is None:
            stray = [name for name in ("token_file", "token_env", "client_id") if values.get(name)]
            if stray:
                raise AuthError(f"--{stray[0].replace('_', '-')} needs --auth")
            return None
        if kind == "basic":
            if not values["username"] or values["password"] is None:
                raise AuthError("--auth basic needs --username and --password")
            return BasicAuth(values["username"], values["password"])
        if kind == "bearer":
            return BearerToken(file=values["token_file"], env=values["token_env"])
        if not token_url:
            raise AuthError(f"--auth {kind} needs --token-url (the implementation's token endpoint)")
        return OAuth2Token(
            token_url,
            grant=kind.removeprefix("oauth2-").replace("-", "_"),
            client_id=values["client_id"] or "",
            client_secret=values["client_secret"] or "",
            username=values["username"],
            password=values["password"],
            scope=values["scope"],
            client_auth=values["client_auth"],
            tls=tls,
        )
    except AuthError as exc:
        raise click.UsageError(str(exc)) from exc
