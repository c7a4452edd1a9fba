"""What the checking commands share at their edges: URLs checked before any work starts, report files written into
folders that may not exist yet."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click

# In-process replay repeats itself: identifiers from this seed, every sandbox's clock standing here until moved.
DEFAULT_SEED = "pruefstand"
DEFAULT_CLOCK_START = "2026-01-01T08:00:00Z"


def checked_url(value: str | None, option: str) -> str | None:
    """An http(s) URL with a host, or a one-line usage error naming the option (before any work starts)."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a port that is no number)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a URL ({exc})", param_hint=option) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{value!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:8080", param_hint=option
        )
    return value


def writable(path: Path | None, option: str) -> Path | None:
    """A report path whose folder exists (created now) and can be written, checked before the run, not after it."""
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise click.BadParameter(f"{path}: cannot be written ({exc.strerror or exc})", param_hint=option) from exc
    return path


class SettingsRefused(click.ClickException):
    """A setting with a value it cannot take: one line naming it and where it came from, exit status 2 (a usage
    error, as click gives for a bad option)."""

    exit_code = 2
