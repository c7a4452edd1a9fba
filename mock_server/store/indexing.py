"""Indexed fields: which values of a document the store keeps in its index table, so that `find` by them runs in the
database (SQLite or PostgreSQL) and costs what the page costs, not what the sandbox holds. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Index:
    """`field` is the name `find(where=…)` uses; `path` a dotted path into the document (lists are walked, so
    `relatedParty.id` indexes every party's id); `instant` values are date-times, kept as UTC instants so that
    the same moment in any offset form compares equal and ranges compare in time; `numeric` values are non-negative
    numbers, kept as fixed-width text so that ranges compare by value (`number_key`)."""

    kind: str
    field: str
    path: str
    instant: bool = False
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class Range:
    """A range condition on an indexed field (bounds already normalised, e.g. with `instant_key`)."""

    gt: str | None = None
    gte: str | None = None
    lt: str | None = None
    lte: str | None = None

    def bounds(self) -> Iterator[tuple[str, str]]:
        for op, sql in (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
            value = getattr(self, op)
            if value is not None:
                yield sql, value


Condition = str | Sequence[str] | Range
"""Equality (one value), any of several values, or a range."""


def instant_key(text: str) -> str | None:
    """A date-time as a fixed-width UTC text that sorts in time order; None when it is not a date-time with an
    offset (a date alone counts as midnight UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        if len(text.strip()) != 10:  # a bare date is a day; a date-time without offset is ambiguous
            return None
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def number_key(value: float) -> str:
    """A non-negative number as fixed-width text that sorts by value (a numeric index's values and range bounds)."""
    return f"{value:024.6f}"


def index_values(doc: Mapping[str, Any], index: Index) -> set[str]:
    """Every scalar value at the index's path, as text (normalised to an instant key where it is one)."""
    found: set[str] = set()
    for value in _values_at(doc, tuple(index.path.split("."))):
        if value is None or isinstance(value, Mapping | list):
            continue
        if index.numeric:
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                found.add(number_key(float(value)))
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if index.instant:
            key = instant_key(text)
            if key is None:
                continue
            text = key
        found.add(text)
    return found


def by_kind(indexes: Iterable[Index]) -> dict[str, dict[str, Index]]:
    grouped: dict[str, dict[str, Index]] = {}
    for index in indexes:
        grouped.setdefault(index.kind, {})[index.field] = index
    return grouped


def signature(indexes: Mapping[str, Index]) -> str:
    """What a kind's index rows were built from; a change means they are built again."""
    return ";".join(
        f"{i.field}={i.path}{'@' if i.instant else ''}{'#' if i.numeric else ''}"
        for i in sorted(indexes.values(), key=str)
    )


def _values_at(node: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if isinstance(node, list):
        for item in node:
            yield from _values_at(item, path)
        return
    if not path:
        yield node
    elif isinstance(node, Mapping) and path[0] in node:
        yield from _values_at(node[path[0]], path[1:])
