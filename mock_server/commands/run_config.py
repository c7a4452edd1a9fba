"""The run configuration a team checks in: `pruefstand.toml`, or a `[tool.pruefstand]` table in `pyproject.toml`.

Keys are the commands' own option names without the dashes (`rate-limit`, `include-tag`, `max-examples`), so the
file and the command line read alike. A `[run]` table holds the options `fuzz` and `replay` share (authentication,
pacing, selection); a `[fuzz]` or `[replay]` table holds one command's keys and overrides the shared ones; an option
on the command line overrides both. Top-level keys of pruefstand.toml are `serve`'s (README, Configuration), the
same file serving both. `${NAME}` in a string is the environment variable NAME (secrets stay out of the
file). Relative paths are relative to the file. Every value is checked against a schema derived from the options
(docs/CI.md lists them) before the run: an unknown key or a wrong type is one line naming the file and the key.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
import jsonschema

from pruefstand.mock_server.commands.arguments import SettingsRefused
from pruefstand.mock_server.kernel.settings import RUN_TABLES

CONFIG_FILE = "pruefstand.toml"
COMMANDS = ("fuzz", "replay")
SHARED = "run"
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SKIPPED = {"help", "config", "config_file"}
F = TypeVar("F", bound=Callable[..., Any])


def key_of(param: click.Parameter) -> str:
    longest = max((o for o in param.opts if o.startswith("--")), key=len, default=None)
    return longest[2:] if longest else str(param.name).replace("_", "-")


def _type_schema(param: click.Parameter) -> dict[str, Any]:
    kind = param.type
    if isinstance(param, click.Option) and param.is_flag:
        one: dict[str, Any] = {"type": "boolean"}
    elif isinstance(kind, click.Choice):
        one = {"enum": list(kind.choices)}
    elif isinstance(kind, click.types.IntParamType):
        one = {"type": "integer"}
    elif isinstance(kind, click.types.FloatParamType):
        one = {"type": "number"}
    else:
        one = {"type": "string"}
    if param.multiple or param.nargs == -1:
        return {"type": "array", "items": one}
    return one


def command_schema(command: click.Command) -> dict[str, dict[str, Any]]:
    """key -> JSON Schema of its value, for every option and argument of the command."""
    return {key_of(p): _type_schema(p) for p in command.params if p.name not in _SKIPPED}


# Options both commands have that mean something of their own in each (fuzz's --url is an API's base, replay's the
# server root; two reports into one file; a dry run of one): a [run] table holding them would mislead, so it may not.
PER_COMMAND = frozenset({"url", "junit", "report", "dry-run"})


def shared_schema(commands: Mapping[str, click.Command]) -> dict[str, dict[str, Any]]:
    """The keys a [run] table takes: options of every command, alike in type, and alike in meaning."""
    schemas = [command_schema(c) for c in commands.values()]
    return {k: v for k, v in schemas[0].items() if k not in PER_COMMAND and all(s.get(k) == v for s in schemas[1:])}


def find_config(start: Path) -> Path | None:
    """pruefstand.toml, else a pyproject.toml with a [tool.pruefstand] table, in `start` or a parent folder up to
    the repository's root (the folder with .git), as Schemathesis looks for schemathesis.toml. A pruefstand.toml
    without run tables (serve's alone) gives no defaults and stops nothing."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "pruefstand" in _read(pyproject).get("tool", {}):
            return pyproject
        if (folder / ".git").exists():
            return None
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise SettingsRefused(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsRefused(f"{path}: not TOML ({exc})") from exc


def table_of(path: Path) -> dict[str, Any]:
    """The run tables ([run], [fuzz], [replay]); in pyproject.toml under [tool.pruefstand], where nothing else may
    stand (in pruefstand.toml the other keys are serve's)."""
    data = _read(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("pruefstand")
        if not isinstance(data, dict):
            raise SettingsRefused(f"{path}: no [tool.pruefstand] table")
        for key in data:
            if key not in RUN_TABLES:
                raise SettingsRefused(
                    f"{path}: tool.pruefstand.{key}: unknown key; expected a table [tool.pruefstand.run], .fuzz or "
                    ".replay"
                )
    for key in RUN_TABLES:
        if key in data and not isinstance(data[key], dict):
            raise SettingsRefused(f"{_where(path)}: {key}: expected a table [{key}]")
    return {key: data[key] for key in RUN_TABLES if key in data}


def _where(path: Path) -> str:
    return str(path) + (" [tool.pruefstand]" if path.name == "pyproject.toml" else "")


def defaults_for(command_name: str, commands: Mapping[str, click.Command], path: Path) -> dict[str, Any]:
    """The command's defaults from the file: shared keys, then its own table; resolved (${VAR}, paths) and keyed by
    parameter name (click's default_map). Every table is checked, not only the command's: a typo in [replay] is
    found by the first `fuzz` run."""
    table = table_of(path)
    where = _where(path)
    shared = shared_schema(commands)
    checked: dict[str, dict[str, tuple[str, Any]]] = {}
    for name in RUN_TABLES:
        schema = shared if name == SHARED else command_schema(commands[name])
        what = (
            "an option fuzz and replay share (the others go in [fuzz] or [replay])"
            if name == SHARED
            else f"an option of `pruefstand {name}`"
        )
        checked[name] = {}
        for key, value in table.get(name, {}).items():
            _known(key, schema, where, what, prefix=f"{name}.")
            value = _interpolated(value, f"{where}: {name}.{key}")
            try:
                jsonschema.validate(value, schema[key])
            except jsonschema.ValidationError as exc:
                raise SettingsRefused(f"{where}: {name}.{key}: {exc.message}") from None
            checked[name][key] = (f"{name}.{key}", value)
    params = {key_of(p): p for p in commands[command_name].params}
    merged = {**checked[SHARED], **checked[command_name]}
    return {
        str(params[key].name): _paths_resolved(params[key], value, path.parent) for key, (_, value) in merged.items()
    }


def _known(key: str, schema: Mapping[str, Any], where: str, what: str, prefix: str = "") -> None:
    if key in schema:
        return
    close = difflib.get_close_matches(key, list(schema), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise SettingsRefused(f"{where}: {prefix}{key}: unknown key{hint}; expected {what}")


def _interpolated(value: Any, label: str) -> Any:
    if isinstance(value, list):
        return [_interpolated(v, label) for v in value]
    if not isinstance(value, str):
        return value

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SettingsRefused(f"{label}: ${{{name}}} is not set in the environment")
        return os.environ[name]

    return _ENV.sub(variable, value)


def _paths_resolved(param: click.Parameter, value: Any, base: Path) -> Any:
    if not isinstance(param.type, click.Path):
        return value
    if isinstance(value, list):
        return [str(base / v) for v in value]
    return str(base / value)


def _commands() -> dict[str, click.Command]:
    from pruefstand.mock_server.commands.fuzz import fuzz
    from pruefstand.mock_server.commands.replay import replay

    return {"fuzz": fuzz, "replay": replay}


def config_option(command_name: str) -> Callable[[F], F]:
    """`--config FILE` (default: the file found from the working folder), read before any other option so that its
    values become the command's defaults."""

    def read(ctx: click.Context, param: click.Parameter, value: str | None) -> None:  # noqa: ARG001 (click's signature)
        path = Path(value) if value else find_config(Path.cwd())
        if path is None:
            return
        ctx.default_map = {**(ctx.default_map or {}), **defaults_for(command_name, _commands(), path)}
        ctx.meta[CONFIG_META] = path

    return click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False),
        is_eager=True,
        expose_value=False,
        callback=read,
        help=f"Options from this TOML file (default: ./{CONFIG_FILE} or pyproject.toml [tool.pruefstand]).",
    )


CONFIG_META = "pruefstand.config"
