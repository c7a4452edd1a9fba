"""A scenario as loaded from its file: data, checked against the scenario schema and the contracts it uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    apis: tuple[str, ...]
    steps: tuple[dict[str, Any], ...]
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()


def step_kind(step: dict[str, Any]) -> str:
    """`request`, `mock`, `await_events` or `push_events`."""
    for kind in ("mock", "await_events", "push_events"):
        if kind in step:
            return kind
    return "request"


def step_request(step: dict[str, Any]) -> dict[str, Any]:
    return dict(step[step_kind(step)])
