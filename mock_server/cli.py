"""The `pruefstand` command: one group, a subcommand per module in mock_server/commands."""

from __future__ import annotations

import click

from mock_server.commands.fuzz import fuzz
from mock_server.commands.lint import example, lint
from mock_server.commands.replay import replay
from mock_server.commands.serve import serve


@click.group()
@click.version_option(package_name="pruefstand")
def main() -> None:
    """pruefstand: stateful mocks, scenario replay and contract fuzzing for German energy and telecom APIs."""


for command in (serve, fuzz, replay, lint, example):
    main.add_command(command)
