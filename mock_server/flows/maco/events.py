"""The catalogue of trigger events, read from the contract (`x-maco-event` on each event schema)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts import DispatchingValidator

EVENT_EXTENSION = "x-maco-event"


@dataclass(frozen=True, slots=True)
class PruefiChoice:
    """`value` applies when every `when` entry (dotted path under transaktionsdaten -> value) matches."""

    value: str
    when: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MacoEvent:
    """What the contract says of one event: who sends it, to whom, for which Sparte, which PI, which rule sets."""

    name: str
    role: str
    receivers: tuple[str, ...]
    sparten: tuple[str, ...]
    pruefidentifikator: tuple[PruefiChoice, ...]
    rules: tuple[str, ...]


def event_from_schema(name: str, schema: Mapping[str, Any]) -> MacoEvent:
    meta = schema.get(EVENT_EXTENSION)
    if not isinstance(meta, Mapping):
        raise ValueError(f"event {name}: the schema has no {EVENT_EXTENSION} block")
    choices = tuple(
        PruefiChoice(value=str(c["value"]), when=tuple((str(k), str(v)) for k, v in c.get("when", {}).items()))
        for c in meta.get("pruefidentifikator", [])
    )
    if not choices:
        raise ValueError(f"event {name}: {EVENT_EXTENSION}.pruefidentifikator lists no value")
    return MacoEvent(
        name=name,
        role=str(meta["role"]),
        receivers=tuple(meta.get("receivers", ())),
        sparten=tuple(meta.get("sparten", ())),
        pruefidentifikator=choices,
        rules=tuple(meta.get("rules", ())),
    )


def catalog_from_validator(validator: DispatchingValidator) -> dict[str, MacoEvent]:
    """Every event the trigger contract dispatches to, by eventname."""
    return {name: event_from_schema(name, schema) for name, schema in validator.branches.items()}
