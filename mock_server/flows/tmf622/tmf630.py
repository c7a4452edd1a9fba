"""TMF630 REST conventions for collection and resource reads: attribute selection (`fields=`, dotted paths too),
attribute filters (exact match on dotted paths, `a,b` for either value, `.gt/.gte/.lt/.lte` on dates and numbers,
several ANDed; dates compare as instants), `sort=` (`-` for descending) and paging (206 when a page is partial).
Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pruefstand.contracts import Violation
from pruefstand.mock_server.store.indexing import Condition, Index, Range, instant_key

RESERVED = frozenset({"fields", "offset", "limit", "sort"})
ALWAYS_KEPT = ("id", "href")
_OPERATORS = {"gt", "gte", "lt", "lte"}


@dataclass(frozen=True, slots=True)
class Filter:
    path: tuple[str, ...]
    op: str  # eq, gt, gte, lt, lte
    value: str


def select_fields(
    resource: Mapping[str, Any], fields: str | None, kept: tuple[str, ...] = ALWAYS_KEPT
) -> dict[str, Any]:
    """Only the named attributes (`kept` always: id and href; TMF v5 adds @type, which its schemas require); a
    dotted name keeps that part of its first-level attribute (`productOrderItem.action` keeps each item's action,
    and its id); everything when `fields` is empty."""
    if not fields:
        return dict(resource)
    wanted = [name.strip() for name in fields.split(",") if name.strip()] + list(kept)
    selected: dict[str, Any] = {}
    for name in wanted:
        head, _, rest = name.partition(".")
        if head not in resource:
            continue
        if not rest or (head in selected and not isinstance(selected[head], dict | list)):
            selected[head] = resource[head]
        else:
            selected[head] = _merge(selected.get(head), _project(resource[head], rest.split(".")))
    return {key: selected[key] for key in resource if key in selected}


def _project(node: Any, path: list[str]) -> Any:
    """The part of `node` at `path`; a nested object keeps its `id`, as the resource keeps id and href."""
    if isinstance(node, list):
        return [_project(item, path) for item in node]
    if not path or not isinstance(node, Mapping):
        return node
    kept = {"id": node["id"]} if "id" in node else {}
    return {**kept, path[0]: _project(node[path[0]], path[1:])} if path[0] in node else kept


def _merge(left: Any, right: Any) -> Any:
    if isinstance(left, dict) and isinstance(right, dict):
        return {**left, **{k: _merge(left.get(k), v) for k, v in right.items()}}
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [_merge(a, b) for a, b in zip(left, right, strict=True)]
    return right if left is None else left


_PLUS_AS_SPACE = re.compile(r" (\d{2}:?\d{2})$")


def restored_plus(value: str) -> str:
    """A date-time whose `+01:00` offset arrived as ` 01:00` (an unencoded `+` in a query string) gets its `+`."""
    return _PLUS_AS_SPACE.sub(r"+\1", value.strip()) if " " in value else value


def filter_violations(filters: Sequence[Filter], known: set[str], instants: set[str]) -> list[Violation]:
    """What is wrong with the filters: an attribute the resource does not have, a date that is none, an order
    comparison on a value that is neither a date-time nor a number."""
    found = []
    for f in filters:
        name = ".".join(f.path)
        parameter = f"query parameter {name}{'' if f.op == 'eq' else '.' + f.op}"
        if f.path[0] not in known:
            found.append(Violation(parameter, f"{f.path[0]!r} is not an attribute of this resource"))
        elif name in instants and any(instant_key(restored_plus(v)) is None for v in f.value.split(",")):
            found.append(Violation(parameter, f"{f.value!r} is not a date-time with an offset (RFC 3339)"))
        elif f.op != "eq" and _ordered(f.value) is None:
            found.append(Violation(parameter, f"{f.value!r} is neither a date-time nor a number"))
    return found


def sort_violations(sort: str | None, known: set[str]) -> list[Violation]:
    return [
        Violation("query parameter sort", f"{key.lstrip('-+')!r} is not an attribute of this resource")
        for key in (sort or "").split(",")
        if key.strip() and key.strip().lstrip("-+").split(".")[0] not in known
    ]


def sorted_by(items: Sequence[Mapping[str, Any]], sort: str | None) -> list[Mapping[str, Any]]:
    """`sort=state,-orderDate`: by each named attribute in turn, `-` descending; dates as instants, numbers as
    numbers; items without the attribute last."""
    result = list(items)
    for key in reversed([k.strip() for k in (sort or "").split(",") if k.strip()]):
        descending = key.startswith("-")
        path = tuple(key.lstrip("-+").split("."))
        present = [i for i in result if next(iter(_values_at(i, path)), None) is not None]
        absent = [i for i in result if next(iter(_values_at(i, path)), None) is None]
        present.sort(key=lambda i: _sort_key(next(iter(_values_at(i, path)))), reverse=descending)
        result = present + absent
    return result


def _sort_key(value: Any) -> tuple[int, Any]:
    ordered = _ordered(value)
    if isinstance(ordered, datetime):
        return (0, ordered.timestamp())
    if isinstance(ordered, float):
        return (0, ordered)
    return (1, str(value))


def schema_attributes(schema: Mapping[str, Any]) -> set[str]:
    """The first-level attribute names a (resolved) schema declares, through allOf/anyOf/oneOf."""
    names = set(schema.get("properties", {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, ()):
            names |= schema_attributes(part)
    return names


def content_range(offset: int, shown: int, total: int) -> dict[str, str]:
    """TMF630 paging headers; `Content-Range: items 0-9/42` when the page is partial."""
    headers = {"X-Total-Count": str(total), "X-Result-Count": str(shown)}
    if shown < total:
        last = offset + shown - 1
        headers["Content-Range"] = f"items {offset}-{last}/{total}" if shown else f"items */{total}"
    return headers


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
        keys = [instant_key(restored_plus(v)) for v in values]
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
    if op == "eq":  # TMF630: `attr=v1,v2` is v1 OR v2; a date-time matches the same instant in any offset form
        values = wanted.split(",")
        if _text(found) in values:
            return True
        moment = instant_key(_text(found)) if isinstance(found, str) and len(found) > 10 else None
        return moment is not None and moment in {instant_key(restored_plus(v)) for v in values}
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
