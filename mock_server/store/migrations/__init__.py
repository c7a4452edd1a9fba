"""Versioned schema: numbered SQL files per engine (`sqlite/0001_….sql`, `postgresql/0001_….sql`), each applied once,
in order, in one transaction with its row in `schema_migrations`. A new file is a new version; files are never edited
once released."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def migrations(engine: str) -> list[Migration]:
    """The engine's migrations, oldest first."""
    found = []
    for entry in resources.files(__package__).joinpath(engine).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, _statements(entry.read_text(encoding="utf-8"))))
    return sorted(found, key=lambda m: m.version)


def _statements(script: str) -> tuple[str, ...]:
    """The file's statements (`;` at the end of a line ends one; comments are dropped)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return tuple(s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE) if s.strip())
