"""A click choice read from the flow registry when the command runs (not when its module is imported), so flows
registered with PRUEFSTAND_FLOWS are offered too."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click


class RegistryChoice(click.Choice):  # type: ignore[type-arg]
    def __init__(self, names: Callable[[], Iterable[str]]) -> None:
        self._names = names
        super().__init__([])

    @property  # type: ignore[override]
    def choices(self) -> Sequence[Any]:
        return tuple(self._names())

    @choices.setter
    def choices(self, _value: Sequence[Any]) -> None:
        """click sets the choices in its constructor; they are read from the registry instead."""
