"""TMF630 REST conventions for collection and resource reads: attribute selection (`fields=`), attribute filters
(exact match on dotted paths, `a,b` for either value, `.gt/.gte/.lt/.lte` on dates and numbers, several ANDed) and
paging. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mock_server.store.indexing import Condition, Index, Range, instant_key

RESERVED = frozenset({"fields", "offset", "limit", "sort"})
ALWAYS_KEPT = ("id", "href")
_OPERATORS = {"gt", "gte", "lt", "lte"}


@dataclass(frozen=True, slots=True)
class Filter:
    path: tuple[str, ...]
    op: str  # eq, gt, gte, lt, lte
    value: str


def select_fields(resource: Mapping[str, Any], fields: str | None) -> dict[str, Any]:
    """Only the named first-level attributes (id and href always); everything when `fields` is empty."""
    if not fields:
        return dict(resource)
    wanted = {name.strip() for name in fields.split(",") if name.strip()} | set(ALWAYS_KEPT)
    return {key: value for key, value in resource.items() if key in wanted}


def parse_filters(query: Mapping[str, str]) -> list[Filter]:
    """`relatedParty.id=500011`, `orderDate.gte=2022-05-01T00:00:00Z`; reserved parameters are not filters."""
    filters = []
    for key, value in query.items():
        if key in RESERVED:
            continue
        parts = tuple(key.split("."))
        if len(parts) > 1 and parts[-1] in _OPERATORS:
            filters.append(Filter(parts[:-1], parts[-1], value))
        else:
            filters.append(Filter(parts, "eq", value))
    return filters


def split_filters(filters: Sequence[Filter], indexed: Mapping[str, Index]) -> tuple[dict[str, Condition], list[Filter]]:
    """The filters the database can answer through the index (equality, either value, and ranges on instants),
    as `find` conditions, and the rest, checked in Python on what the database returned."""
    where: dict[str, Condition] = {}
    rest: list[Filter] = []
    for f in filters:
        index = indexed.get(".".join(f.path))
        condition = _condition(f, index) if index is not None and index.field not in where else None
        if condition is None:
            rest.append(f)
        else:
            where[index.field] = condition  # type: ignore[union-attr]
    return where, rest


def _condition(f: Filter, index: Index) -> Condition | None:
    values = f.value.split(",")
    if index.instant:
        keys = [instant_key(v) for v in values]
        if any(k is None for k in keys):
            return None
        if f.op == "eq":
            return [k for k in keys if k is not None]
        return Range(**{f.op: keys[0]}) if len(keys) == 1 else None
    return values if f.op == "eq" else None


def matches(resource: Mapping[str, Any], filters: Iterable[Filter]) -> bool:
    """Whether every filter holds; a path through a list holds when any element holds."""
    return all(any(_compare(found, f.op, f.value) for found in _values_at(resource, f.path)) for f in filters)


def page(items: Sequence[Any], offset: int | None, limit: int | None) -> tuple[list[Any], int]:
    """The requested slice and the total count (for X-Total-Count; X-Result-Count is the slice's length)."""
    start = max(offset or 0, 0)
    end = len(items) if limit is None else start + max(limit, 0)
    return list(items[start:end]), len(items)


def _values_at(node: Any, path: tuple[str, ...]) -> Iterable[Any]:
    if not path:
        yield from (node if isinstance(node, list) else [node])
        return
    if isinstance(node, list):
        for item in node:
            yield from _values_at(item, path)
    elif isinstance(node, Mapping) and path[0] in node:
        yield from _values_at(node[path[0]], path[1:])


def _compare(found: Any, op: str, wanted: str) -> bool:
    if op == "eq":  # TMF630: `attr=v1,v2` is v1 OR v2
        return _text(found) in wanted.split(",")
    left, right = _ordered(found), _ordered(wanted)
    if isinstance(left, datetime) and isinstance(right, datetime):
        return _holds(op, (left - right).total_seconds())
    if isinstance(left, float) and isinstance(right, float):
        return _holds(op, left - right)
    return False


def _holds(op: str, difference: float) -> bool:
    return {"gt": difference > 0, "gte": difference >= 0, "lt": difference < 0, "lte": difference <= 0}[op]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ordered(value: Any) -> datetime | float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else None
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None
