"""What an operation handler returns to connexion: (body, status, headers)."""

from __future__ import annotations

from typing import Any

Answer = tuple[Any, int, dict[str, str]]


def json_answer(body: Any, status: int = 200) -> Answer:
    """A JSON answer that names its content type (operations that document problem+json beside JSON need it)."""
    return body, status, {"Content-Type": "application/json"}
