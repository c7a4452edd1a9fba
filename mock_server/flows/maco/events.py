"""The catalogue of trigger events, read from the contract (`x-maco-event` on each event schema)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pruefstand.contracts import DispatchingValidator

EVENT_EXTENSION = "x-maco-event"


@dataclass(frozen=True, slots=True)
class PruefiChoice:
    """`value` applies when every `when` entry (dotted path under transaktionsdaten -> value) matches."""

    value: str
    when: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MacoEvent:
    """What the contract says of one event: who sends it, to whom, for which Sparte (read from the schema's enums),
    which Prüfidentifikator and which rule sets (from its `x-maco-event` block)."""

    name: str
    role: str
    receivers: tuple[str, ...]
    sparten: tuple[str, ...]
    pruefidentifikator: tuple[PruefiChoice, ...]
    rules: tuple[str, ...]


def enum_at(schema: Any, path: tuple[str, ...]) -> tuple[str, ...]:
    """The values an `enum` allows at a property path, looking through `allOf` parts (the narrowest one wins)."""
    if not isinstance(schema, Mapping):
        return ()
    parts = [schema, *schema.get("allOf", [])]
    if not path:
        enums = [tuple(map(str, p["enum"])) for p in parts if isinstance(p, Mapping) and "enum" in p]
        return min(enums, key=len) if enums else ()
    found = [enum_at(p.get("properties", {}).get(path[0]), path[1:]) for p in parts if isinstance(p, Mapping)]
    found = [f for f in found if f]
    return min(found, key=len) if found else ()


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
        role=_single(name, enum_at(schema, ("transaktionsdaten", "absender", "marktrolle"))),
        receivers=enum_at(schema, ("transaktionsdaten", "empfaenger", "marktrolle")),
        sparten=enum_at(schema, ("transaktionsdaten", "sparte")),
        pruefidentifikator=choices,
        rules=tuple(meta.get("rules", ())),
    )


def _single(name: str, values: tuple[str, ...]) -> str:
    if len(values) != 1:
        raise ValueError(
            f"event {name}: transaktionsdaten.absender.marktrolle must allow exactly one role, not {values}"
        )
    return values[0]


def catalog_from_validator(validator: DispatchingValidator) -> dict[str, MacoEvent]:
    """Every event the trigger contract dispatches to, by eventname."""
    return {name: event_from_schema(name, schema) for name, schema in validator.branches.items()}
