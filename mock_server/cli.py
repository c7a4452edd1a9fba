"""The `pruefstand` command: one group, a subcommand per module in mock_server/commands, each imported only when it
runs (so `pruefstand --help` does not pay for connexion, Schemathesis and the flows)."""

from __future__ import annotations

import importlib

import click

# name: (module, function, one-line help shown by `pruefstand --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": (
        "pruefstand.mock_server.commands.serve",
        "serve",
        "Serve every registered API on one port, admin at /_admin, Swagger UI per API (`example --help` lists them).",
    ),
    "fuzz": ("pruefstand.mock_server.commands.fuzz", "fuzz", "Fuzz an API with Schemathesis against its contract."),
    "replay": (
        "pruefstand.mock_server.commands.replay",
        "replay",
        "Replay scenario files against the mock or a real system.",
    ),
    "scenarios": (
        "pruefstand.mock_server.commands.scenarios",
        "scenarios",
        "List the bundled scenario files, or copy them into a project to adapt.",
    ),
    "listen": (
        "pruefstand.mock_server.commands.listen",
        "listen",
        "Receive what a system sends out (events, callbacks), print and record it.",
    ),
    "proxy": (
        "pruefstand.mock_server.commands.proxy",
        "proxy",
        "Sit between a client and a real implementation, check both directions, record a scenario.",
    ),
    "ready": (
        "pruefstand.mock_server.commands.ready",
        "ready",
        "Wait until a system answers at a URL (between starting it and checking it in CI).",
    ),
    "lint": ("pruefstand.mock_server.commands.lint", "lint", "Check the bundled contracts and scenarios (and PATHS)."),
    "example": (
        "pruefstand.mock_server.commands.example",
        "example",
        "Print a named request example of an operation as JSON.",
    ),
}


class LazyGroup(click.Group):
    """Commands looked up by name and imported on first use; the listing uses the short help above."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 (the signature is the library's)
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002 (the signature is the library's)
        if cmd_name not in COMMANDS:
            return None
        module, function, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), function)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:  # noqa: ARG002 (the signature is the library's)
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pruefstand")
def main() -> None:
    """pruefstand: stateful mocks, scenario replay and contract fuzzing for German energy and telecom APIs."""
